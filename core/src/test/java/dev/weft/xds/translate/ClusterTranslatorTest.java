package dev.weft.xds.translate;

import static dev.weft.xds.translate.Meshes.grpc;
import static dev.weft.xds.translate.Meshes.http;
import static dev.weft.xds.translate.Meshes.service;
import static dev.weft.xds.translate.Meshes.state;
import static dev.weft.xds.translate.Meshes.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.Protocol;
import dev.weft.mesh.ServicePort;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterTranslatorTest {

  private final ClusterTranslator translator = new ClusterTranslator();

  @Test
  void buildsAnEdsClusterOverAdsPerServicePort() {
    List<Cluster> clusters = translator.outbound(state(service("payments", "10.0.0.1", http(80))));

    Cluster expected = TextProtos.parse("""
        name: "outbound|80|payments.shop.svc.cluster.local"
        type: EDS
        eds_cluster_config {
          eds_config { ads {} resource_api_version: V3 }
          service_name: "outbound|80|payments.shop.svc.cluster.local"
        }
        connect_timeout { seconds: 5 }
        lb_policy: ROUND_ROBIN
        """, Cluster.getDefaultInstance());
    assertThat(clusters).containsExactly(expected);
  }

  @Test
  void speaksHttp2UpstreamOnlyForHttp2AndGrpcPorts() throws Exception {
    List<Cluster> clusters = translator.outbound(state(service("api", "10.0.0.2",
        http(80), grpc(9090), new ServicePort("h2", 8443, Protocol.HTTP2), tcp(5432))));

    assertThat(clusters).extracting(Cluster::getName).containsExactly(
        "outbound|5432|api.shop.svc.cluster.local",
        "outbound|80|api.shop.svc.cluster.local",
        "outbound|8443|api.shop.svc.cluster.local",
        "outbound|9090|api.shop.svc.cluster.local");
    assertThat(clusters).filteredOn(c -> c.getTypedExtensionProtocolOptionsCount() > 0)
        .extracting(Cluster::getName)
        .containsExactly("outbound|8443|api.shop.svc.cluster.local", "outbound|9090|api.shop.svc.cluster.local");
    HttpProtocolOptions options = clusters.get(3).getTypedExtensionProtocolOptionsOrThrow(
        ClusterTranslator.HTTP_PROTOCOL_OPTIONS).unpack(HttpProtocolOptions.class);
    assertThat(options.getExplicitHttpConfig().hasHttp2ProtocolOptions()).isTrue();
  }

  @Test
  void buildsClustersForHeadlessServicesToo() {
    assertThat(translator.outbound(state(service("db", "", tcp(5432), http(8080)))))
        .extracting(Cluster::getName)
        .containsExactly("outbound|5432|db.shop.svc.cluster.local", "outbound|8080|db.shop.svc.cluster.local");
  }

  @Test
  void forwardsInboundPortsToTheApplicationOnLocalhost() {
    List<Cluster> clusters = translator.inbound(List.of(9090, 8080));

    assertThat(clusters).extracting(Cluster::getName).containsExactly("inbound|8080", "inbound|9090");
    assertThat(clusters.get(0)).isEqualTo(TextProtos.parse("""
        name: "inbound|8080"
        type: STATIC
        connect_timeout { seconds: 5 }
        lb_policy: ROUND_ROBIN
        load_assignment {
          cluster_name: "inbound|8080"
          endpoints {
            lb_endpoints { endpoint { address { socket_address { address: "127.0.0.1" port_value: 8080 } } } }
          }
        }
        """, Cluster.getDefaultInstance()));
  }

  @Test
  void passesThroughToTheOriginalDestination() {
    assertThat(translator.passthrough("passthrough")).isEqualTo(TextProtos.parse("""
        name: "passthrough"
        type: ORIGINAL_DST
        connect_timeout { seconds: 5 }
        lb_policy: CLUSTER_PROVIDED
        """, Cluster.getDefaultInstance()));
  }
}
