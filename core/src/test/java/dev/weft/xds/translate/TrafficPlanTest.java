package dev.weft.xds.translate;

import static dev.weft.xds.translate.Meshes.cluster;
import static dev.weft.xds.translate.Meshes.header;
import static dev.weft.xds.translate.Meshes.http;
import static dev.weft.xds.translate.Meshes.key;
import static dev.weft.xds.translate.Meshes.path;
import static dev.weft.xds.translate.Meshes.routing;
import static dev.weft.xds.translate.Meshes.rule;
import static dev.weft.xds.translate.Meshes.service;
import static dev.weft.xds.translate.Meshes.split;
import static dev.weft.xds.translate.Meshes.state;
import static dev.weft.xds.translate.Meshes.tcp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.HttpRouting.HeaderKind;
import dev.weft.mesh.HttpRouting.PathKind;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TrafficPlanTest {

  private static final ServicePort HTTP = http(80);
  private static final MeshService PAYMENTS = service("payments", "10.0.0.1", HTTP, http(8080));
  private static final MeshService V1 = service("payments-v1", "10.0.0.2", HTTP, http(8080));
  private static final MeshService V2 = service("payments-v2", "10.0.0.3", HTTP);

  private static TrafficPlan plan(List<TrafficSplitRule> splits, List<HttpRouting> routings) {
    return TrafficPlan.of(state(List.of(PAYMENTS, V1, V2), splits, routings));
  }

  private static TrafficPlan planWith(HttpRouting routing) {
    return plan(List.of(), List.of(routing));
  }

  private static String onlyReason(TrafficPlan plan) {
    assertThat(plan.rejections()).hasSize(1);
    return plan.rejections().get(0).reason();
  }

  @Test
  void dropsSplitWithMissingBackend() {
    TrafficPlan plan = plan(List.of(split("canary", "2026-01-01T00:00:00Z", "payments",
        new WeightedService("payments-v1", 90), new WeightedService("payments-v3", 10))), List.of());

    assertThat(plan.defaultDestination(key("payments"), HTTP))
        .isEqualTo(TrafficPlan.Destination.of(cluster("payments", 80)));
    assertThat(plan.rejections()).singleElement().satisfies(r -> {
      assertThat(r.source().name()).isEqualTo("canary");
      assertThat(r.reason()).isEqualTo("spec.backends[1].service: Service shop/payments-v3 does not exist; create "
          + "it or remove the backend");
    });
  }

  @Test
  void dropsSplitWhoseRootServiceIsMissing() {
    TrafficPlan plan = plan(List.of(split("ghost", "2026-01-01T00:00:00Z", "nowhere",
        new WeightedService("payments-v1", 1))), List.of());

    assertThat(onlyReason(plan)).startsWith("spec.service: Service shop/nowhere does not exist");
  }

  @Test
  void keepsTheOldestSplitOfARootAndRejectsTheOthers() {
    TrafficPlan plan = plan(List.of(
        split("newer", "2026-03-01T00:00:00Z", "payments", new WeightedService("payments-v2", 1)),
        split("older", "2026-01-01T00:00:00Z", "payments", new WeightedService("payments-v1", 1))), List.of());

    assertThat(plan.defaultDestination(key("payments"), HTTP).backends())
        .containsExactly(new TrafficPlan.Backend(cluster("payments-v1", 80), 1));
    assertThat(plan.rejections()).singleElement().satisfies(r -> {
      assertThat(r.source().name()).isEqualTo("newer");
      assertThat(r.reason()).contains("conflicts with the older TrafficSplit shop/older");
    });
  }

  @Test
  void leavesASplitOutOnlyOnThePortABackendLacks() {
    TrafficPlan plan = plan(List.of(split("canary", "2026-01-01T00:00:00Z", "payments",
        new WeightedService("payments-v1", 50), new WeightedService("payments-v2", 50))), List.of());

    assertThat(plan.defaultDestination(key("payments"), HTTP).backends()).hasSize(2);
    assertThat(plan.defaultDestination(key("payments"), http(8080)))
        .isEqualTo(TrafficPlan.Destination.of(cluster("payments", 8080)));
    assertThat(onlyReason(plan)).startsWith("spec.backends[1].service: Service shop/payments-v2 has no port 8080")
        .endsWith("(until then, port 8080 of shop/payments serves from its own endpoints)");
  }

  @Test
  void rejectsRoutingForAMissingServiceOrPort() {
    assertThat(onlyReason(planWith(routing("vs", "t", "nowhere", 0, rule("r", List.of(), List.of())))))
        .startsWith("spec.service: Service shop/nowhere does not exist");
    assertThat(onlyReason(planWith(routing("vs", "t", "payments", 9999, rule("r", List.of(), List.of())))))
        .isEqualTo("spec.port: Service shop/payments has no port 9999; use one of its ports [80, 8080] or leave "
            + "spec.port unset");
  }

  @Test
  void rejectsRoutingForATcpPortOrATcpOnlyService() {
    MeshService db = service("db", "10.0.0.9", tcp(5432));
    MeshState state = state(List.of(db), List.of(), List.of(
        routing("by-port", "t1", "db", 5432, rule("r", List.of(), List.of())),
        routing("any-port", "t2", "db", 0, rule("r", List.of(), List.of()))));

    assertThat(TrafficPlan.of(state).rejections()).extracting(r -> r.source().name() + ": " + r.reason())
        .satisfiesExactly(
        r -> assertThat(r).startsWith("any-port: spec.service: Service shop/db has no HTTP port"),
        r -> assertThat(r).startsWith("by-port: spec.port: port 5432 of Service shop/db is TCP"));
  }

  @Test
  void rejectsAnInvalidRegexWithTheField() {
    TrafficPlan plan = planWith(routing("vs", "t", "payments", 0,
        rule("ok", List.of(path(PathKind.PREFIX, "/ok")), List.of()),
        rule("bad", List.of(path(PathKind.EXACT, "/x"), header("x-id", HeaderKind.REGEX, "(?=abc)")), List.of())));

    assertThat(plan.rules(key("payments"), 80)).isEmpty();
    assertThat(onlyReason(plan)).startsWith("spec.rules[1].matches[1].headers[0].value: not a regular expression "
        + "Weft accepts (RE2 syntax): lookahead (?= or (?! is not supported by RE2");
  }

  @Test
  void rejectsPathsEnvoyWouldRefuseOrNeverMatch() {
    TrafficPlan plan = planWith(routing("vs", "t", "payments", 0, rule("r", List.of(
        path(PathKind.PREFIX, "/api/"), path(PathKind.EXACT, "relative"), path(PathKind.EXACT, "/a?b=c")), List.of())));

    assertThat(onlyReason(plan)).contains(
        "spec.rules[0].matches[0].path.value: the prefix '/api/' ends with '/'",
        "spec.rules[0].matches[1].path.value: 'relative' must start with '/'",
        "spec.rules[0].matches[2].path.value: '/a?b=c' contains '?' or '#'");
  }

  @Test
  void rejectsBadTimeoutsRetriesAndMethods() {
    TrafficPlan plan = planWith(routing("vs", "t", "payments", 0, rule("r",
        List.of(new HttpRouting.Match(null, List.of(), "get")), List.of(), Duration.ofSeconds(-1),
        new HttpRouting.Retries(2, Duration.ofDays(400), List.of("5xx", "sometimes")))));

    assertThat(onlyReason(plan)).contains(
        "spec.rules[0].matches[0].method: 'get' is not an HTTP method",
        "spec.rules[0].timeout: PT-1S is negative",
        "spec.rules[0].retries.perTryTimeout: PT9600H is longer than 8760h",
        "spec.rules[0].retries.retryOn[1]: 'sometimes' is not a retry condition");
  }

  @Test
  void rejectsARuleBackendThatDoesNotExistOrLacksThePort() {
    assertThat(onlyReason(planWith(routing("vs", "t", "payments", 0,
        rule("r", List.of(), List.of(new WeightedService("payments-v9", 1)))))))
        .isEqualTo("spec.rules[0].backends[0].service: Service shop/payments-v9 does not exist; create it or "
            + "remove the backend");
    TrafficPlan lacksPort = planWith(routing("vs", "t", "payments", 0,
        rule("r", List.of(), List.of(new WeightedService("payments-v2", 1)))));
    assertThat(lacksPort.rules(key("payments"), 80)).hasSize(1);
    assertThat(lacksPort.rules(key("payments"), 8080)).isEmpty();
    assertThat(onlyReason(lacksPort)).startsWith("spec.rules[0].backends[0].service: Service shop/payments-v2 has no "
        + "port 8080");
  }

  @Test
  void rejectsRuleBackendsThatAllWeighZero() {
    assertThat(onlyReason(planWith(routing("vs", "t", "payments", 80,
        rule("r", List.of(), List.of(new WeightedService("payments-v1", 0)))))))
        .startsWith("spec.rules[0].backends: every weight is 0");
  }

  @Test
  void keepsTheOldestVirtualServicePerPort() {
    TrafficPlan plan = plan(List.of(), List.of(
        routing("all-ports", "2026-02-01T00:00:00Z", "payments", 0, rule("new", List.of(), List.of())),
        routing("port-80", "2026-01-01T00:00:00Z", "payments", 80, rule("old", List.of(), List.of()))));

    assertThat(plan.rules(key("payments"), 80)).extracting(TrafficPlan.RoutedRule::name)
        .containsExactly("shop/port-80/old");
    assertThat(plan.rules(key("payments"), 8080)).extracting(TrafficPlan.RoutedRule::name)
        .containsExactly("shop/all-ports/new");
    assertThat(plan.rejections()).singleElement().satisfies(r -> {
      assertThat(r.source().name()).isEqualTo("all-ports");
      assertThat(r.reason()).startsWith("spec.service: conflicts on port 80 of Service shop/payments with the older "
          + "VirtualService shop/port-80");
    });
  }

  @Test
  void refusesTheNewerInnerSplitWhenTheOuterOneIsOlder() {
    TrafficSplitRule outer = split("canary", "2026-01-01T00:00:00Z", "payments",
        new WeightedService("payments-v1", 90), new WeightedService("payments-v2", 10));
    TrafficSplitRule inner = split("v2-split", "2026-02-01T00:00:00Z", "payments-v2",
        new WeightedService("payments-v1", 1));

    TrafficPlan plan = TrafficPlan.of(state(List.of(PAYMENTS, V1, V2), List.of(inner, outer), List.of()));

    assertThat(plan.split(key("payments"), 80)).contains(outer.source());
    assertThat(plan.defaultDestination(key("payments"), HTTP).backends()).hasSize(2);
    assertThat(plan.split(key("payments-v2"), 80)).isEmpty();
    assertThat(plan.errors(outer.source())).extracting(FieldError::reason)
        .as("the outer split only lacks port 8080 on payments-v2").containsOnly(FieldError.Reason.PORT_MISMATCH);
    assertThat(plan.errors(inner.source())).containsExactly(new FieldError("spec.service",
        FieldError.Reason.CONFLICTED, "Service shop/payments-v2 is a backend of the older TrafficSplit shop/canary "
            + "(its spec.backends[1]), and splits do not nest, so the older one applies; put these backends into "
            + "shop/canary in place of payments-v2, or delete one of the two splits"));
    assertThat(plan.refusedInFavourOf(outer.source())).containsExactly(inner.source());
  }

  @Test
  void refusesTheNewerOuterSplitWhenTheInnerOneIsOlder() {
    TrafficSplitRule inner = split("v2-split", "2026-01-01T00:00:00Z", "payments-v2",
        new WeightedService("payments-v1", 1));
    TrafficSplitRule outer = split("canary", "2026-02-01T00:00:00Z", "payments",
        new WeightedService("payments-v1", 90), new WeightedService("payments-v2", 10));

    TrafficPlan plan = TrafficPlan.of(state(List.of(PAYMENTS, V1, V2), List.of(outer, inner), List.of()));

    assertThat(plan.split(key("payments-v2"), 80)).contains(inner.source());
    assertThat(plan.split(key("payments"), 80)).isEmpty();
    assertThat(plan.defaultDestination(key("payments"), HTTP))
        .isEqualTo(TrafficPlan.Destination.of(cluster("payments", 80)));
    assertThat(plan.errors(inner.source())).isEmpty();
    assertThat(plan.errors(outer.source())).first().isEqualTo(new FieldError("spec.backends[1].service",
        FieldError.Reason.CONFLICTED, "Service shop/payments-v2 is the root of the older TrafficSplit shop/v2-split, "
            + "and splits do not nest, so the older one applies; name the Services behind payments-v2 here instead, "
            + "or delete one of the two splits"));
    assertThat(plan.refusedInFavourOf(inner.source())).containsExactly(outer.source());
  }

  @Test
  void refusesTheNewerSplitOfACycleOnly() {
    MeshState state = state(List.of(service("a", "10.0.0.7", HTTP), service("b", "10.0.0.8", HTTP)), List.of(
        split("b-to-a", "2026-01-01T00:00:00Z", "b", new WeightedService("a", 1)),
        split("a-to-b", "2026-01-01T00:00:00Z", "a", new WeightedService("b", 1))), List.of());

    // Created in the same second: the name breaks the tie.
    assertThat(TrafficPlan.of(state).rejections()).extracting(r -> r.source().name()).containsExactly("b-to-a");
  }

  @Test
  void anOlderSplitThatCannotBeAppliedStillWinsOverANewerOneItWouldNestWith() {
    TrafficSplitRule broken = split("broken", "2026-01-01T00:00:00Z", "payments",
        new WeightedService("payments-v2", 1), new WeightedService("payments-v9", 1));
    TrafficSplitRule inner = split("v2-split", "2026-02-01T00:00:00Z", "payments-v2",
        new WeightedService("payments-v1", 1));

    TrafficPlan plan = TrafficPlan.of(state(List.of(PAYMENTS, V1, V2), List.of(broken, inner), List.of()));

    assertThat(plan.errors(inner.source())).extracting(FieldError::reason).containsExactly(FieldError.Reason.CONFLICTED);
    assertThat(plan.split(key("payments-v2"), 80)).isEmpty();
  }

  @Test
  void allowsTheRootAsItsOwnBackendNextToAnotherSplit() {
    TrafficSplitRule self = split("self", "2026-02-01T00:00:00Z", "payments-v2",
        new WeightedService("payments-v2", 9), new WeightedService("payments-v1", 1));
    TrafficSplitRule other = split("other", "2026-01-01T00:00:00Z", "payments-v1",
        new WeightedService("payments-v1", 1));

    TrafficPlan plan = TrafficPlan.of(state(List.of(V1, V2), List.of(self, other), List.of()));

    assertThat(plan.errors(other.source())).isEmpty();
    assertThat(plan.errors(self.source())).extracting(FieldError::path).containsExactly("spec.backends[1].service");
  }

  @Test
  void listsEveryErrorOfASplitMostFundamentalFirst() {
    MeshService narrow = service("payments-v1", "10.0.0.2", HTTP);
    TrafficSplitRule split = split("s", "2026-01-01T00:00:00Z", "payments", new WeightedService("payments-v1", 1),
        new WeightedService("payments-v3", 1), new WeightedService("payments-v2", 20_000));
    TrafficSplitRule older = split("older", "2025-01-01T00:00:00Z", "payments", new WeightedService("payments", 1));

    List<FieldError> errors = TrafficPlan.of(state(List.of(PAYMENTS, narrow, V2), List.of(split, older), List.of()))
        .errors(split.source());

    assertThat(errors).extracting(FieldError::path, FieldError::reason).containsExactly(
        tuple("spec.backends[2].weight", FieldError.Reason.INVALID),
        tuple("spec.service", FieldError.Reason.CONFLICTED),
        tuple("spec.backends[1].service", FieldError.Reason.SERVICE_NOT_FOUND),
        tuple("spec.backends[0].service", FieldError.Reason.PORT_MISMATCH),
        tuple("spec.backends[2].service", FieldError.Reason.PORT_MISMATCH));
  }

  @Test
  void namesAnExternalNameServiceForWhatItIs() {
    ServiceKey alias = key("stripe");
    MeshState state = new MeshState(Map.of(PAYMENTS.key(), PAYMENTS), List.of(split("s", "2026-01-01T00:00:00Z",
        "payments", new WeightedService("stripe", 1))), List.of(), Set.of(alias));

    assertThat(TrafficPlan.of(state).errors(state.splits().get(0).source())).containsExactly(new FieldError(
        "spec.backends[0].service", FieldError.Reason.SERVICE_NOT_FOUND, "Service shop/stripe is of type "
            + "ExternalName, a DNS alias the mesh does not route; make it a Service with endpoints or remove the "
            + "backend"));
  }

  @Test
  void reportsAMissingServiceAndMissingBackendsOfAVirtualServiceTogether() {
    HttpRouting routing = routing("vs", "t", "nowhere", 0, rule("r", List.of(path(PathKind.EXACT, "relative")),
        List.of(new WeightedService("payments-v9", 1))));

    assertThat(planWith(routing).errors(routing.source())).extracting(FieldError::toString).containsExactly(
        "spec.rules[0].matches[0].path.value: 'relative' must start with '/', e.g. /api/v2",
        "spec.service: Service shop/nowhere does not exist; create it or point spec.service at an existing Service",
        "spec.rules[0].backends[0].service: Service shop/payments-v9 does not exist; create it or remove the backend");
  }

  @Test
  void groupsTheConflictingPortsOfAVirtualServiceAndSaysWhereItStillApplies() {
    MeshService three = service("payments", "10.0.0.1", HTTP, http(8080), http(9090));
    HttpRouting older = routing("all-ports", "2026-01-01T00:00:00Z", "payments", 0, rule("a", List.of(), List.of()));
    HttpRouting only80 = routing("only-80", "2025-01-01T00:00:00Z", "payments", 80, rule("b", List.of(), List.of()));
    HttpRouting newer = routing("all", "2026-02-01T00:00:00Z", "payments", 0, rule("c", List.of(), List.of()));
    MeshService nine = service("nine", "10.0.0.9", http(9090));
    HttpRouting only9090 = routing("only-9090", "2025-06-01T00:00:00Z", "nine", 9090, rule("d", List.of(), List.of()));

    TrafficPlan plan = TrafficPlan.of(state(List.of(three, nine), List.of(), List.of(newer, older, only80, only9090)));

    assertThat(plan.errors(older.source())).extracting(FieldError::message).containsExactly("conflicts on port 80 "
        + "of Service shop/payments with the older VirtualService shop/only-80, and the oldest one wins; merge the "
        + "rules into one VirtualService (on ports 8080, 9090 its rules still apply)");
    assertThat(plan.errors(newer.source())).extracting(FieldError::message).containsExactly(
        "conflicts on port 80 of Service shop/payments with the older VirtualService shop/only-80, and the oldest one "
            + "wins; merge the rules into one VirtualService",
        "conflicts on ports 8080, 9090 of Service shop/payments with the older VirtualService shop/all-ports, and the "
            + "oldest one wins; merge the rules into one VirtualService");
    assertThat(plan.routing(key("payments"), 8080)).contains(older.source());
    assertThat(plan.refusedInFavourOf(older.source())).containsExactly(newer.source());
    assertThat(plan.refusedInFavourOf(only80.source())).containsExactly(older.source(), newer.source());
  }

  @Test
  void checksAnAccessPolicyPathByItsOwnField() {
    assertThat(HttpRuleChecks.path(new HttpRouting.PathCondition(PathKind.PREFIX, "/api/"), "spec.rules[0].to.paths[1]"))
        .extracting(FieldError::path, FieldError::reason)
        .containsExactly(tuple("spec.rules[0].to.paths[1].value",
            FieldError.Reason.INVALID));
  }
}
