package dev.weft.xds.translate;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;
import java.util.Map;

/**
 * The Envoy resources one proxy group gets, with a version per type and one per resource, each
 * derived from the content alone: every xDS replica (and a restarted one) computes the same
 * versions for the same state without talking to the others, a type whose content did not change
 * keeps its version (no needless push), and a delta client that reconnects elsewhere is sent only
 * the resources whose content differs. {@code resourceVersions} maps a type URL to resource name →
 * version.
 */
public record ProxyConfig(
    List<Cluster> clusters, String clustersVersion,
    List<ClusterLoadAssignment> endpoints, String endpointsVersion,
    List<Listener> listeners, String listenersVersion,
    List<RouteConfiguration> routes, String routesVersion,
    Map<String, Map<String, String>> resourceVersions) {

  public ProxyConfig {
    clusters = List.copyOf(clusters);
    endpoints = List.copyOf(endpoints);
    listeners = List.copyOf(listeners);
    routes = List.copyOf(routes);
    resourceVersions = Map.copyOf(resourceVersions);
  }

  /** A config whose per-resource versions are computed here, from the content. */
  public ProxyConfig(
      List<Cluster> clusters, String clustersVersion,
      List<ClusterLoadAssignment> endpoints, String endpointsVersion,
      List<Listener> listeners, String listenersVersion,
      List<RouteConfiguration> routes, String routesVersion) {
    this(clusters, clustersVersion, endpoints, endpointsVersion, listeners, listenersVersion, routes, routesVersion,
        versionsOf(new ContentVersion(), clusters, endpoints, listeners, routes));
  }

  /** The version of the resource of this type and name, or null when the config has none by that name. */
  public String resourceVersion(String typeUrl, String name) {
    return resourceVersions.getOrDefault(typeUrl, Map.of()).get(name);
  }

  static Map<String, Map<String, String>> versionsOf(ContentVersion versions, List<Cluster> clusters,
      List<ClusterLoadAssignment> endpoints, List<Listener> listeners, List<RouteConfiguration> routes) {
    return Map.of(
        Translation.CLUSTER_TYPE_URL, versions.byName(clusters, Cluster::getName),
        Translation.ENDPOINT_TYPE_URL, versions.byName(endpoints, ClusterLoadAssignment::getClusterName),
        Translation.LISTENER_TYPE_URL, versions.byName(listeners, Listener::getName),
        Translation.ROUTE_TYPE_URL, versions.byName(routes, RouteConfiguration::getName));
  }
}
