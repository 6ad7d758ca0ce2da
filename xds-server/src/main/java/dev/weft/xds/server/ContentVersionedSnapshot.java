package dev.weft.xds.server;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.protobuf.Message;
import dev.weft.xds.translate.ProxyConfig;
import dev.weft.xds.translate.Translation;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A snapshot whose per-resource versions (what delta xDS compares) are the core's content digests.
 * java-control-plane's own {@code Snapshot.create} versions each resource by its protobuf
 * {@code hashCode()}, which differs between JVMs: a delta client reconnecting to another replica,
 * or to a restarted one, would be sent every resource again.
 */
final class ContentVersionedSnapshot extends Snapshot {

  private final SnapshotResources<Cluster> clusters;
  private final SnapshotResources<ClusterLoadAssignment> endpoints;
  private final SnapshotResources<Listener> listeners;
  private final SnapshotResources<RouteConfiguration> routes;
  private final SnapshotResources<Secret> secrets = SnapshotResources.create(List.of(), "");

  /**
   * The snapshot of {@code config}, taking from {@code previous} (may be null) each type whose
   * version is unchanged: the version is a digest of the type's content, so the resources are the
   * same, and a weight edit rebuilds the route configurations' map only, not every type's.
   */
  ContentVersionedSnapshot(ProxyConfig config, ContentVersionedSnapshot previous) {
    clusters = unchangedOr(previous == null ? null : previous.clusters, config, config.clusters(),
        config.clustersVersion(), Cluster::getName, Translation.CLUSTER_TYPE_URL);
    endpoints = unchangedOr(previous == null ? null : previous.endpoints, config, config.endpoints(),
        config.endpointsVersion(), ClusterLoadAssignment::getClusterName, Translation.ENDPOINT_TYPE_URL);
    listeners = unchangedOr(previous == null ? null : previous.listeners, config, config.listeners(),
        config.listenersVersion(), Listener::getName, Translation.LISTENER_TYPE_URL);
    routes = unchangedOr(previous == null ? null : previous.routes, config, config.routes(),
        config.routesVersion(), RouteConfiguration::getName, Translation.ROUTE_TYPE_URL);
  }

  /**
   * The resources built from a list, by the list's identity, held weakly. Groups share lists the
   * translator shares (every config holds the mesh's one list of endpoint assignments), so the ~20
   * distinct configs of a mesh share one endpoints map instead of building 20: an endpoint change
   * then builds, diffs and pushes from one.
   */
  private static final Cache<List<?>, SnapshotResources<?>> BY_LIST = CacheBuilder.newBuilder().weakKeys().build();

  /**
   * {@code previous} when it has {@code typeVersion}, or the resources already built from this very
   * list at this version, else the resources of this type built anew.
   */
  @SuppressWarnings("unchecked")
  private static <T extends Message> SnapshotResources<T> unchangedOr(SnapshotResources<T> previous,
      ProxyConfig config, List<T> resources, String typeVersion, Function<T, String> name, String typeUrl) {
    if (previous != null && previous.version().equals(typeVersion)) {
      return previous;
    }
    SnapshotResources<T> built = (SnapshotResources<T>) BY_LIST.getIfPresent(resources);
    if (built == null || !built.version().equals(typeVersion)) {
      built = resources(config, resources, typeVersion, name, typeUrl);
      BY_LIST.put(resources, built);
    }
    return built;
  }

  private static <T extends Message> SnapshotResources<T> resources(ProxyConfig config, List<T> resources,
      String typeVersion, Function<T, String> name, String typeUrl) {
    List<VersionedResource<T>> versioned = new ArrayList<>(resources.size());
    for (T resource : resources) {
      String version = config.resourceVersion(typeUrl, name.apply(resource));
      if (version == null) {
        throw new IllegalArgumentException("no content version for " + typeUrl + " " + name.apply(resource));
      }
      versioned.add(VersionedResource.create(resource, version));
    }
    return SnapshotResources.create(versioned, typeVersion);
  }

  @Override
  public SnapshotResources<Cluster> clusters() {
    return clusters;
  }

  @Override
  public SnapshotResources<ClusterLoadAssignment> endpoints() {
    return endpoints;
  }

  @Override
  public SnapshotResources<Listener> listeners() {
    return listeners;
  }

  @Override
  public SnapshotResources<RouteConfiguration> routes() {
    return routes;
  }

  @Override
  public SnapshotResources<Secret> secrets() {
    return secrets;
  }

  // The base class and its v3 subclass declare this with wildcards that no single generic return
  // type satisfies in source (both erase to Map), hence the raw type: the maps the accessors hold.
  @Override
  @SuppressWarnings({"rawtypes", "unchecked"})
  public Map versionedResources(Resources.ResourceType type) {
    return switch (type) {
      case CLUSTER -> Collections.unmodifiableMap(clusters.versionedResources());
      case ENDPOINT -> Collections.unmodifiableMap(endpoints.versionedResources());
      case LISTENER -> Collections.unmodifiableMap(listeners.versionedResources());
      case ROUTE -> Collections.unmodifiableMap(routes.versionedResources());
      case SECRET -> Collections.unmodifiableMap(secrets.versionedResources());
    };
  }
}
