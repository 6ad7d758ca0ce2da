package dev.weft.xds.translate;

import static dev.weft.xds.translate.Meshes.cluster;
import static dev.weft.xds.translate.Meshes.grpc;
import static dev.weft.xds.translate.Meshes.http;
import static dev.weft.xds.translate.Meshes.service;
import static dev.weft.xds.translate.Meshes.sidecar;
import static dev.weft.xds.translate.Meshes.split;
import static dev.weft.xds.translate.Meshes.state;
import static dev.weft.xds.translate.Meshes.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.WeightedService;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import org.junit.jupiter.api.Test;

class ListenerTranslatorTest {

  private static final MeshService DB = service("db", "10.0.0.7", tcp(5432), http(8080));
  private static final MeshService DB_V2 = service("db-v2", "10.0.0.8", tcp(5432));
  private static final MeshService HEADLESS = service("cache", "", tcp(6379));

  private static ListenerTranslator translator(MeshState state) {
    return new ListenerTranslator(state, TrafficPlan.of(state));
  }

  private static TcpProxy tcpProxy(FilterChain chain) throws Exception {
    return chain.getFilters(0).getTypedConfig().unpack(TcpProxy.class);
  }

  @Test
  void routesHttpByHostOnTheOutboundListener() throws Exception {
    Listener outbound = translator(state(DB)).outbound("127.0.0.5", "outbound|shop");

    assertThat(outbound.getName()).isEqualTo("outbound");
    assertThat(outbound.getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.5");
    assertThat(outbound.getAddress().getSocketAddress().getPortValue()).isEqualTo(15001);
    assertThat(outbound.getListenerFiltersList()).extracting(f -> f.getName())
        .containsExactly("envoy.filters.listener.original_dst");
    FilterChain http = outbound.getFilterChains(outbound.getFilterChainsCount() - 1);
    assertThat(http.hasFilterChainMatch()).isFalse();
    HttpConnectionManager hcm = http.getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
    assertThat(hcm).isEqualTo(TextProtos.parse("""
        stat_prefix: "outbound_http"
        codec_type: AUTO
        rds {
          config_source { ads {} resource_api_version: V3 }
          route_config_name: "outbound|shop"
        }
        normalize_path { value: true }
        http_filters {
          name: "envoy.filters.http.router"
          typed_config {
            [type.googleapis.com/envoy.extensions.filters.http.router.v3.Router] {}
          }
        }
        """, HttpConnectionManager.getDefaultInstance()));
  }

  @Test
  void proxiesTcpPortsMatchedByClusterIpAndPort() throws Exception {
    Listener outbound = translator(state(DB, HEADLESS)).outbound("0.0.0.0", "outbound|shop");

    // db's TCP port, db's HTTP port, the catch-alls; the headless Service has no address to match.
    assertThat(outbound.getFilterChainsList()).extracting(FilterChain::getName)
        .containsExactly(cluster("db", 5432), cluster("db", 8080), "passthrough|5432", "http|8080", "loop|15001",
            "passthrough");
    FilterChain db = outbound.getFilterChains(0);
    assertThat(db.getFilterChainMatch()).isEqualTo(TextProtos.parse("""
        destination_port { value: 5432 }
        prefix_ranges { address_prefix: "10.0.0.7" prefix_len { value: 32 } }
        """, FilterChainMatch.getDefaultInstance()));
    assertThat(tcpProxy(db).getCluster()).isEqualTo(cluster("db", 5432));
    assertThat(tcpProxy(db).getStatPrefix()).isEqualTo(cluster("db", 5432));
  }

  @Test
  void routesHttpByDestinationAddressInCaptureMode() throws Exception {
    ListenerTranslator translator = translator(state(DB, service("web", "", http(80))));
    Listener outbound = translator.outbound("0.0.0.0", "outbound|shop");

    // Port 80 is only the headless Service's: it gets a Host-header catch-all of its own.
    assertThat(outbound.getFilterChainsList()).extracting(FilterChain::getName)
        .containsExactly(cluster("db", 5432), cluster("db", 8080), "http|80", "passthrough|5432", "http|8080",
            "loop|15001", "passthrough");
    FilterChain db = outbound.getFilterChains(1);
    assertThat(db.getFilterChainMatch()).isEqualTo(TextProtos.parse("""
        destination_port { value: 8080 }
        prefix_ranges { address_prefix: "10.0.0.7" prefix_len { value: 32 } }
        """, FilterChainMatch.getDefaultInstance()));
    HttpConnectionManager hcm = db.getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("db.shop.svc.cluster.local:8080");
    assertThat(hcm.getNormalizePath().getValue()).isTrue();
    // The headless Service has no address to match: it stays with the Host-header catch-all.
    assertThat(translator.capturedHosts()).containsExactly("db.shop.svc.cluster.local:8080");
    // An unknown address on a port a chain uses still reaches the Host-header catch-all, not a reset.
    FilterChain port8080 = outbound.getFilterChains(4);
    assertThat(port8080.getFilterChainMatch()).isEqualTo(TextProtos.parse("destination_port { value: 8080 }",
        FilterChainMatch.getDefaultInstance()));
    assertThat(port8080.getFilters(0)).isEqualTo(outbound.getFilterChains(2).getFilters(0));
    assertThat(port8080.getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class).getRds()
        .getRouteConfigName()).isEqualTo("outbound|shop");
  }

