package dev.weft.operator.validation;

import static dev.weft.operator.validation.Meshes.namespace;
import static dev.weft.operator.validation.Meshes.policy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.AccessPolicy;
import dev.weft.api.v1alpha1.PathMatch;
import java.util.List;
import org.junit.jupiter.api.Test;

class AccessPolicyValidatorTest {

  @Test
  void acceptsPolicyForAnExistingServiceAndSaysItIsNotEnforcedYet() {
    AccessPolicy policy = policy("callers", "payments", List.of(80), new PathMatch(PathMatch.Type.Exact, "/metrics"));

    Verdict verdict = AccessPolicyValidator.validate(policy, namespace().http("payments", 80).view());

    assertThat(verdict.accepted()).isEqualTo(Outcome.passed("Accepted",
        "the spec is valid (see Enforced for whether the sidecars enforce it)"));
    assertThat(verdict.resolvedRefs()).isEqualTo(Outcome.passed("ResolvedRefs",
        "Service shop/payments exists and has every port the rules name"));
  }

  @Test
  void reportsMissingService() {
    Verdict verdict = AccessPolicyValidator.validate(policy("callers", "payments", List.of()), namespace().view());

    assertThat(verdict.resolvedRefs()).isEqualTo(Outcome.failed("BackendNotFound",
        "spec.service: Service shop/payments does not exist; create it or point spec.service at an existing Service"));
  }

  @Test
  void reportsAPortTheServiceDoesNotHave() {
    Verdict verdict = AccessPolicyValidator.validate(policy("callers", "payments", List.of(80, 9090)),
        namespace().http("payments", 80).view());

    assertThat(verdict.resolvedRefs()).isEqualTo(Outcome.failed("PortMismatch",
        "spec.rules[0].to.ports[1]: Service shop/payments has no port 9090; its ports are [80]; use one of them or "
            + "remove the port"));
  }

  @Test
  void namesTheBadPathByItsOwnField() {
    AccessPolicy policy = policy("callers", "payments", List.of(), new PathMatch(PathMatch.Type.Exact, "/ok"),
        new PathMatch(PathMatch.Type.RegularExpression, "/a\\1"));

    Verdict verdict = AccessPolicyValidator.validate(policy, namespace().http("payments", 80).view());

    assertThat(verdict.accepted().reason()).isEqualTo("Invalid");
    assertThat(verdict.accepted().message()).startsWith("spec.rules[0].to.paths[1].value: not a regular expression "
        + "Weft accepts (RE2 syntax): backreferences");
  }
}
