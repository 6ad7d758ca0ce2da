package dev.weft.xds.translate;

import static dev.weft.xds.translate.Meshes.SHOP;
import static dev.weft.xds.translate.Meshes.http;
import static dev.weft.xds.translate.Meshes.path;
import static dev.weft.xds.translate.Meshes.proxyless;
import static dev.weft.xds.translate.Meshes.routing;
import static dev.weft.xds.translate.Meshes.rule;
import static dev.weft.xds.translate.Meshes.service;
import static dev.weft.xds.translate.Meshes.sidecar;
import static dev.weft.xds.translate.Meshes.split;
import static dev.weft.xds.translate.Meshes.state;
import static dev.weft.xds.translate.Meshes.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Translation#sources()}: which TrafficSplits and VirtualServices each group's config carries, per type. */
class TranslationProvenanceTest {

  private static final MeshService PAYMENTS = service("payments", "10.0.0.1", http(80));
  private static final MeshService V1 = service("payments-v1", "10.0.0.2", http(80));
  private static final MeshService V2 = service("payments-v2", "10.0.0.3", http(80));
  private static final MeshService LEDGER = service("ledger", "10.0.0.4", tcp(5432));
  private static final MeshService LEDGER_V2 = service("ledger-v2", "10.0.0.5", tcp(5432));
  private static final ProxyGroup CHECKOUT = sidecar(SHOP, "checkout", "0.0.0.0", 8080);
  private static final ProxyGroup WEB = sidecar("web", "frontend", "0.0.0.0");
  private static final ProxyGroup GRPC = proxyless("web", "grpc-client");

  private static final TrafficSplitRule CANARY = split("payments-canary", "2024-01-01T00:00:00Z", "payments",
      new WeightedService("payments-v1", 90), new WeightedService("payments-v2", 10));

  private final MeshTranslator translator = new MeshTranslator();

  @Test
  void recordsWhichSplitEachRouteConfigCarries() {
    MeshState state = state(List.of(PAYMENTS, V1, V2), List.of(CANARY), List.of());

    Translation translation = translator.translate(state, List.of(CHECKOUT, WEB));

    // Every client namespace's route configuration has a virtual host for payments:80.
    assertThat(translation.sources(CHECKOUT, Translation.ROUTE_TYPE_URL)).containsExactly(CANARY.source());
    assertThat(translation.sources(WEB, Translation.ROUTE_TYPE_URL)).containsExactly(CANARY.source());
    assertThat(translation.sources().get(CHECKOUT)).containsOnlyKeys(Translation.ROUTE_TYPE_URL);
  }

  @Test
  void recordsTheVirtualServiceThatOwnsAPortsRules() {
    HttpRouting api = routing("payments-api", "2024-01-02T00:00:00Z", "payments", 80,
        rule("v2-api", List.of(path(HttpRouting.PathKind.PREFIX, "/v2")),
            List.of(new WeightedService("payments-v2", 1))));
    MeshState state = state(List.of(PAYMENTS, V1, V2), List.of(CANARY), List.of(api));

    Translation translation = translator.translate(state, List.of(CHECKOUT));

    // The split is still the catch-all route's destination, so both shape the routes.
    assertThat(translation.sources(CHECKOUT, Translation.ROUTE_TYPE_URL))
        .containsExactly(CANARY.source(), api.source());
  }

  @Test
  void leavesRejectedAndLosingResourcesOutOfTheSources() {
    TrafficSplitRule younger = split("payments-other", "2024-02-01T00:00:00Z", "payments",
        new WeightedService("payments-v1", 50), new WeightedService("payments-v2", 50));
    TrafficSplitRule missingBackend = split("v1-canary", "2024-01-01T00:00:00Z", "payments-v1",
        new WeightedService("payments-v3", 10), new WeightedService("payments-v1", 90));
    HttpRouting badRegex = routing("payments-regex", "2024-01-03T00:00:00Z", "payments", 80,
        rule("broken", List.of(path(HttpRouting.PathKind.REGEX, "(")), List.of()));
    MeshState state = state(List.of(PAYMENTS, V1, V2), List.of(CANARY, younger, missingBackend), List.of(badRegex));

    Translation translation = translator.translate(state, List.of(CHECKOUT));

    assertThat(translation.rejections()).extracting(Rejection::source)
        .contains(younger.source(), missingBackend.source(), badRegex.source());
    assertThat(translation.sources(CHECKOUT, Translation.ROUTE_TYPE_URL)).containsExactly(CANARY.source());
  }

