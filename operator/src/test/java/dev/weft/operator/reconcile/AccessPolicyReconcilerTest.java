package dev.weft.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.ResourceStatus;
import dev.weft.operator.status.ConditionChange;
import dev.weft.operator.status.StatusConditions;
import dev.weft.operator.validation.Outcome;
import dev.weft.operator.validation.Verdict;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The conditions the AccessPolicy reconciler writes, through the status bookkeeping it uses. */
class AccessPolicyReconcilerTest {

  static final Instant T0 = Instant.parse("2025-05-01T10:00:00Z");
  static final Instant T1 = Instant.parse("2025-05-01T10:05:00Z");
  static final Verdict VALID =
      new Verdict(Outcome.passed("Accepted", "the spec is valid"), Outcome.passed("ResolvedRefs", "all there"));
  static final Verdict MISSING_SERVICE = new Verdict(Outcome.passed("Accepted", "the spec is valid"),
      Outcome.failed("BackendNotFound", "spec.service: Service shop/payments does not exist"));

  @Test
  void saysAValidPolicyIsAcceptedButNotEnforced() {
    StatusConditions.Update update =
        StatusConditions.next(null, VALID, AccessPolicyReconciler.MORE_CONDITIONS, 2, T0);

    assertThat(update.status().getConditions()).extracting(Condition::getType, Condition::getStatus)
        .containsExactly(
            tuple("Accepted", Condition.Status.True),
            tuple("ResolvedRefs", Condition.Status.True),
            tuple("Enforced", Condition.Status.False));
    Condition enforced = update.status().condition("Enforced").orElseThrow();
    assertThat(enforced.getReason()).isEqualTo("NotImplemented");
    assertThat(enforced.getObservedGeneration()).isEqualTo(2);
    assertThat(enforced.getMessage())
        .contains("validated", "sidecars do not enforce AccessPolicy yet", "Envoy RBAC on the Service's inbound side");
    assertThat(update.changes()).extracting(ConditionChange::type).contains("Enforced");
  }

  @Test
  void saysAnInvalidPolicyIsNotEnforcedEither() {
    StatusConditions.Update update =
        StatusConditions.next(null, MISSING_SERVICE, AccessPolicyReconciler.MORE_CONDITIONS, 1, T0);

    assertThat(update.status().condition("ResolvedRefs").orElseThrow().getStatus()).isEqualTo(Condition.Status.False);
    assertThat(update.status().condition("Enforced").orElseThrow().getStatus()).isEqualTo(Condition.Status.False);
  }

  @Test
  void aPolicyThatDoesNotChangeIsNotWrittenAgain() {
    ResourceStatus before = StatusConditions.next(null, VALID, AccessPolicyReconciler.MORE_CONDITIONS, 1, T0)
        .status();

    StatusConditions.Update again = StatusConditions.next(before, VALID, AccessPolicyReconciler.MORE_CONDITIONS, 1, T1);

    assertThat(again.changed()).isFalse();
    assertThat(again.changes()).isEmpty();
  }

  @Test
  void anUpdateOfThePolicyKeepsEnforcedSinceItFirstTurnedFalse() {
    ResourceStatus before = StatusConditions.next(null, VALID, AccessPolicyReconciler.MORE_CONDITIONS, 1, T0)
        .status();

    StatusConditions.Update update =
        StatusConditions.next(before, MISSING_SERVICE, AccessPolicyReconciler.MORE_CONDITIONS, 2, T1);

    Condition enforced = update.status().condition("Enforced").orElseThrow();
    assertThat(enforced.getLastTransitionTime()).isEqualTo("2025-05-01T10:00:00Z");
    assertThat(enforced.getObservedGeneration()).isEqualTo(2);
    assertThat(update.changes()).extracting(ConditionChange::type).containsExactly("ResolvedRefs");
  }
}
