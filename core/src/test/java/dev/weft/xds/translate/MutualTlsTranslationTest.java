package dev.weft.xds.translate;

import static dev.weft.xds.translate.Meshes.SHOP;
import static dev.weft.xds.translate.Meshes.http;
import static dev.weft.xds.translate.Meshes.key;
import static dev.weft.xds.translate.Meshes.proxyless;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServicePort;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The translated config's mTLS: outbound to meshed endpoints with their SPIFFE IDs, inbound strict or permissive. */
class MutualTlsTranslationTest {

  private static final String SDS = "/var/run/weft/sds";
  private static final ServicePort HTTP = http(80);
  private static final MeshService PAYMENTS = new MeshService(key("payments"), "10.0.0.1", List.of(HTTP), List.of(
      meshed("10.1.0.1", "payments"), meshed("10.1.0.2", "payments-canary"), plain("10.1.0.3")));
  private static final MeshService LEGACY = new MeshService(key("legacy"), "10.0.0.2", List.of(HTTP),
      List.of(plain("10.1.0.9")));
  private static final ProxyGroup WEB = new ProxyGroup(ProxyGroup.Kind.SIDECAR, SHOP, "web", "0.0.0.0", List.of(),
      SDS);
  private static final ProxyGroup PAYMENTS_POD = new ProxyGroup(ProxyGroup.Kind.SIDECAR, SHOP, "payments", "0.0.0.0",
      List.of(8080), SDS);

  private final MeshTranslator translator = new MeshTranslator("mesh.example");

  static Endpoint meshed(String address, String serviceAccount) {
    return new Endpoint(address, 8080, HTTP.name(), Endpoint.Readiness.READY, "", serviceAccount);
  }

  static Endpoint plain(String address) {
    return new Endpoint(address, 8080, HTTP.name(), Endpoint.Readiness.READY, "");
  }

  static MeshState state(Set<String> permissive) {
    return new MeshState(Map.of(PAYMENTS.key(), PAYMENTS, LEGACY.key(), LEGACY), List.of(), List.of(), Set.of(),
        permissive);
  }

  @Test
  void originatesMtlsToMeshedEndpointsAcceptingOnlyTheSpiffeIdsOfTheServicesAccounts() throws Exception {
    ProxyConfig config = translator.translate(state(Set.of()), List.of(WEB)).config(WEB);

    Cluster payments = cluster(config, "outbound|80|payments.shop.svc.cluster.local");
    UpstreamTlsContext tls = payments.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
    assertThat(tls.getCommonTlsContext().getCombinedValidationContext().getDefaultValidationContext()
        .getMatchTypedSubjectAltNamesList()).extracting(m -> m.getMatcher().getExact()).containsExactly(
            "spiffe://mesh.example/ns/shop/sa/payments", "spiffe://mesh.example/ns/shop/sa/payments-canary");
    assertThat(tls.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getSdsConfig()
        .getPathConfigSource().getPath()).isEqualTo(SDS + "/identity.json");
    assertThat(payments.getTransportSocketMatchesList()).as("plaintext only where an endpoint asks for it")
        .singleElement().satisfies(match -> {
          assertThat(match.getName()).isEqualTo(ClusterTranslator.PLAINTEXT_MATCH);
          assertThat(match.getMatch()).isEqualTo(ClusterTranslator.PLAINTEXT_ENDPOINT_METADATA);
          assertThat(match.getTransportSocket().getTypedConfig().is(RawBuffer.class)).isTrue();
        });
    Cluster legacy = cluster(config, "outbound|80|legacy.shop.svc.cluster.local");
    assertThat(legacy.hasTransportSocket()).as("no meshed endpoint, nothing to verify").isFalse();
    assertThat(legacy.getTransportSocketMatchesCount()).isZero();
  }

