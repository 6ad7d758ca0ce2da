package dev.weft.operator.validation;

import static dev.weft.operator.validation.Meshes.namespace;
import static dev.weft.operator.validation.Meshes.rule;
import static dev.weft.operator.validation.Meshes.split;
import static dev.weft.operator.validation.Meshes.vs;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitSpec;
import org.junit.jupiter.api.Test;

class TrafficSplitValidatorTest {

  static final TrafficSplit CANARY = split("payments-canary", 0, "payments", "payments-v1=90", "payments-v2=10");

  static Meshes payments() {
    return namespace().http("payments", 80, 8080).http("payments-v1", 80, 8080).http("payments-v2", 80, 8080);
  }

  @Test
  void acceptsSplitWhoseServicesExistAndExposeTheRootsPorts() {
    Verdict verdict = TrafficSplitValidator.validate(CANARY, payments().with(CANARY).view());

    assertThat(verdict.accepted()).isEqualTo(Outcome.passed("Accepted",
        "the spec is valid and this is the only TrafficSplit for Service shop/payments"));
    assertThat(verdict.resolvedRefs()).isEqualTo(Outcome.passed("ResolvedRefs",
        "every Service named exists and exposes the ports of shop/payments [80, 8080]"));
  }

  @Test
  void reportsMissingBackendWithTheFieldAndTheFix() {
    TrafficSplit split = split("payments-canary", 0, "payments", "payments-v1=90", "payments-v3=10");

    Verdict verdict = TrafficSplitValidator.validate(split, payments().view());

    assertThat(verdict.accepted().passed()).as("a missing backend is a reference problem, not an invalid spec")
        .isTrue();
    assertThat(verdict.resolvedRefs()).isEqualTo(Outcome.failed("BackendNotFound",
        "spec.backends[1].service: Service shop/payments-v3 does not exist; create it or remove the backend"));
  }

  @Test
  void reportsMissingRootService() {
    Verdict verdict = TrafficSplitValidator.validate(CANARY, namespace().http("payments-v1", 80)
        .http("payments-v2", 80).view());

    assertThat(verdict.resolvedRefs()).isEqualTo(Outcome.failed("BackendNotFound",
        "spec.service: Service shop/payments does not exist; create it or point spec.service at an existing Service"));
  }

  @Test
  void reportsExternalNameBackendAsUnroutable() {
    Verdict verdict = TrafficSplitValidator.validate(CANARY, namespace().http("payments", 80).http("payments-v1", 80)
        .externalName("payments-v2").view());

    assertThat(verdict.resolvedRefs().reason()).isEqualTo("BackendNotFound");
    assertThat(verdict.resolvedRefs().message()).isEqualTo("spec.backends[1].service: Service shop/payments-v2 is of "
        + "type ExternalName, a DNS alias the mesh does not route; make it a Service with endpoints or remove the "
        + "backend");
  }

  @Test
  void reportsBackendThatLacksOneOfTheRootsPorts() {
    Verdict verdict = TrafficSplitValidator.validate(CANARY, namespace().http("payments", 80, 8080)
        .http("payments-v1", 80, 8080).http("payments-v2", 80).view());

    assertThat(verdict.resolvedRefs()).isEqualTo(Outcome.failed("PortMismatch",
        "spec.backends[1].service: Service shop/payments-v2 has no port 8080, which the root Service shop/payments "
            + "exposes; its ports are [80]; add port 8080 to payments-v2 or remove the backend (until then, port "
            + "8080 of shop/payments serves from its own endpoints)"));
  }

  @Test
  void missingBackendOutranksPortMismatchAndEveryProblemIsListed() {
    TrafficSplit split = split("s", 0, "payments", "payments-v1=1", "payments-v2=1", "payments-v3=1");

    Verdict verdict = TrafficSplitValidator.validate(split, namespace().http("payments", 80, 8080)
        .http("payments-v1", 80).http("payments-v2", 80, 8080).view());

    assertThat(verdict.resolvedRefs().reason()).isEqualTo("BackendNotFound");
    assertThat(verdict.resolvedRefs().message())
        .startsWith("spec.backends[2].service: Service shop/payments-v3 does not exist")
        .contains("; spec.backends[0].service: Service shop/payments-v1 has no port 8080");
  }

  @Test
  void allowsTheRootAsItsOwnBackend() {
    TrafficSplit split = split("s", 0, "payments", "payments=90", "payments-v2=10");

    Verdict verdict = TrafficSplitValidator.validate(split, payments().with(split).view());

    assertThat(verdict.accepted().passed()).isTrue();
    assertThat(verdict.resolvedRefs().passed()).isTrue();
  }

  @Test
  void keepsAnOlderSplitAndRefusesANewerSplitOfOneOfItsBackends() {
    TrafficSplit inner = split("v2-split", 5, "payments-v2", "payments-v2a=1", "payments-v2b=1");
    NamespaceView view = payments().http("payments-v2a", 80, 8080).http("payments-v2b", 80, 8080).with(CANARY)
        .with(inner).view();

    assertThat(TrafficSplitValidator.validate(inner, view).accepted()).isEqualTo(Outcome.failed("Conflicted",
        "spec.service: Service shop/payments-v2 is a backend of the older TrafficSplit shop/payments-canary (its "
            + "spec.backends[1]), and splits do not nest, so the older one applies; put these backends into "
            + "shop/payments-canary in place of payments-v2, or delete one of the two splits"));
    assertThat(TrafficSplitValidator.validate(CANARY, view).accepted()).as("the live split is not knocked out")
        .isEqualTo(Outcome.passed("Accepted", "the spec is valid and this is the only TrafficSplit for Service "
            + "shop/payments; splits do not nest, so the newer TrafficSplit shop/v2-split is refused"));
  }

