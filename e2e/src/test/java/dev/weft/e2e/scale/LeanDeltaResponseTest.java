package dev.weft.e2e.scale;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.CodedInputStream;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import org.junit.jupiter.api.Test;

class LeanDeltaResponseTest {

  @Test
  void readsWhatTheProxyNeedsAndCountsLikeTheParsedMessage() throws Exception {
    Cluster eds = Cluster.newBuilder().setName("outbound|80||web.demo.svc.cluster.local")
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ConfigSource.getDefaultInstance()))
        .build();
    Cluster named = eds.toBuilder().setName("a")
        .setEdsClusterConfig(eds.getEdsClusterConfig().toBuilder().setServiceName("a-endpoints")).build();
    Cluster passthrough = Cluster.newBuilder().setName("passthrough")
        .setType(Cluster.DiscoveryType.ORIGINAL_DST).build();
    // Fields in number order, as the generated serializer writes them (type URL after the resources).
    DeltaDiscoveryResponse clusters = DeltaDiscoveryResponse.newBuilder()
        .setSystemVersionInfo("v1")
        .addResources(resource(eds.getName(), eds))
        .addResources(resource("passthrough", passthrough))
        .addResources(resource("a", named))
        .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster")
        .setNonce("7")
        .addRemovedResources("gone")
        .build();

    LeanDeltaResponse lean = LeanDeltaResponse.read(CodedInputStream.newInstance(clusters.toByteArray()));

    assertThat(lean.typeUrl()).isEqualTo(clusters.getTypeUrl());
    assertThat(lean.version()).isEqualTo("v1");
    assertThat(lean.nonce()).isEqualTo("7");
    assertThat(lean.bytes()).isEqualTo(clusters.getSerializedSize());
    assertThat(lean.resources()).isEqualTo(3);
    assertThat(lean.removed()).isEqualTo(1);
    assertThat(lean.edsNames()).containsExactly("outbound|80||web.demo.svc.cluster.local", "a-endpoints");
    assertThat(lean.routeNames()).isEmpty();
  }

  @Test
  void readsTheRouteNamesOfTheListenersConnectionManagers() throws Exception {
    Listener listener = Listener.newBuilder().setName("virtualOutbound")
        .addFilterChains(chain(HttpConnectionManager.newBuilder()
            .setRds(Rds.newBuilder().setRouteConfigName("web.demo.svc.cluster.local:80")).build()))
        .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder().setName("tcp")
            .setTypedConfig(Any.pack(TcpProxy.newBuilder().setStatPrefix("db").build()))))
        .addFilterChains(chain(HttpConnectionManager.newBuilder()
            .setRouteConfig(RouteConfiguration.newBuilder().setName("inline")).build()))
        .setDefaultFilterChain(chain(HttpConnectionManager.newBuilder()
            .setRds(Rds.newBuilder().setRouteConfigName("80")).build()))
        .build();
    DeltaDiscoveryResponse listeners = DeltaDiscoveryResponse.newBuilder()
        .setTypeUrl("type.googleapis.com/envoy.config.listener.v3.Listener")
        .addResources(resource(listener.getName(), listener))
        .build();

    LeanDeltaResponse lean = LeanDeltaResponse.read(CodedInputStream.newInstance(listeners.toByteArray()));

    assertThat(lean.routeNames()).containsExactly("web.demo.svc.cluster.local:80", "80");
    assertThat(lean.resources()).isEqualTo(1);
    assertThat(lean.bytes()).isEqualTo(listeners.getSerializedSize());
  }

  private static FilterChain chain(HttpConnectionManager manager) {
    return FilterChain.newBuilder()
        .addFilters(Filter.newBuilder().setName("http").setTypedConfig(Any.pack(manager)))
        .build();
  }

  private static Resource resource(String name, com.google.protobuf.Message message) {
    return Resource.newBuilder().setName(name).setVersion("1").setResource(Any.pack(message)).build();
  }
}