  @Test
  void marksOnlyTheEndpointsWithoutASidecarOfAMeshedServiceAsPlaintext() {
    ProxyConfig config = translator.translate(state(Set.of()), List.of(WEB)).config(WEB);

    List<LbEndpoint> payments = assignment(config, "outbound|80|payments.shop.svc.cluster.local");
    assertThat(payments).filteredOn(LbEndpoint::hasMetadata)
        .extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress())
        .containsExactly("10.1.0.3");
    assertThat(payments.get(2).getMetadata().getFilterMetadataOrThrow("envoy.transport_socket_match"))
        .isEqualTo(ClusterTranslator.PLAINTEXT_ENDPOINT_METADATA);
    assertThat(assignment(config, "outbound|80|legacy.shop.svc.cluster.local"))
        .as("a Service without meshed endpoints has a plaintext cluster: nothing to mark")
        .noneMatch(LbEndpoint::hasMetadata);
  }

  @Test
  void aServiceGainingItsFirstMeshedEndpointGetsItsOtherEndpointsMarked() {
    MeshTranslator incremental = new MeshTranslator("mesh.example");
    incremental.translate(state(Set.of()), List.of(WEB));
    MeshService joined = new MeshService(LEGACY.key(), LEGACY.clusterIp(), LEGACY.ports(),
        List.of(plain("10.1.0.9"), meshed("10.1.0.10", "legacy")));
    MeshState next = new MeshState(Map.of(PAYMENTS.key(), PAYMENTS, LEGACY.key(), joined), List.of(), List.of());

    ProxyConfig config = incremental.translate(next, List.of(WEB)).config(WEB);

    assertThat(cluster(config, "outbound|80|legacy.shop.svc.cluster.local").hasTransportSocket()).isTrue();
    assertThat(assignment(config, "outbound|80|legacy.shop.svc.cluster.local")).filteredOn(LbEndpoint::hasMetadata)
        .extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress())
        .containsExactly("10.1.0.9");
  }

  private static List<LbEndpoint> assignment(ProxyConfig config, String cluster) {
    return config.endpoints().stream().filter(a -> a.getClusterName().equals(cluster)).findFirst().orElseThrow()
        .getEndpoints(0).getLbEndpointsList();
  }

  @Test
  void aSidecarWithoutAnIdentityAndAProxylessClientGetPlaintextOnly() {
    ProxyGroup noIdentity = new ProxyGroup(ProxyGroup.Kind.SIDECAR, SHOP, "payments", "0.0.0.0", List.of(8080));
    ProxyGroup grpc = proxyless(SHOP, "grpc-client");

    Translation translation = translator.translate(state(Set.of()), List.of(noIdentity, grpc));

    for (ProxyGroup group : List.of(noIdentity, grpc)) {
      ProxyConfig config = translation.config(group);
      assertThat(config.clusters()).allSatisfy(c -> {
        assertThat(c.getTransportSocketMatchesCount()).isZero();
        assertThat(c.hasTransportSocket()).isFalse();
      });
      assertThat(config.listeners()).flatExtracting(Listener::getFilterChainsList)
          .noneMatch(FilterChain::hasTransportSocket);
    }
  }

  @Test
  void inboundRequiresAClientCertificateFromTheTrustDomainByDefault() throws Exception {
    ProxyConfig config = translator.translate(state(Set.of()), List.of(PAYMENTS_POD)).config(PAYMENTS_POD);

    Listener inbound = listener(config, "inbound");
    // The app port, then the passthrough to ports the pod does not declare (mTLS as well), then the loop guard.
    assertThat(inbound.getFilterChainsList()).extracting(FilterChain::getName)
        .containsExactly("inbound|8080", "inbound|passthrough", "loop|15006");
    assertThat(inbound.getFilterChainsList()).extracting(FilterChain::hasTransportSocket)
        .containsExactly(true, true, false);
    assertThat(inbound.getFilterChainsList()).first().satisfies(chain -> {
      DownstreamTlsContext tls = chain.getTransportSocket().getTypedConfig().unpack(DownstreamTlsContext.class);
      assertThat(tls.getRequireClientCertificate().getValue()).isTrue();
      SubjectAltNameMatcher san = tls.getCommonTlsContext().getCombinedValidationContext()
          .getDefaultValidationContext().getMatchTypedSubjectAltNames(0);
      assertThat(san.getMatcher().getPrefix()).isEqualTo("spiffe://mesh.example/");
      assertThat(chain.getFilterChainMatch().getDestinationPort().getValue()).isEqualTo(8080);
    });
    assertThat(inbound.getListenerFiltersList()).extracting(ListenerFilter::getName)
        .containsExactly(ListenerTranslator.ORIGINAL_DST);
  }

  @Test
  void aPermissiveNamespaceTakesPlaintextNextToMtls() {
    ProxyConfig config = translator.translate(state(Set.of(SHOP)), List.of(PAYMENTS_POD)).config(PAYMENTS_POD);

    Listener inbound = listener(config, "inbound");
    assertThat(inbound.getFilterChainsList()).extracting(c -> c.getFilterChainMatch().getTransportProtocol())
        .containsExactly("tls", "raw_buffer", "tls", "raw_buffer", "");
    assertThat(inbound.getFilterChainsList()).extracting(FilterChain::getName).containsExactly("inbound|8080",
        "inbound|8080-plaintext", "inbound|passthrough", "inbound|passthrough-plaintext", "loop|15006");
    assertThat(inbound.getFilterChainsList()).extracting(FilterChain::hasTransportSocket)
        .containsExactly(true, false, true, false, false);
    assertThat(inbound.getListenerFiltersList()).extracting(ListenerFilter::getName)
        .containsExactly(ListenerTranslator.ORIGINAL_DST, "envoy.filters.listener.tls_inspector");
  }

  @Test
  void localModeListenersAreSecuredToo() {
    ProxyGroup local = new ProxyGroup(ProxyGroup.Kind.SIDECAR, SHOP, "payments", "127.0.10.11", List.of(45000),
        "/tmp/pods/payments/sds");

    ProxyConfig strict = translator.translate(state(Set.of()), List.of(local)).config(local);
    ProxyConfig permissive = translator.translate(state(Set.of(SHOP)), List.of(local)).config(local);

    assertThat(listener(strict, "inbound|45000").getFilterChainsList()).singleElement()
        .satisfies(c -> assertThat(c.hasTransportSocket()).isTrue());
    assertThat(listener(permissive, "inbound|45000").getFilterChainsList()).extracting(FilterChain::getName)
        .containsExactly("inbound|45000", "inbound|45000-plaintext");
  }

  @Test
  void sidecarsWithTheSameSdsDirectoryShareTheirClusters() {
    ProxyGroup other = new ProxyGroup(ProxyGroup.Kind.SIDECAR, "frontend", "ui", "0.0.0.0", List.of(9090), SDS);
    ProxyGroup elsewhere = new ProxyGroup(ProxyGroup.Kind.SIDECAR, SHOP, "web", "127.0.0.7", List.of(),
        "/tmp/pods/web/sds");

    Translation translation = translator.translate(state(Set.of()), List.of(WEB, PAYMENTS_POD, other, elsewhere));

    Cluster a = cluster(translation.config(WEB), "outbound|80|payments.shop.svc.cluster.local");
    assertThat(cluster(translation.config(PAYMENTS_POD), "outbound|80|payments.shop.svc.cluster.local")).isSameAs(a);
    assertThat(cluster(translation.config(other), "outbound|80|payments.shop.svc.cluster.local")).isSameAs(a);
    assertThat(cluster(translation.config(elsewhere), "outbound|80|payments.shop.svc.cluster.local")).isNotEqualTo(a);
    assertThat(translation.config(WEB).endpoints()).isEqualTo(translation.config(elsewhere).endpoints());
  }

  @Test
  void podsComingAndGoingUnderTheSameIdentitiesChangeOnlyTheEndpoints() {
    IncrementalTranslator incremental = new IncrementalTranslator(new MeshTranslator("mesh.example"));
    ProxyConfig before = incremental.translate(state(Set.of()), List.of(WEB)).config(WEB);
    MeshService scaled = new MeshService(key("payments"), "10.0.0.1", List.of(HTTP), List.of(
        meshed("10.1.0.1", "payments"), meshed("10.1.0.4", "payments"), meshed("10.1.0.2", "payments-canary")));
    MeshState after = new MeshState(Map.of(scaled.key(), scaled, LEGACY.key(), LEGACY), List.of(), List.of());

    ProxyConfig config = incremental.translate(after, List.of(WEB)).config(WEB);

    assertThat(config.clusters()).isSameAs(before.clusters());
    assertThat(config.endpointsVersion()).isNotEqualTo(before.endpointsVersion());
    assertThat(config).isEqualTo(new MeshTranslator("mesh.example").translate(after, List.of(WEB)).config(WEB));
  }

  private static Cluster cluster(ProxyConfig config, String name) {
    return config.clusters().stream().filter(c -> c.getName().equals(name)).findFirst().orElseThrow();
  }

  private static Listener listener(ProxyConfig config, String name) {
    return config.listeners().stream().filter(l -> l.getName().equals(name)).findFirst().orElseThrow();
  }
}