  @Test
  void passesWhatTheMeshDoesNotKnowThroughToTheOriginalDestinationInCaptureMode() throws Exception {
    ListenerTranslator translator = translator(state(DB));
    Listener outbound = translator.outbound("0.0.0.0", "outbound|shop");

    FilterChain last = outbound.getFilterChains(outbound.getFilterChainsCount() - 1);
    assertThat(last.getName()).isEqualTo("passthrough");
    assertThat(last.hasFilterChainMatch()).isFalse();
    assertThat(tcpProxy(last)).isEqualTo(TextProtos.parse("""
        stat_prefix: "passthrough"
        cluster: "passthrough"
        """, TcpProxy.getDefaultInstance()));
    // A port only TCP Services use: an unknown address on it is passed through as bytes, not parsed as HTTP.
    FilterChain port5432 = outbound.getFilterChains(2);
    assertThat(port5432.getName()).isEqualTo("passthrough|5432");
    assertThat(port5432.getFilterChainMatch()).isEqualTo(TextProtos.parse("destination_port { value: 5432 }",
        FilterChainMatch.getDefaultInstance()));
    assertThat(tcpProxy(port5432).getCluster()).isEqualTo("passthrough");
    assertThat(translator.routesByHost("0.0.0.0")).isTrue();
    assertThat(translator(state(service("ledger", "10.0.0.9", tcp(9000)))).routesByHost("0.0.0.0")).isFalse();
    assertThat(translator(state(service("ledger", "10.0.0.9", tcp(9000)))).routesByHost("127.0.0.5")).isTrue();
  }

  @Test
  void closesConnectionsDialledToTheListenerItselfRatherThanLoop() {
    Listener outbound = translator(state(DB, service("odd", "10.0.0.9", http(15001)))).outbound("0.0.0.0", "outbound|shop");

    // A Service on 15001 keeps its address chain; the port alone belongs to the guard.
    assertThat(outbound.getFilterChainsList()).extracting(FilterChain::getName)
        .containsExactly(cluster("db", 5432), cluster("db", 8080), cluster("odd", 15001), "passthrough|5432",
            "http|8080", "loop|15001", "passthrough");
    FilterChain guard = outbound.getFilterChains(5);
    assertThat(guard.getFilterChainMatch()).isEqualTo(TextProtos.parse("destination_port { value: 15001 }",
        FilterChainMatch.getDefaultInstance()));
    assertThat(guard.getFilters(0).getName()).isEqualTo("envoy.filters.network.direct_response");
  }

  @Test
  void routesHttpByHostOnlyInLocalMode() {
    Listener outbound = translator(state(DB)).outbound("127.0.0.5", "outbound|shop");

    // Applications call a local-mode sidecar itself: the destination address names no Service.
    assertThat(outbound.getFilterChainsList()).extracting(FilterChain::getName)
        .containsExactly(cluster("db", 5432), "http|5432", "http");
  }

  @Test
  void matchesIpv6ClusterIpsWithTheirFullLength() {
    Listener outbound = translator(state(service("v6", "fd00::17", tcp(9000)))).outbound("::", "outbound|shop");

    assertThat(outbound.getFilterChains(0).getFilterChainMatch().getPrefixRanges(0).getPrefixLen().getValue())
        .isEqualTo(128);
  }

  @Test
  void splitsTcpTrafficByWeight() throws Exception {
    MeshState state = state(List.of(DB, DB_V2), List.of(split("migrate", "2026-01-01T00:00:00Z", "db",
        new WeightedService("db", 3), new WeightedService("db-v2", 1))), List.of());

    TcpProxy proxy = tcpProxy(translator(state).outbound("0.0.0.0", "outbound|shop").getFilterChains(0));

    assertThat(proxy.getWeightedClusters().getClustersList()).extracting(c -> c.getName() + "=" + c.getWeight())
        .containsExactly(cluster("db", 5432) + "=3", cluster("db-v2", 5432) + "=1");
  }

