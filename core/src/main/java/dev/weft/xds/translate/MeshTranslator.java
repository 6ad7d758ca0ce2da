package dev.weft.xds.translate;

import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.SourceRef;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The whole translation: a mesh state and the proxy groups that need config in, a
 * {@link ProxyConfig} per group and the rejected user configuration out.
 *
 * <p>The shared part is built once per call: clusters and endpoint assignments (the same for every
 * group), the traffic plan (splits and VirtualServices, checked once), the sidecar route
 * configuration per client namespace, and the proxyless listeners and routes. Per group only
 * what depends on it is added: a sidecar's inbound clusters and listeners and the outbound
 * listener on its address. Groups whose config would be equal (they differ only in service
 * account) share one {@link ProxyConfig} instance.
 *
 * <p>Each group's config is consistent on its own: every cluster a route or TCP proxy names is in
 * it, every EDS cluster has its assignment (possibly empty) and no assignment is left over, every
 * RDS name a listener uses has its route configuration and no route configuration is left over
 * (java-control-plane refuses leftovers), and no name or domain appears twice.
 */
public final class MeshTranslator {

  private final ClusterTranslator clusterTranslator = new ClusterTranslator();
  private final EndpointTranslator endpointTranslator = new EndpointTranslator();

  /** Translates {@code state} for each of {@code groups}; pure, so equal input gives equal output. */
  public Translation translate(MeshState state, Collection<ProxyGroup> groups) {
    TrafficPlan plan = TrafficPlan.of(state);
    Shared shared = new Shared(
        clusterTranslator.outbound(state),
        endpointTranslator.translate(state),
        new RouteTranslator(state, plan),
        new ListenerTranslator(state, plan),
        new ContentVersion());
    List<Rejection> rejections = new ArrayList<>(plan.rejections());
    rejections.addAll(shared.listeners.rejections());

    Map<String, ProxyConfig> byContent = new HashMap<>();
    Map<ProxyGroup, ProxyConfig> configs = new LinkedHashMap<>();
    for (ProxyGroup group : new TreeSet<>(groups)) {
      if (group.kind() == ProxyGroup.Kind.PROXYLESS_GRPC) {
        configs.put(group, byContent.computeIfAbsent("proxyless", k -> proxyless(shared)));
        continue;
      }
      rejections.addAll(appPortRejections(group));
      boolean bindable = IpLiteral.isValid(group.inboundAddress());
      if (!bindable) {
        rejections.add(new Rejection(groupRef(group), "inboundAddress: '" + group.inboundAddress() + "' is not an "
            + "IP address, so the sidecar's listeners cannot be bound; it gets clusters and endpoints only until "
            + "its pod has an IP address"));
      }
      String key = "sidecar|" + group.namespace() + "|" + group.inboundAddress() + "|" + group.appPorts();
      configs.put(group, byContent.computeIfAbsent(key, k -> sidecar(shared, group, bindable)));
    }
    return new Translation(configs, rejections.stream().distinct().sorted().toList());
  }

  private ProxyConfig sidecar(Shared shared, ProxyGroup group, boolean bindable) {
    // Still sorted by name: every "inbound|" name sorts before every "outbound|" one.
    List<Cluster> clusters = new ArrayList<>(
        clusterTranslator.inbound(ListenerTranslator.proxiedAppPorts(group)));
    clusters.addAll(shared.clusters);
    List<Listener> listeners = new ArrayList<>();
    List<RouteConfiguration> routes = new ArrayList<>();
    if (bindable) {
      RouteConfiguration outboundRoutes = shared.outboundRoutes(group.namespace());
      listeners.addAll(shared.listeners.inbound(group));
      listeners.add(shared.outboundListener(group.inboundAddress(), outboundRoutes.getName()));
      listeners.sort(Comparator.comparing(Listener::getName));
      routes.add(outboundRoutes);
    }
    return shared.config(clusters, listeners, routes);
  }

  private static ProxyConfig proxyless(Shared shared) {
    return shared.config(shared.clusters, shared.listeners.proxyless(), shared.routes.proxyless());
  }

  private static List<Rejection> appPortRejections(ProxyGroup group) {
    List<Integer> kept = ListenerTranslator.proxiedAppPorts(group);
    List<Rejection> rejections = new ArrayList<>();
    for (int port : group.appPorts()) {
      if (!kept.contains(port)) {
        rejections.add(new Rejection(groupRef(group), "appPorts: " + port + (port < 1 || port > 65535
            ? " is not a port number" : " is a sidecar port (15000, 15001, 15006, 15090)")
            + ", so inbound traffic to it is not proxied; move the application to another port"));
      }
    }
    return rejections;
  }

  /** Proxy groups are not user resources; the reference names the group for the status report. */
  private static SourceRef groupRef(ProxyGroup group) {
    return new SourceRef("ProxyGroup", group.namespace(), group.serviceAccount(), 0, "");
  }

  /** What every group's config is built from, computed once per translation. */
  private static final class Shared {

    final List<Cluster> clusters;
    final List<ClusterLoadAssignment> endpoints;
    final RouteTranslator routes;
    final ListenerTranslator listeners;
    final ContentVersion versions;
    final String clustersVersion;
    final String endpointsVersion;
    final Map<String, RouteConfiguration> outboundRoutes = new HashMap<>();
    final Map<String, Listener> outboundListeners = new HashMap<>();

    Shared(List<Cluster> clusters, List<ClusterLoadAssignment> endpoints, RouteTranslator routes,
        ListenerTranslator listeners, ContentVersion versions) {
      this.clusters = clusters;
      this.endpoints = endpoints;
      this.routes = routes;
      this.listeners = listeners;
      this.versions = versions;
      this.clustersVersion = versions.of(clusters);
      this.endpointsVersion = versions.of(endpoints);
    }

    RouteConfiguration outboundRoutes(String namespace) {
      return outboundRoutes.computeIfAbsent(namespace, routes::outbound);
    }

    /** One instance per address and route configuration, so its digest is computed once. */
    Listener outboundListener(String bindAddress, String routeConfigName) {
      return outboundListeners.computeIfAbsent(bindAddress + " " + routeConfigName,
          k -> listeners.outbound(bindAddress, routeConfigName));
    }

    ProxyConfig config(List<Cluster> groupClusters, List<Listener> listeners, List<RouteConfiguration> groupRoutes) {
      String groupClustersVersion = groupClusters == clusters ? clustersVersion : versions.of(groupClusters);
      return new ProxyConfig(
          groupClusters, groupClustersVersion,
          endpoints, endpointsVersion,
          listeners, versions.of(listeners),
          groupRoutes, versions.of(groupRoutes));
    }
  }
}
