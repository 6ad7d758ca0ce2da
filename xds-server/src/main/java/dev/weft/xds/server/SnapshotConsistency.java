package dev.weft.xds.server;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.controlplane.cache.SnapshotConsistencyException;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The consistency rule a snapshot must pass before it is served.
 *
 * <p>It is the rule of {@link Snapshot#ensureConsistent()} (every EDS cluster has exactly one
 * assignment and every RDS name a route configuration, with nothing left over), done again because
 * upstream's (java-control-plane 1.0.49) falls short: it finds RDS names only under the filter name
 * {@code envoy.http_connection_manager}, deprecated long ago, so it refuses every config that uses
 * the current name; and it looks neither into a proxyless client's {@code api_listener} nor a
 * default filter chain. Here the connection manager is recognised by its type, those places are
 * followed, and every cluster a route or TCP proxy names must exist too (Envoy would accept a
 * missing one and answer 503).
 */
final class SnapshotConsistency {

  private static final String HCM_TYPE = "type.googleapis.com/"
      + HttpConnectionManager.getDescriptor().getFullName();
  private static final String TCP_PROXY_TYPE = "type.googleapis.com/"
      + TcpProxy.getDescriptor().getFullName();

  private SnapshotConsistency() {}

  static void check(Snapshot snapshot) throws SnapshotConsistencyException {
    Set<String> edsNames = new TreeSet<>();
    for (Cluster cluster : snapshot.clusters().resources().values()) {
      if (cluster.getType() == Cluster.DiscoveryType.EDS) {
        String serviceName = cluster.getEdsClusterConfig().getServiceName();
        edsNames.add(serviceName.isEmpty() ? cluster.getName() : serviceName);
      }
    }
    sameNames("cluster", "endpoint assignment (ClusterLoadAssignment)", edsNames,
        snapshot.endpoints().resources().keySet());

    Set<String> rdsNames = new TreeSet<>();
    Set<String> tcpClusters = new TreeSet<>();
    for (Listener listener : snapshot.listeners().resources().values()) {
      List<FilterChain> chains = new ArrayList<>(listener.getFilterChainsList());
      if (listener.hasDefaultFilterChain()) {
        chains.add(listener.getDefaultFilterChain());
      }
      for (FilterChain chain : chains) {
        for (Filter filter : chain.getFiltersList()) {
          collect(listener.getName(), filter.getTypedConfig(), rdsNames, tcpClusters);
        }
      }
      if (listener.hasApiListener()) {
        collect(listener.getName(), listener.getApiListener().getApiListener(), rdsNames, tcpClusters);
      }
    }
    sameNames("listener", "route configuration", rdsNames, snapshot.routes().resources().keySet());

    Set<String> clusters = snapshot.clusters().resources().keySet();
    for (String name : tcpClusters) {
      if (!clusters.contains(name)) {
        throw new SnapshotConsistencyException("a TCP proxy names cluster '" + name + "', which is not in the snapshot");
      }
    }
    for (RouteConfiguration routes : snapshot.routes().resources().values()) {
      for (VirtualHost host : routes.getVirtualHostsList()) {
        for (Route route : host.getRoutesList()) {
          for (String name : clustersOf(route)) {
            if (!clusters.contains(name)) {
              throw new SnapshotConsistencyException("route configuration '" + routes.getName() + "', virtual host '"
                  + host.getName() + "' routes to cluster '" + name + "', which is not in the snapshot");
            }
          }
        }
      }
    }
  }

  private static void collect(String listener, Any config, Set<String> rdsNames, Set<String> tcpClusters)
      throws SnapshotConsistencyException {
    try {
      if (config.getTypeUrl().equals(HCM_TYPE)) {
        HttpConnectionManager hcm = config.unpack(HttpConnectionManager.class);
        if (hcm.hasRds()) {
          rdsNames.add(hcm.getRds().getRouteConfigName());
        }
      } else if (config.getTypeUrl().equals(TCP_PROXY_TYPE)) {
        TcpProxy proxy = config.unpack(TcpProxy.class);
        if (proxy.hasWeightedClusters()) {
          proxy.getWeightedClusters().getClustersList().forEach(c -> tcpClusters.add(c.getName()));
        } else if (!proxy.getCluster().isEmpty()) {
          tcpClusters.add(proxy.getCluster());
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new SnapshotConsistencyException("listener '" + listener + "' carries a " + config.getTypeUrl()
          + " that does not parse: " + e.getMessage());
    }
  }

  private static List<String> clustersOf(Route route) {
    if (!route.hasRoute()) {
      return List.of();
    }
    var action = route.getRoute();
    if (action.hasWeightedClusters()) {
      return action.getWeightedClusters().getClustersList().stream().map(WeightedCluster.ClusterWeight::getName).toList();
    }
    return action.getCluster().isEmpty() ? List.of() : List.of(action.getCluster());
  }

  private static void sameNames(String parent, String child, Set<String> referenced, Set<String> present)
      throws SnapshotConsistencyException {
    for (String name : referenced) {
      if (!present.contains(name)) {
        throw new SnapshotConsistencyException("a " + parent + " refers to " + child + " '" + name
            + "', which is not in the snapshot");
      }
    }
    for (String name : present) {
      if (!referenced.contains(name)) {
        throw new SnapshotConsistencyException(child + " '" + name + "' is not referred to by any " + parent
            + "; upstream's ensureConsistent refuses leftovers, and so do we");
      }
    }
  }
}
