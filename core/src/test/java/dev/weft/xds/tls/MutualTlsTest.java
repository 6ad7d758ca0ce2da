package dev.weft.xds.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.List;
import org.junit.jupiter.api.Test;

class MutualTlsTest {

  static final String SDS = "/var/run/weft/sds";
  static final FilterChain PLAIN = FilterChain.newBuilder().setName("inbound-8080")
      .addFilters(Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")).build();

  static UpstreamTlsContext upstream(TransportSocket socket) throws InvalidProtocolBufferException {
    assertThat(socket.getName()).isEqualTo("envoy.transport_sockets.tls");
    return socket.getTypedConfig().unpack(UpstreamTlsContext.class);
  }

  static DownstreamTlsContext downstream(TransportSocket socket) throws InvalidProtocolBufferException {
    return socket.getTypedConfig().unpack(DownstreamTlsContext.class);
  }

  @Test
  void anOutboundClusterAcceptsOnlyTheDestinationsSpiffeIds() throws Exception {
    UpstreamTlsContext context = upstream(MutualTls.upstream(SDS, List.of(
        "spiffe://cluster.local/ns/shop/sa/payments-v2", "spiffe://cluster.local/ns/shop/sa/payments-v1")));

    CommonTlsContext common = context.getCommonTlsContext();
    assertThat(common.getTlsCertificateSdsSecretConfigsList()).singleElement().satisfies(sds -> {
      assertThat(sds.getName()).isEqualTo("weft-identity");
      assertThat(sds.getSdsConfig().getPathConfigSource().getPath()).isEqualTo("/var/run/weft/sds/identity.json");
    });
    var validation = common.getCombinedValidationContext();
    assertThat(validation.getValidationContextSdsSecretConfig().getName()).isEqualTo("weft-trust");
    assertThat(validation.getValidationContextSdsSecretConfig().getSdsConfig().getPathConfigSource().getPath())
        .isEqualTo("/var/run/weft/sds/trust.json");
    assertThat(validation.getDefaultValidationContext().getMatchTypedSubjectAltNamesList())
        .allSatisfy(m -> assertThat(m.getSanType()).isEqualTo(SubjectAltNameMatcher.SanType.URI))
        .extracting(m -> m.getMatcher().getExact())
        .containsExactly("spiffe://cluster.local/ns/shop/sa/payments-v1",
            "spiffe://cluster.local/ns/shop/sa/payments-v2");
  }

  @Test
  void anOutboundClusterNeedsAnIdentityToAccept() {
    assertThatThrownBy(() -> MutualTls.upstream(SDS, List.of())).hasMessageContaining("at least one SPIFFE ID");
  }

  @Test
  void strictInboundRequiresAClientCertificateFromTheTrustDomain() throws Exception {
    List<FilterChain> chains = MutualTls.inbound(PLAIN, MutualTls.InboundMode.STRICT, SDS, "cluster.local");

    assertThat(chains).singleElement().satisfies(chain -> {
      assertThat(chain.getFiltersList()).isEqualTo(PLAIN.getFiltersList());
      DownstreamTlsContext context = downstream(chain.getTransportSocket());
      assertThat(context.getRequireClientCertificate().getValue()).isTrue();
      assertThat(context.getCommonTlsContext().getCombinedValidationContext().getDefaultValidationContext()
          .getMatchTypedSubjectAltNamesList()).singleElement()
          .satisfies(m -> assertThat(m.getMatcher().getPrefix()).isEqualTo("spiffe://cluster.local/"));
    });
    assertThat(MutualTls.listenerFilters(MutualTls.InboundMode.STRICT)).isEmpty();
  }

  @Test
  void permissiveInboundTakesMtlsAndPlaintextToldApartByTlsInspection() throws Exception {
    List<FilterChain> chains = MutualTls.inbound(PLAIN, MutualTls.InboundMode.PERMISSIVE, SDS, "cluster.local");

    assertThat(chains).hasSize(2);
    assertThat(chains.get(0).getFilterChainMatch().getTransportProtocol()).isEqualTo("tls");
    assertThat(downstream(chains.get(0).getTransportSocket()).getRequireClientCertificate().getValue()).isTrue();
    assertThat(chains.get(1).getFilterChainMatch().getTransportProtocol()).isEqualTo("raw_buffer");
    assertThat(chains.get(1).hasTransportSocket()).isFalse();
    assertThat(chains.get(1).getName()).isEqualTo("inbound-8080-plaintext");
    assertThat(MutualTls.listenerFilters(MutualTls.InboundMode.PERMISSIVE)).singleElement()
        .satisfies(f -> assertThat(f.getName()).isEqualTo("envoy.filters.listener.tls_inspector"));
  }

  @Test
  void sdsFilesNameTheMountedSecretsFilesAndWatchTheirDirectory() {
    var files = IdentitySds.files("/var/run/weft/identity/");

    assertThat(files).containsOnlyKeys("identity.json", "trust.json");
    assertThat(files.get("identity.json"))
        .contains("\"@type\": \"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret\"",
            "\"name\": \"weft-identity\"", "\"filename\": \"/var/run/weft/identity/tls.crt\"",
            "\"filename\": \"/var/run/weft/identity/tls.key\"", "\"path\": \"/var/run/weft/identity\"");
    assertThat(files.get("trust.json"))
        .contains("\"name\": \"weft-trust\"", "\"filename\": \"/var/run/weft/identity/ca.crt\"",
            "\"path\": \"/var/run/weft/identity\"");
  }
}
