package dev.weft.xds.translate;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;

/**
 * The Envoy resources one proxy group gets, with a version per type derived from the content
 * alone, so that every xDS replica computes the same version for the same state without talking
 * to the others, and a type whose content did not change keeps its version (no needless push).
 */
public record ProxyConfig(
    List<Cluster> clusters, String clustersVersion,
    List<ClusterLoadAssignment> endpoints, String endpointsVersion,
    List<Listener> listeners, String listenersVersion,
    List<RouteConfiguration> routes, String routesVersion) {

  public ProxyConfig {
    clusters = List.copyOf(clusters);
    endpoints = List.copyOf(endpoints);
    listeners = List.copyOf(listeners);
    routes = List.copyOf(routes);
  }
}