  @Test
  void takesRedirectedInboundTrafficOnOneListenerUnderIptables() throws Exception {
    List<Listener> inbound = translator(state(DB)).inbound(sidecar("shop", "db", "0.0.0.0", 8080, 9090));

    assertThat(inbound).singleElement().satisfies(listener -> {
      assertThat(listener.getName()).isEqualTo("inbound");
      assertThat(listener.getAddress().getSocketAddress().getAddress()).isEqualTo("0.0.0.0");
      assertThat(listener.getAddress().getSocketAddress().getPortValue()).isEqualTo(15006);
      assertThat(listener.getListenerFiltersList()).extracting(f -> f.getName())
          .containsExactly("envoy.filters.listener.original_dst");
      // The app ports, every other port (passthrough to the app), and 15006 itself (closed).
      assertThat(listener.getFilterChainsList())
          .extracting(c -> c.getFilterChainMatch().getDestinationPort().getValue())
          .containsExactly(8080, 9090, 0, 15006);
      assertThat(listener.getFilterChainsList()).extracting(FilterChain::getName)
          .containsExactly("inbound|8080", "inbound|9090", "inbound|passthrough", "loop|15006");
    });
    assertThat(tcpProxy(inbound.get(0).getFilterChains(1)).getCluster()).isEqualTo("inbound|9090");
    assertThat(tcpProxy(inbound.get(0).getFilterChains(2))).isEqualTo(TextProtos.parse("""
        stat_prefix: "inbound|passthrough"
        cluster: "inbound|passthrough"
        """, TcpProxy.getDefaultInstance()));
  }

  @Test
  void standsInFrontOfEachAppPortWithoutIptables() throws Exception {
    List<Listener> inbound = translator(state(DB)).inbound(sidecar("shop", "db", "127.0.0.5", 9090, 8080));

    assertThat(inbound).extracting(Listener::getName).containsExactly("inbound|8080", "inbound|9090");
    assertThat(inbound.get(0).getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.5");
    assertThat(inbound.get(0).getAddress().getSocketAddress().getPortValue()).isEqualTo(8080);
    assertThat(inbound.get(0).getListenerFiltersList()).isEmpty();
    assertThat(tcpProxy(inbound.get(0).getFilterChains(0)).getCluster()).isEqualTo("inbound|8080");
  }

  @Test
  void hasNoInboundListenerWithoutAppPortsInLocalModeAndSkipsSidecarPorts() {
    ListenerTranslator translator = translator(state(DB));

    // Under iptables every inbound connection comes to 15006, declared port or not.
    assertThat(translator.inbound(sidecar("shop", "client", "0.0.0.0"))).singleElement()
        .satisfies(l -> assertThat(l.getFilterChainsList()).extracting(FilterChain::getName)
            .containsExactly("inbound|passthrough", "loop|15006"));
    assertThat(translator.inbound(sidecar("shop", "odd", "127.0.0.5", 15001, 15090))).isEmpty();
    assertThat(translator.inbound(sidecar("shop", "odd", "127.0.0.5", 15006, 8080)))
        .extracting(Listener::getName).containsExactly("inbound|8080");
  }

  @Test
  void offersAnApiListenerPerHttpPortForProxylessGrpc() throws Exception {
    List<Listener> listeners = translator(state(DB, service("pay", "10.0.0.9", grpc(9090)))).proxyless();

    assertThat(listeners).extracting(Listener::getName)
        .containsExactly("db.shop.svc.cluster.local:8080", "pay.shop.svc.cluster.local:9090");
    Listener pay = listeners.get(1);
    assertThat(pay.hasAddress()).isFalse();
    assertThat(pay.getFilterChainsList()).isEmpty();
    assertThat(pay.getApiListener().getApiListener().unpack(HttpConnectionManager.class)).isEqualTo(TextProtos.parse("""
        stat_prefix: "pay.shop.svc.cluster.local:9090"
        rds {
          config_source { ads {} resource_api_version: V3 }
          route_config_name: "pay.shop.svc.cluster.local:9090"
        }
        http_filters {
          name: "envoy.filters.http.router"
          typed_config {
            [type.googleapis.com/envoy.extensions.filters.http.router.v3.Router] {}
          }
        }
        """, HttpConnectionManager.getDefaultInstance()));
  }

  @Test
  void reportsTwoServicesClaimingOneClusterIpPort() {
    MeshState state = state(DB, service("zz-clash", "10.0.0.7", tcp(5432)));

    ListenerTranslator translator = translator(state);

    assertThat(translator.outbound("0.0.0.0", "outbound|shop").getFilterChainsList()).extracting(FilterChain::getName)
        .containsExactly(cluster("db", 5432), cluster("db", 8080), "passthrough|5432", "http|8080", "loop|15001",
            "passthrough");
    assertThat(translator.rejections()).singleElement().satisfies(r -> {
      assertThat(r.source().toString()).isEqualTo("Service shop/zz-clash");
      assertThat(r.reason()).contains("also claimed by Service shop/db");
    });
  }
}
