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

import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.HttpRouting.HeaderKind;
import dev.weft.mesh.HttpRouting.PathKind;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import java.time.Duration;
import java.util.List;
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
        .endsWith("until then port 8080 of shop/payments serves from its own endpoints");
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
}
