package dev.weft.xds.server;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
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
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

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

  /**
   * What a type's resources refer to, by the identity of the resources, held weakly. A snapshot
   * takes an unchanged type's resources from the previous one, and groups with equal configs share
   * them, so a weight edit walks only route configurations, and of those only the ones that changed
   * ({@link #ROUTE_CLUSTERS}; see also {@link #PASSED}): checking 20 distinct configs at 1,000 Services took 18% of a weight
   * edit's server time when every snapshot was walked whole.
   */
  private static final Cache<Object, Set<String>> EDS_NAMES = CacheBuilder.newBuilder().weakKeys().build();
  private static final Cache<Object, ListenerRefs> LISTENER_REFS = CacheBuilder.newBuilder().weakKeys().build();
  /** The clusters one route configuration names, by message identity: most survive an edit unchanged. */
  private static final Cache<RouteConfiguration, Set<String>> ROUTE_CLUSTERS =
      CacheBuilder.newBuilder().weakKeys().build();

  /**
   * The route configurations already found to name only clusters of a cluster set, by the set's
   * identity (held weakly) and theirs: after a weight edit the ~20 distinct configs hold the same
   * unchanged clusters and ~2,000 route configurations all but one of which passed before, so each
   * is one identity lookup, not a lookup in {@link #ROUTE_CLUSTERS} and a walk of its names.
   */
  private static final Cache<Object, Set<RouteConfiguration>> ROUTES_PASSED =
      CacheBuilder.newBuilder().weakKeys().build();

  private record ListenerRefs(Set<String> rdsNames, Set<String> tcpClusters) {}

  /**
   * Pairs of type resources already checked against each other, by identity, held weakly: a weight
   * edit changes the route configurations only, so the clusters were checked against these very
   * endpoint assignments and listeners before, and only the checks that involve routes run again.
   */
  private static final Cache<Object, Cache<Object, Boolean>> PASSED = CacheBuilder.newBuilder().weakKeys().build();

  static void check(Snapshot snapshot) throws SnapshotConsistencyException {
    if (!passed(snapshot.clusters(), snapshot.endpoints())) {
      sameNames("cluster", "endpoint assignment (ClusterLoadAssignment)", edsNames(snapshot),
          snapshot.endpoints().resources().keySet());
      pass(snapshot.clusters(), snapshot.endpoints());
    }
    if (!passed(snapshot.listeners(), snapshot.routes())) {
      sameNames("listener", "route configuration", listenerRefs(snapshot).rdsNames(),
          snapshot.routes().resources().keySet());
      pass(snapshot.listeners(), snapshot.routes());
    }
    Set<String> clusters = snapshot.clusters().resources().keySet();
    if (!passed(snapshot.listeners(), snapshot.clusters())) {
      for (String name : listenerRefs(snapshot).tcpClusters()) {
        if (!clusters.contains(name)) {
          throw new SnapshotConsistencyException("a TCP proxy names cluster '" + name + "', which is not in the snapshot");
        }
      }
      pass(snapshot.listeners(), snapshot.clusters());
    }
    if (!passed(snapshot.routes(), snapshot.clusters())) {
      Set<RouteConfiguration> good = cached(ROUTES_PASSED, snapshot.clusters(),
          () -> Collections.newSetFromMap(new IdentityHashMap<>()));
      synchronized (good) {
        if (good.size() > 2 * snapshot.routes().resources().size() + 64) {
          // Route configurations replaced by edits while the clusters stayed: start over rather than keep them.
          good.clear();
        }
        for (RouteConfiguration routes : snapshot.routes().resources().values()) {
          if (good.contains(routes)) {
            continue;
          }
          for (String name : cached(ROUTE_CLUSTERS, routes, () -> clustersOf(routes))) {
            if (!clusters.contains(name)) {
              throw missingRouteCluster(snapshot, clusters);
            }
          }
          good.add(routes);
        }
      }
      pass(snapshot.routes(), snapshot.clusters());
    }
  }

  private static boolean passed(Object referring, Object referred) {
    Cache<Object, Boolean> with = PASSED.getIfPresent(referring);
    return with != null && with.getIfPresent(referred) != null;
  }

  private static void pass(Object referring, Object referred) {
    cached(PASSED, referring, () -> CacheBuilder.newBuilder().weakKeys().<Object, Boolean>build())
        .put(referred, Boolean.TRUE);
  }

  private static Set<String> edsNames(Snapshot snapshot) {
    return cached(EDS_NAMES, snapshot.clusters(), () -> {
      Set<String> names = new HashSet<>();
      for (Cluster cluster : snapshot.clusters().resources().values()) {
        if (cluster.getType() == Cluster.DiscoveryType.EDS) {
          String serviceName = cluster.getEdsClusterConfig().getServiceName();
          names.add(serviceName.isEmpty() ? cluster.getName() : serviceName);
        }
      }
      return names;
    });
  }

  private static ListenerRefs listenerRefs(Snapshot snapshot) throws SnapshotConsistencyException {
    ListenerRefs known = LISTENER_REFS.getIfPresent(snapshot.listeners());
    if (known != null) {
      return known;
    }
    Set<String> rdsNames = new HashSet<>();
    Set<String> tcpClusters = new HashSet<>();
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
    // A listener that does not parse is refused each time rather than remembered.
    ListenerRefs refs = new ListenerRefs(rdsNames, tcpClusters);
    LISTENER_REFS.put(snapshot.listeners(), refs);
    return refs;
  }

  private static Set<String> clustersOf(RouteConfiguration routes) {
    Set<String> names = new HashSet<>();
    for (VirtualHost host : routes.getVirtualHostsList()) {
      for (Route route : host.getRoutesList()) {
        names.addAll(clustersOf(route));
      }
    }
    return names;
  }

  /** The failure naming where a route names a missing cluster; the slow walk, only when it fails. */
  private static SnapshotConsistencyException missingRouteCluster(Snapshot snapshot, Set<String> clusters) {
    for (RouteConfiguration routes : snapshot.routes().resources().values()) {
      for (VirtualHost host : routes.getVirtualHostsList()) {
        for (Route route : host.getRoutesList()) {
          for (String name : clustersOf(route)) {
            if (!clusters.contains(name)) {
              return new SnapshotConsistencyException("route configuration '" + routes.getName() + "', virtual host '"
                  + host.getName() + "' routes to cluster '" + name + "', which is not in the snapshot");
            }
          }
        }
      }
    }
    return new SnapshotConsistencyException("a route names a cluster that is not in the snapshot");
  }

  private static <K, V> V cached(Cache<K, V> cache, K key, Supplier<V> compute) {
    V value = cache.getIfPresent(key);
    if (value == null) {
      value = compute.get();
      cache.put(key, value);
    }
    return value;
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
