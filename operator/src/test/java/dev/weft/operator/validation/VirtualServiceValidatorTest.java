package dev.weft.operator.validation;

import static dev.weft.operator.validation.Meshes.headerRegexRule;
import static dev.weft.operator.validation.Meshes.namespace;
import static dev.weft.operator.validation.Meshes.regexRule;
import static dev.weft.operator.validation.Meshes.rule;
import static dev.weft.operator.validation.Meshes.split;
import static dev.weft.operator.validation.Meshes.vs;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.RouteRule;
import dev.weft.api.v1alpha1.VirtualService;
import org.junit.jupiter.api.Test;

class VirtualServiceValidatorTest {

  static final VirtualService ROUTES = vs("payments-routes", 0, "payments", null, rule("/api", "payments-v2"));

  static Meshes payments() {
    return namespace().http("payments", 80).http("payments-v1", 80).http("payments-v2", 80);
  }

  @Test
  void acceptsRoutesWhoseServiceAndBackendsExist() {
    Verdict verdict = VirtualServiceValidator.validate(ROUTES, payments().with(ROUTES).view());

    assertThat(verdict.accepted()).isEqualTo(Outcome.passed("Accepted", "the spec is valid and no older applicable "
        + "VirtualService routes port 80 of Service shop/payments; requests that match no rule go to Service "
        + "shop/payments as if there were no VirtualService"));
    assertThat(verdict.resolvedRefs()).isEqualTo(Outcome.passed("ResolvedRefs", "Service shop/payments exists with "
        + "HTTP port(s) 80, and every rule backend exists and exposes the port it is reached on"));
  }

  @Test
  void allowsATrafficSplitForTheSameServiceAndSaysWhichComesFirst() {
    Verdict verdict = VirtualServiceValidator.validate(ROUTES, payments()
        .with(split("payments-canary", 3, "payments", "payments-v1=90", "payments-v2=10")).view());

    assertThat(verdict.accepted().passed()).isTrue();
    assertThat(verdict.accepted().message()).endsWith("; its rules are tried first, and requests that match no rule, "
        + "or a rule without backends, go through TrafficSplit shop/payments-canary");
  }

  @Test
  void reportsMissingServiceAndMissingBackend() {
    VirtualService vs = vs("r", 0, "payments", null, rule("/api", "payments-v1"), rule(null, "payments-v3"));

    Verdict verdict = VirtualServiceValidator.validate(vs, namespace().http("payments-v1", 80).view());

    assertThat(verdict.resolvedRefs()).isEqualTo(Outcome.failed("BackendNotFound", "spec.service: Service "
        + "shop/payments does not exist; create it or point spec.service at an existing Service; "
        + "spec.rules[1].backends[0].service: Service shop/payments-v3 does not exist; create it or remove the "
        + "backend"));
  }

  @Test
  void reportsAPortTheServiceDoesNotHave() {
    VirtualService vs = vs("r", 0, "payments", 81, rule("/api", "payments-v2"));

    Verdict verdict = VirtualServiceValidator.validate(vs, payments().view());

    assertThat(verdict.resolvedRefs()).isEqualTo(Outcome.failed("PortMismatch",
        "spec.port: Service shop/payments has no port 81; use one of its ports [80] or leave spec.port unset"));
  }

  @Test
  void reportsHttpRulesOnATcpPort() {
    VirtualService onPort = vs("r", 0, "db", 5432, rule("/x"));
    VirtualService onService = vs("s", 0, "db", null, rule("/x"));
    NamespaceView view = namespace().tcp("db", 5432).view();

    assertThat(VirtualServiceValidator.validate(onPort, view).resolvedRefs()).isEqualTo(Outcome.failed(
        "UnsupportedProtocol", "spec.port: port 5432 of Service shop/db is TCP, so HTTP rules cannot apply; declare "
            + "its protocol (appProtocol: http, or a port name starting with http-) or pick an HTTP port"));
    assertThat(VirtualServiceValidator.validate(onService, view).resolvedRefs().message())
        .startsWith("spec.service: Service shop/db has no HTTP port, so HTTP rules cannot apply");
  }

  @Test
  void reportsABackendWithoutThePortRequestsComeInOn() {
    VirtualService implicit = vs("r", 0, "payments", null, rule("/api", "payments-v2"));
    VirtualService explicit = vs("s", 0, "payments", null, rule("/api", "payments-v2:9090"));
    NamespaceView view = namespace().http("payments", 80, 8080).http("payments-v2", 80).view();

    assertThat(VirtualServiceValidator.validate(implicit, view).resolvedRefs()).isEqualTo(Outcome.failed(
        "PortMismatch", "spec.rules[0].backends[0].service: Service shop/payments-v2 has no port 8080 (the port "
            + "requests for shop/payments come in on); its ports are [80]; add the port to payments-v2, set the "
            + "backend's port, or remove the backend (until then, the rules do not apply on that port)"));
    assertThat(VirtualServiceValidator.validate(explicit, view).resolvedRefs()).isEqualTo(Outcome.failed(
        "PortMismatch", "spec.rules[0].backends[0].port: Service shop/payments-v2 has no port 9090; its ports are "
            + "[80]; add the port to payments-v2 or name one of its ports"));
  }

