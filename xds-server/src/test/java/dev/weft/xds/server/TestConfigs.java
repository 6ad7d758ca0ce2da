package dev.weft.xds.server;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.xds.translate.ProxyConfig;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.List;
import java.util.Map;

/** Hand-made Envoy resources and nodes, standing in for the translators in these tests. */
final class TestConfigs {

  static final String ROUTES = "outbound-routes";

  private TestConfigs() {}

  /** An EDS cluster per name with its assignment, and an outbound listener on {@code port} routing to the first. */
  static ProxyConfig sidecar(int port, String... clusterNames) {
    List<Cluster> clusters = java.util.Arrays.stream(clusterNames).map(TestConfigs::edsCluster).toList();
    List<ClusterLoadAssignment> endpoints = java.util.Arrays.stream(clusterNames)
        .map(name -> assignment(name, 8080)).toList();
    List<Listener> listeners = List.of(outboundListener(port, ROUTES));
    List<RouteConfiguration> routes = List.of(routeTo(ROUTES, clusterNames[0]));
    return of(clusters, endpoints, listeners, routes);
  }

  /** A config whose versions are derived from its content, as the translators' are. */
  static ProxyConfig of(List<Cluster> clusters, List<ClusterLoadAssignment> endpoints, List<Listener> listeners,
      List<RouteConfiguration> routes) {
    return new ProxyConfig(clusters, version(clusters), endpoints, version(endpoints), listeners, version(listeners),
        routes, version(routes));
  }

  static String version(List<? extends Message> resources) {
    return Integer.toHexString(resources.hashCode());
  }

  static Cluster edsCluster(String name) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
            .setEdsConfig(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())))
        .build();
  }

  static ClusterLoadAssignment assignment(String cluster, int port) {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(cluster)
        .addEndpoints(LocalityLbEndpoints.newBuilder()
            .addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(Endpoint.newBuilder().setAddress(address("127.0.0.1", port)))))
        .build();
  }

  static Listener outboundListener(int port, String routeConfigName) {
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
        .setStatPrefix("outbound")
        .setRds(Rds.newBuilder().setRouteConfigName(routeConfigName)
            .setConfigSource(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())))
        .build();
    return Listener.newBuilder()
        .setName("outbound")
        .setAddress(address("0.0.0.0", port))
        .addFilterChains(FilterChain.newBuilder()
            .addFilters(Filter.newBuilder()
                .setName("envoy.filters.network.http_connection_manager")
                .setTypedConfig(Any.pack(hcm))))
        .build();
  }

  /** A proxyless client's listener: the connection manager sits in the api_listener. */
  static Listener apiListener(String name, String routeConfigName) {
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
        .setRds(Rds.newBuilder().setRouteConfigName(routeConfigName)
            .setConfigSource(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())))
        .build();
    return Listener.newBuilder()
        .setName(name)
        .setApiListener(io.envoyproxy.envoy.config.listener.v3.ApiListener.newBuilder().setApiListener(Any.pack(hcm)))
        .build();
  }

  static RouteConfiguration routeTo(String name, String cluster) {
    return RouteConfiguration.newBuilder()
        .setName(name)
        .addVirtualHosts(VirtualHost.newBuilder()
            .setName(cluster)
            .addDomains("*")
            .addRoutes(Route.newBuilder()
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRoute(RouteAction.newBuilder().setCluster(cluster))))
        .build();
  }

  static Address address(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }

  /** A sidecar's node as the bootstrap writes it. */
  static Node sidecarNode(String pod, String namespace, String serviceAccount, String appPorts) {
    return node(pod + "." + namespace, "envoy", Map.of(
        NodeGroups.NAMESPACE, namespace,
        NodeGroups.SERVICE_ACCOUNT, serviceAccount,
        NodeGroups.APP_PORTS, appPorts));
  }

  static Node node(String id, String userAgent, Map<String, String> metadata) {
    Struct.Builder struct = Struct.newBuilder();
    metadata.forEach((k, v) -> struct.putFields(k, Value.newBuilder().setStringValue(v).build()));
    return Node.newBuilder().setId(id).setUserAgentName(userAgent).setMetadata(struct).build();
  }
}
