package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Over many generated mesh states, every group's config holds together the way Envoy and
 * java-control-plane need it to: every reference resolves, nothing is left over, no name or
 * domain appears twice, and the same state always gives the same config.
 */
class MeshConsistencyTest {

  private static final int STATES = 300;

  private final MeshTranslator translator = new MeshTranslator();

  @Test
  void everyGeneratedStateTranslatesToConsistentConfigs() throws Exception {
    int configs = 0;
    int rejections = 0;
    for (long seed = 1; seed <= STATES; seed++) {
      RandomMeshes meshes = new RandomMeshes(seed);
      MeshState state = meshes.state();
      List<ProxyGroup> groups = meshes.groups(state);

      Translation translation = translator.translate(state, groups);

      assertThat(translation.configs().keySet()).as("seed %d", seed).containsExactlyInAnyOrderElementsOf(groups);
      for (ProxyGroup group : groups) {
        checkConsistent(translation.config(group), group.kind() == ProxyGroup.Kind.PROXYLESS_GRPC,
            "seed " + seed + ", group " + group.id());
        configs++;
      }
      if (seed % 10 == 0) {
        assertThat(translator.translate(state, groups)).as("seed %d translated twice", seed).isEqualTo(translation);
      }
      rejections += translation.rejections().size();
    }
    assertThat(configs).isGreaterThan(STATES * 3);
    // The generator makes mistakes on purpose; they must show up as rejections, not in configs.
    assertThat(rejections).isGreaterThan(STATES / 10);
  }

  static void checkConsistent(ProxyConfig config, boolean proxyless, String where) throws InvalidProtocolBufferException {
    Set<String> clusters = unique(config.clusters().stream().map(Cluster::getName).toList(), "cluster", where);
    Set<String> eds = config.clusters().stream().filter(c -> c.getType() == Cluster.DiscoveryType.EDS)
        .map(c -> c.getEdsClusterConfig().getServiceName()).collect(Collectors.toCollection(TreeSet::new));
    Set<String> assignments = unique(config.endpoints().stream().map(ClusterLoadAssignment::getClusterName).toList(),
        "assignment", where);
    assertThat(assignments).as("%s: assignments match EDS clusters", where).isEqualTo(eds);

    unique(config.listeners().stream().map(Listener::getName).toList(), "listener", where);
    unique(config.listeners().stream().filter(Listener::hasAddress)
        .map(l -> l.getAddress().getSocketAddress().getAddress() + ":"
            + l.getAddress().getSocketAddress().getPortValue())
        .toList(), "listener address", where);
    Set<String> rdsNames = new TreeSet<>();
    Set<String> referenced = new TreeSet<>();
    for (Listener listener : config.listeners()) {
      unique(listener.getFilterChainsList().stream().map(c -> c.getFilterChainMatch().toString()).toList(),
          "filter chain match in " + listener.getName(), where);
      assertThat(listener.getFilterChainsCount() > 0 || listener.hasApiListener())
          .as("%s: listener %s has filter chains", where, listener.getName()).isTrue();
      for (FilterChain chain : listener.getFilterChainsList()) {
        for (Filter filter : chain.getFiltersList()) {
          collect(filter.getTypedConfig(), rdsNames, referenced);
        }
      }
      if (listener.hasApiListener()) {
        collect(listener.getApiListener().getApiListener(), rdsNames, referenced);
      }
    }
    Set<String> routeNames = unique(config.routes().stream().map(RouteConfiguration::getName).toList(),
        "route configuration", where);
    assertThat(routeNames).as("%s: route configurations match RDS names", where).isEqualTo(rdsNames);

    for (RouteConfiguration routes : config.routes()) {
      unique(routes.getVirtualHostsList().stream().map(VirtualHost::getName).toList(), "virtual host", where);
      unique(routes.getVirtualHostsList().stream().flatMap(h -> h.getDomainsList().stream()).toList(),
          "domain in " + routes.getName(), where);
      for (VirtualHost host : routes.getVirtualHostsList()) {
        assertThat(host.getDomainsList()).as("%s: domains of %s", where, host.getName()).isNotEmpty();
        assertThat(host.getRoutesList()).as("%s: routes of %s", where, host.getName()).isNotEmpty();
        Route last = host.getRoutes(host.getRoutesCount() - 1);
        assertThat(last.getMatch().getPrefix()).as("%s: %s ends in a catch-all", where, host.getName()).isEqualTo("/");
        for (Route route : host.getRoutesList()) {
          checkRoute(route, routes.getName(), proxyless, referenced, where);
        }
      }
    }
    assertThat(clusters).as("%s: every referenced cluster exists", where).containsAll(referenced);
    assertThat(List.of(config.clustersVersion(), config.endpointsVersion(), config.listenersVersion(),
        config.routesVersion())).as("%s: versions", where).allSatisfy(v -> assertThat(v).isNotBlank());
  }

  private static void checkRoute(Route route, String routes, boolean proxyless, Set<String> referenced,
      String where) {
    if (route.getRoute().hasWeightedClusters()) {
      List<WeightedCluster.ClusterWeight> weights = route.getRoute().getWeightedClusters().getClustersList();
      assertThat(weights).as("%s: weighted clusters in %s", where, routes).hasSizeGreaterThan(1)
          .allSatisfy(w -> assertThat(w.getWeight().getValue()).isPositive());
      weights.forEach(w -> referenced.add(w.getName()));
    } else {
      assertThat(route.getRoute().getCluster()).as("%s: cluster of a route in %s", where, routes).isNotEmpty();
      referenced.add(route.getRoute().getCluster());
    }
    if (route.getMatch().hasSafeRegex()) {
      assertThat(Re2Syntax.problem(route.getMatch().getSafeRegex().getRegex())).isEmpty();
    }
    if (!proxyless) {
      assertThat(route.getMatch().getPathSpecifierCase()).isNotNull();
    } else {
      // Proxyless gRPC knows prefix, path and safe_regex only.
      assertThat(route.getMatch().hasPathSeparatedPrefix()).as("%s: gRPC route in %s", where, routes).isFalse();
    }
    for (HeaderMatcher header : route.getMatch().getHeadersList()) {
      if (header.getStringMatch().hasSafeRegex()) {
        assertThat(Re2Syntax.problem(header.getStringMatch().getSafeRegex().getRegex())).isEmpty();
      }
      if (header.getStringMatch().hasPrefix()) {
        assertThat(header.getStringMatch().getPrefix()).isNotEmpty();
      }
    }
  }

  private static void collect(Any config, Set<String> rdsNames, Set<String> clusters)
      throws InvalidProtocolBufferException {
    if (config.is(HttpConnectionManager.class)) {
      rdsNames.add(config.unpack(HttpConnectionManager.class).getRds().getRouteConfigName());
    } else if (config.is(TcpProxy.class)) {
      TcpProxy proxy = config.unpack(TcpProxy.class);
      if (proxy.hasWeightedClusters()) {
        proxy.getWeightedClusters().getClustersList().forEach(c -> {
          assertThat(c.getWeight()).isPositive();
          clusters.add(c.getName());
        });
      } else {
        clusters.add(proxy.getCluster());
      }
    }
  }

  private static Set<String> unique(List<String> names, String what, String where) {
    Set<String> seen = new HashSet<>();
    List<String> repeated = new ArrayList<>();
    for (String name : names) {
      if (!seen.add(name)) {
        repeated.add(name);
      }
    }
    assertThat(repeated).as("%s: %s names appear twice", where, what).isEmpty();
    return new TreeSet<>(seen);
  }
}