  @Test
  void refusesTheNewerOfTwoVirtualServicesForOneServicePort() {
    VirtualService older = vs("payments-a", 0, "payments", null, rule("/a", "payments-v1"));
    VirtualService newer = vs("payments-b", 5, "payments", null, rule("/b", "payments-v2"));
    NamespaceView view = payments().with(older).with(newer).view();

    assertThat(VirtualServiceValidator.validate(newer, view).accepted()).isEqualTo(Outcome.failed("Conflicted",
        "spec.service: conflicts on port 80 of Service shop/payments with the older VirtualService "
            + "shop/payments-a, and the oldest one wins; merge the rules into one VirtualService"));
    assertThat(VirtualServiceValidator.validate(older, view).accepted().message())
        .contains("so newer ones for the same ports are refused (shop/payments-b)");
  }

  @Test
  void keepsTheRulesOnPortsNoOlderVirtualServiceRoutes() {
    VirtualService older = vs("only-80", 0, "payments", 80, rule("/a", "payments-v1"));
    VirtualService newer = vs("all-ports", 5, "payments", null, rule("/b", "payments-v2"));
    NamespaceView view = namespace().http("payments", 80, 8080).http("payments-v1", 80, 8080)
        .http("payments-v2", 80, 8080).with(older).with(newer).view();

    assertThat(VirtualServiceValidator.validate(newer, view).accepted()).isEqualTo(Outcome.failed("Conflicted",
        "spec.service: conflicts on port 80 of Service shop/payments with the older VirtualService shop/only-80, "
            + "and the oldest one wins; merge the rules into one VirtualService (on port 8080 its rules still apply)"));
  }

  @Test
  void anOlderVirtualServiceThatCannotApplyBlocksNobody() {
    // As in the translator: the oldest one that can be applied owns the port.
    VirtualService broken = vs("broken", 0, "payments", null, rule("/a", "payments-v9"));
    VirtualService working = vs("working", 5, "payments", null, rule("/b", "payments-v2"));
    NamespaceView view = payments().with(broken).with(working).view();

    assertThat(VirtualServiceValidator.validate(working, view).accepted().passed()).isTrue();
    assertThat(VirtualServiceValidator.validate(broken, view).resolvedRefs().reason()).isEqualTo("BackendNotFound");
  }

  @Test
  void refusesARegexEnvoyWouldRejectWithTheTranslatorsReason() {
    RouteRule lookahead = regexRule("/api/(?=v2).*");
    VirtualService vs = vs("r", 0, "payments", null, rule("/ok", "payments-v1"), lookahead);

    Verdict verdict = VirtualServiceValidator.validate(vs, payments().view());

    assertThat(verdict.accepted().reason()).isEqualTo("Invalid");
    assertThat(verdict.accepted().message()).startsWith("spec.rules[1].matches[0].path.value: not a regular "
        + "expression Weft accepts (RE2 syntax): lookahead (?= or (?! is not supported by RE2");
    assertThat(verdict.resolvedRefs().passed()).isTrue();
  }

  @Test
  void refusesAHeaderRegexTooBigForEnvoy() {
    VirtualService vs = vs("r", 0, "payments", null, headerRegexRule("x-user", "[a-z]{200}"));

    Verdict verdict = VirtualServiceValidator.validate(vs, payments().view());

    assertThat(verdict.accepted().message()).startsWith("spec.rules[0].matches[0].headers[0].value: the regular "
        + "expression is too complex for Envoy");
  }

  @Test
  void refusesATimeoutLongerThanAYear() {
    RouteRule slow = rule("/slow");
    slow.setTimeout("9000h");

    Verdict verdict = VirtualServiceValidator.validate(vs("r", 0, "payments", null, slow), payments().view());

    assertThat(verdict.accepted()).isEqualTo(Outcome.failed("Invalid", "spec.rules[0].timeout: PT9000H is longer "
        + "than 8760h; use a shorter duration, or 0s to turn the timeout off"));
  }

  @Test
  void anInvalidOlderVirtualServiceDoesNotBlockANewerOne() {
    VirtualService invalid = vs("invalid", 0, "payments", null, regexRule("(a"));
    VirtualService valid = vs("valid", 5, "payments", null, rule("/b", "payments-v2"));

    assertThat(VirtualServiceValidator.validate(valid, payments().with(invalid).with(valid).view()).accepted()
        .passed()).isTrue();
  }
}
