package dev.weft.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.api.v1alpha1.HeaderMatch;
import dev.weft.api.v1alpha1.PathMatch;
import dev.weft.api.v1alpha1.RetryPolicy;
import dev.weft.api.v1alpha1.RouteBackend;
import dev.weft.api.v1alpha1.RouteMatch;
import dev.weft.api.v1alpha1.RouteRule;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.api.v1alpha1.VirtualServiceSpec;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.HttpRouting.HeaderCondition;
import dev.weft.mesh.HttpRouting.HeaderKind;
import dev.weft.mesh.HttpRouting.Match;
import dev.weft.mesh.HttpRouting.PathCondition;
import dev.weft.mesh.HttpRouting.PathKind;
import dev.weft.mesh.HttpRouting.Retries;
import dev.weft.mesh.HttpRouting.Rule;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.WeightedService;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class VirtualServiceConverterTest {

  static final Path EXAMPLES = Path.of(System.getProperty("weft.repo.root", "..")).resolve("docs/examples/valid");

  final KubernetesSerialization serialization = new KubernetesSerialization();

  static VirtualService virtualService(RouteRule... rules) {
    VirtualService vs = new VirtualService();
    vs.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("routes").withGeneration(1L)
        .withCreationTimestamp("2026-01-01T00:00:00Z").build());
    VirtualServiceSpec spec = new VirtualServiceSpec();
    spec.setService("payments");
    spec.setRules(List.of(rules));
    vs.setSpec(spec);
    return vs;
  }

  static RouteRule ruleMatching(RouteMatch match) {
    RouteRule rule = new RouteRule();
    rule.setMatches(List.of(match));
    return rule;
  }

  @Test
  void convertsTheDocumentedExample() throws IOException {
    VirtualService vs = serialization.unmarshal(Files.readString(EXAMPLES.resolve("virtualservice.yaml")), VirtualService.class);

    HttpRouting routing = VirtualServiceConverter.toRouting(vs);

    assertThat(routing.source()).isEqualTo(new SourceRef("VirtualService", "shop", "payments-routes", 0, ""));
    assertThat(routing.service()).isEqualTo(new ServiceKey("shop", "payments"));
    assertThat(routing.port()).isZero();
    assertThat(routing.rules()).containsExactly(
        new Rule("canary-header",
            List.of(new Match(null, List.of(new HeaderCondition("x-canary", HeaderKind.EXACT, "true")), null)),
            List.of(new WeightedService("payments-v2", 0, 1)), null, null),
        new Rule("api-reads",
            List.of(new Match(new PathCondition(PathKind.PREFIX, "/api"), List.of(), "GET")),
            List.of(), Duration.ofSeconds(2),
            new Retries(3, Duration.ofMillis(500), List.of("5xx", "connect-failure", "reset"))));
  }

  @ParameterizedTest
  @CsvSource({"Exact, EXACT", "PathPrefix, PREFIX", "RegularExpression, REGEX"})
  void mapsPathMatchTypes(PathMatch.Type type, PathKind kind) {
    RouteMatch match = new RouteMatch();
    match.setPath(new PathMatch(type, "/api"));

    HttpRouting routing = VirtualServiceConverter.toRouting(virtualService(ruleMatching(match)));

    assertThat(routing.rules().get(0).matches().get(0).path()).isEqualTo(new PathCondition(kind, "/api"));
  }

  @ParameterizedTest
  @CsvSource({"Exact, EXACT", "Prefix, PREFIX", "RegularExpression, REGEX"})
  void mapsHeaderMatchTypes(HeaderMatch.Type type, HeaderKind kind) {
    RouteMatch match = new RouteMatch();
    match.setHeaders(List.of(new HeaderMatch("x-user", type, "a")));

    HttpRouting routing = VirtualServiceConverter.toRouting(virtualService(ruleMatching(match)));

    assertThat(routing.rules().get(0).matches().get(0).headers()).containsExactly(new HeaderCondition("x-user", kind, "a"));
  }

  @Test
  void mapsAPresentHeaderWithoutValue() {
    RouteMatch match = new RouteMatch();
    match.setHeaders(List.of(new HeaderMatch("x-debug", HeaderMatch.Type.Present, null)));

    HttpRouting routing = VirtualServiceConverter.toRouting(virtualService(ruleMatching(match)));

    assertThat(routing.rules().get(0).matches().get(0).headers())
        .containsExactly(new HeaderCondition("x-debug", HeaderKind.PRESENT, null));
  }

  @Test
  void appliesTheSchemaDefaultsWhenFieldsAreUnset() {
    RouteMatch match = new RouteMatch();
    match.setPath(new PathMatch(null, "/api"));
    match.setHeaders(List.of(new HeaderMatch("x-user", null, "a")));
    RouteRule rule = ruleMatching(match);
    rule.setBackends(List.of(new RouteBackend("payments-v2", null, null), new RouteBackend("payments-v3", 8080, 0)));

    Rule converted = VirtualServiceConverter.toRouting(virtualService(rule)).rules().get(0);

    assertThat(converted.name()).isEmpty();
    assertThat(converted.matches().get(0).path()).isEqualTo(new PathCondition(PathKind.PREFIX, "/api"));
    assertThat(converted.matches().get(0).headers()).containsExactly(new HeaderCondition("x-user", HeaderKind.EXACT, "a"));
    assertThat(converted.backends()).containsExactly(
        new WeightedService("payments-v2", 0, 1), new WeightedService("payments-v3", 8080, 0));
    assertThat(converted.timeout()).isNull();
    assertThat(converted.retries()).isNull();
  }

  @Test
  void keepsThePortTheRulesAreLimitedTo() {
    VirtualService vs = virtualService(new RouteRule());
    vs.getSpec().setPort(8080);

    assertThat(VirtualServiceConverter.toRouting(vs).port()).isEqualTo(8080);
  }

  @ParameterizedTest
  @EnumSource(RetryPolicy.RetryOn.class)
  void passesRetryOnAsTheEnvoyNameTheApiUses(RetryPolicy.RetryOn retryOn) {
    String jsonName = serialization.asJson(retryOn).replace("\"", "");

    assertThat(VirtualServiceConverter.envoyName(retryOn)).isEqualTo(jsonName);
  }

  @Test
  void rejectsAMalformedTimeoutNamingTheField() {
    RouteRule fine = new RouteRule();
    RouteRule bad = new RouteRule();
    bad.setRetries(new RetryPolicy(2, "2 seconds", List.of()));

    assertThatThrownBy(() -> VirtualServiceConverter.toRouting(virtualService(fine, bad)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("spec.rules[1].retries.perTryTimeout: '2 seconds' is not a duration");
  }
}