  @Test
  void refusesANewerSplitWhoseBackendIsTheRootOfAnOlderOne() {
    TrafficSplit inner = split("v2-split", 0, "payments-v2", "payments-v2a=1", "payments-v2b=1");
    TrafficSplit outer = split("payments-canary", 5, "payments", "payments-v1=90", "payments-v2=10");
    NamespaceView view = payments().http("payments-v2a", 80, 8080).http("payments-v2b", 80, 8080).with(inner)
        .with(outer).view();

    assertThat(TrafficSplitValidator.validate(outer, view).accepted()).isEqualTo(Outcome.failed("Conflicted",
        "spec.backends[1].service: Service shop/payments-v2 is the root of the older TrafficSplit shop/v2-split, "
            + "and splits do not nest, so the older one applies; name the Services behind payments-v2 here instead, "
            + "or delete one of the two splits"));
    assertThat(TrafficSplitValidator.validate(inner, view).accepted().passed()).isTrue();
  }

  @Test
  void refusesOnlyTheNewerSplitOfACycle() {
    TrafficSplit ab = split("ab", 0, "a", "b=1");
    TrafficSplit ba = split("ba", 1, "b", "a=1");
    NamespaceView view = namespace().http("a", 80).http("b", 80).with(ab).with(ba).view();

    assertThat(TrafficSplitValidator.validate(ab, view).accepted().passed()).isTrue();
    assertThat(TrafficSplitValidator.validate(ba, view).accepted().reason()).isEqualTo("Conflicted");
  }

  @Test
  void refusesTheNewerOfTwoSplitsForOneRootNamingTheOlder() {
    TrafficSplit older = split("payments-a", 0, "payments", "payments-v1=1");
    TrafficSplit newer = split("payments-b", 5, "payments", "payments-v2=1");
    NamespaceView view = payments().with(older).with(newer).view();

    Verdict refused = TrafficSplitValidator.validate(newer, view);
    Verdict kept = TrafficSplitValidator.validate(older, view);

    assertThat(refused.accepted()).isEqualTo(Outcome.failed("Conflicted",
        "spec.service: conflicts with the older TrafficSplit shop/payments-a for Service shop/payments, and the "
            + "oldest one wins; delete one of them or merge their backends into one TrafficSplit"));
    assertThat(refused.resolvedRefs().passed()).isTrue();
    assertThat(kept.accepted()).isEqualTo(Outcome.passed("Accepted", "the spec is valid and this is the oldest "
        + "TrafficSplit for Service shop/payments, so it applies and the newer ones are refused (shop/payments-b)"));
  }

  @Test
  void breaksAnAgeTieByName() {
    TrafficSplit b = split("b", 3, "payments", "payments-v1=1");
    TrafficSplit a = split("a", 3, "payments", "payments-v2=1");
    NamespaceView view = payments().with(b).with(a).view();

    assertThat(TrafficSplitValidator.validate(a, view).accepted().passed()).isTrue();
    assertThat(TrafficSplitValidator.validate(b, view).accepted().reason()).isEqualTo("Conflicted");
  }

  @Test
  void findsTheConflictWhenTheViewDoesNotYetHoldTheSplitItself() {
    TrafficSplit older = split("payments-a", 0, "payments", "payments-v1=1");
    TrafficSplit newer = split("payments-b", 5, "payments", "payments-v2=1");

    assertThat(TrafficSplitValidator.validate(newer, payments().with(older).view()).accepted().reason())
        .isEqualTo("Conflicted");
  }

  @Test
  void explainsPrecedenceWhenAVirtualServiceRoutesTheSameService() {
    NamespaceView view = payments().with(CANARY)
        .with(vs("payments-routes", 1, "payments", null, rule("/api", "payments-v2"))).view();

    Verdict verdict = TrafficSplitValidator.validate(CANARY, view);

    assertThat(verdict.accepted()).isEqualTo(Outcome.passed("Accepted", "the spec is valid and this is the only "
        + "TrafficSplit for Service shop/payments; VirtualService shop/payments-routes also routes payments and "
        + "comes first: its rules are tried before this split, and requests that match no rule, or a rule "
        + "without backends, are split by these weights"));
  }

  @Test
  void reportsASplitTheMeshCannotReadAndChecksNoReference() {
    TrafficSplit split = split("unweighted", 0, "payments", "payments-v1=1");
    split.getSpec().getBackends().get(0).setWeight(null);

    Verdict verdict = TrafficSplitValidator.validate(split, payments().view());

    assertThat(verdict.accepted()).isEqualTo(Outcome.failed("Invalid",
        "spec.backends[0]: needs both service and weight"));
    assertThat(verdict.resolvedRefs()).isEqualTo(Outcome.failed("Invalid",
        "not checked, because spec.backends[0] cannot be read; fix it first"));
  }

  @Test
  void reportsAStoredObjectWithoutSpec() {
    TrafficSplit split = split("empty", 0, "payments", "payments-v1=1");
    split.setSpec(new TrafficSplitSpec());

    Verdict verdict = TrafficSplitValidator.validate(split, payments().view());

    assertThat(verdict.accepted()).isEqualTo(Outcome.failed("Invalid",
        "spec: missing; a TrafficSplit needs spec.service and spec.backends"));
    assertThat(verdict.resolvedRefs().passed()).isFalse();
  }
}
