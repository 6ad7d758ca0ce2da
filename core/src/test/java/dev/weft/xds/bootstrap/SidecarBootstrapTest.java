package dev.weft.xds.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import dev.weft.xds.bootstrap.SidecarBootstrap.Workload;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class SidecarBootstrapTest {

  final Workload pod = Workload.inPod("payments-v1-7d9f", "shop", "payments", List.of(8080, 9090));

  @Test
  void identifiesTheProxyByPodNamespaceAndServiceAccount() {
    Bootstrap bootstrap = SidecarBootstrap.build(pod, "weft-xds.weft-system.svc", 18000, Transport.STATE_OF_THE_WORLD);

    assertThat(bootstrap.getNode().getId()).isEqualTo("payments-v1-7d9f.shop");
    assertThat(bootstrap.getNode().getCluster()).isEqualTo("payments.shop");
    assertThat(bootstrap.getNode().getMetadata().getFieldsMap())
        .containsKeys(SidecarBootstrap.META_NAMESPACE, SidecarBootstrap.META_SERVICE_ACCOUNT,
            SidecarBootstrap.META_APP_PORTS)
        .doesNotContainKey(SidecarBootstrap.META_INBOUND_ADDRESS);
    assertThat(bootstrap.getNode().getMetadata().getFieldsOrThrow(SidecarBootstrap.META_APP_PORTS).getStringValue())
        .isEqualTo("8080,9090");
  }

  @Test
  void aPodNamesItsSdsDirectoryAndCanReachTheXdsServerOverMtls() throws Exception {
    String xdsId = "spiffe://cluster.local/ns/weft-system/sa/weft-xds";

    Bootstrap bootstrap = SidecarBootstrap.build(pod, "weft-xds.weft-system.svc", 18000, Transport.DELTA, xdsId);

    assertThat(bootstrap.getNode().getMetadata().getFieldsOrThrow(SidecarBootstrap.META_SDS_DIRECTORY)
        .getStringValue()).isEqualTo("/var/run/weft/sds");
    var xds = bootstrap.getStaticResources().getClustersList().stream()
        .filter(c -> c.getName().equals(SidecarBootstrap.XDS_CLUSTER)).findFirst().orElseThrow();
    var tls = xds.getTransportSocket().getTypedConfig()
        .unpack(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.class);
    assertThat(tls.getCommonTlsContext().getAlpnProtocolsList()).containsExactly("h2");
    assertThat(tls.getCommonTlsContext().getCombinedValidationContext().getDefaultValidationContext()
        .getMatchTypedSubjectAltNames(0).getMatcher().getExact()).isEqualTo(xdsId);
    assertThat(SidecarBootstrap.json(bootstrap)).contains("/var/run/weft/sds/identity.json");
    assertThat(SidecarBootstrap.build(pod, "weft-xds", 18000, Transport.DELTA).getStaticResources()
        .getClusters(0).hasTransportSocket()).as("plaintext unless asked").isFalse();
  }

  @Test
  void getsEverythingElseOverAds() {
    Bootstrap bootstrap = SidecarBootstrap.build(pod, "weft-xds.weft-system.svc", 18000, Transport.DELTA);

    assertThat(bootstrap.getDynamicResources().getAdsConfig().getApiType()).isEqualTo(ApiConfigSource.ApiType.DELTA_GRPC);
    assertThat(bootstrap.getDynamicResources().getCdsConfig().hasAds()).isTrue();
    assertThat(bootstrap.getDynamicResources().getLdsConfig().hasAds()).isTrue();
    assertThat(bootstrap.getStaticResources().getClustersList())
        .filteredOn(c -> c.getName().equals(SidecarBootstrap.XDS_CLUSTER))
        .singleElement()
        .satisfies(c -> assertThat(c.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint()
            .getAddress().getSocketAddress().getAddress()).isEqualTo("weft-xds.weft-system.svc"));
  }

  @Test
  void keepsAdminOnLoopbackAndServesStatsOnThePodAddress() {
    Workload local = new Workload("client", "shop", "web", "127.0.0.20", List.of(), "127.0.0.20", 25000, 25090);

    Bootstrap bootstrap = SidecarBootstrap.build(local, "127.0.0.1", 18000, Transport.STATE_OF_THE_WORLD);

    assertThat(bootstrap.getAdmin().getAddress().getSocketAddress().getPortValue()).isEqualTo(25000);
    assertThat(bootstrap.getStaticResources().getListeners(0).getAddress().getSocketAddress())
        .satisfies(a -> {
          assertThat(a.getAddress()).isEqualTo("127.0.0.20");
          assertThat(a.getPortValue()).isEqualTo(25090);
        });
    assertThat(Workload.inPod("p", "ns", "sa", List.of()).adminAddress()).isEqualTo("127.0.0.1");
  }

  @Test
  void printsJsonWithTheNodeMetadataAndPackedTypes() {
    Bootstrap bootstrap = SidecarBootstrap.build(pod, "127.0.0.1", 18000, Transport.STATE_OF_THE_WORLD);

    String json = SidecarBootstrap.json(bootstrap);

    assertThat(json).contains("\"WEFT_NAMESPACE\": \"shop\"", "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
  }

  @Test
  void capsTheSidecarsDownstreamConnections() throws Exception {
    Bootstrap bootstrap = SidecarBootstrap.build(pod, "weft-xds.weft-system.svc", 18000, Transport.DELTA);

    var monitor = bootstrap.getOverloadManager().getResourceMonitors(0);
    assertThat(monitor.getName()).isEqualTo("envoy.resource_monitors.global_downstream_max_connections");
    assertThat(monitor.getTypedConfig().unpack(DownstreamConnectionsConfig.class).getMaxActiveDownstreamConnections())
        .isEqualTo(SidecarBootstrap.MAX_DOWNSTREAM_CONNECTIONS);
    assertThat(SidecarBootstrap.json(bootstrap)).contains("\"maxActiveDownstreamConnections\": \"100000\"");
  }
}