  @Test
  void recordsASplitOfATcpPortInTheOutboundListener() {
    TrafficSplitRule ledgerSplit = split("ledger-canary", "2024-01-01T00:00:00Z", "ledger",
        new WeightedService("ledger", 80), new WeightedService("ledger-v2", 20));
    MeshState state = state(List.of(LEDGER, LEDGER_V2), List.of(ledgerSplit), List.of());

    Translation translation = translator.translate(state, List.of(CHECKOUT));

    assertThat(translation.sources(CHECKOUT, Translation.LISTENER_TYPE_URL)).containsExactly(ledgerSplit.source());
    assertThat(translation.sources(CHECKOUT, Translation.ROUTE_TYPE_URL)).isEmpty();
  }

  @Test
  void recordsASplitOntoTheRootAloneThoughItLooksLikeNoSplit() {
    TrafficSplitRule pinned = split("payments-pinned", "2024-01-01T00:00:00Z", "payments",
        new WeightedService("payments", 1), new WeightedService("payments-v2", 0));
    MeshState state = state(List.of(PAYMENTS, V2), List.of(pinned), List.of());

    Translation translation = translator.translate(state, List.of(CHECKOUT));

    assertThat(translation.sources(CHECKOUT, Translation.ROUTE_TYPE_URL)).containsExactly(pinned.source());
  }

  @Test
  void givesProxylessClientsTheSourcesOfTheirRouteConfigurations() {
    MeshState state = state(List.of(PAYMENTS, V1, V2), List.of(CANARY), List.of());

    Translation translation = translator.translate(state, List.of(GRPC));

    assertThat(translation.sources(GRPC, Translation.ROUTE_TYPE_URL)).containsExactly(CANARY.source());
    // API listeners name their route configuration; the split is not in them.
    assertThat(translation.sources(GRPC, Translation.LISTENER_TYPE_URL)).isEmpty();
  }

  @Test
  void recordsNothingForASidecarThatGetsNoRoutes() {
    ProxyGroup unbound = sidecar(SHOP, "batch", "pending", 8080);
    MeshState state = state(List.of(PAYMENTS, V1, V2), List.of(CANARY), List.of());

    Translation translation = translator.translate(state, List.of(unbound));

    assertThat(translation.config(unbound).routes()).isEmpty();
    assertThat(translation.sources().get(unbound)).isEmpty();
  }

  @Test
  void recordsNothingWithoutSplitsOrVirtualServices() {
    Translation translation = translator.translate(state(PAYMENTS, V1), List.of(CHECKOUT, GRPC));

    assertThat(translation.sources()).containsOnlyKeys(CHECKOUT, GRPC);
    assertThat(translation.sources().values()).allSatisfy(byType -> assertThat(byType).isEmpty());
  }

  @Test
  void keepsEachGenerationApart() {
    SourceRef newer = new SourceRef("TrafficSplit", SHOP, "payments-canary", 2, "2024-01-01T00:00:00Z");
    TrafficSplitRule updated = new TrafficSplitRule(newer, CANARY.root(), CANARY.backends());

    Translation translation = translator.translate(state(List.of(PAYMENTS, V1, V2), List.of(updated), List.of()),
        List.of(CHECKOUT));

    assertThat(translation.sources(CHECKOUT, Translation.ROUTE_TYPE_URL)).containsExactly(newer)
        .doesNotContain(CANARY.source());
  }

  @Test
  void spellsTypeUrlsAsEnvoyDoes() {
    assertThat(Translation.ROUTE_TYPE_URL).isEqualTo("type.googleapis.com/envoy.config.route.v3.RouteConfiguration");
    assertThat(Translation.LISTENER_TYPE_URL).isEqualTo("type.googleapis.com/envoy.config.listener.v3.Listener");
    assertThat(Translation.CLUSTER_TYPE_URL).isEqualTo("type.googleapis.com/envoy.config.cluster.v3.Cluster");
    assertThat(Translation.ENDPOINT_TYPE_URL)
        .isEqualTo("type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment");
  }
}
