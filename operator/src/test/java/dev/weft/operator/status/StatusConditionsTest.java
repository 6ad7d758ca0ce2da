package dev.weft.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.ResourceStatus;
import dev.weft.operator.validation.ConditionType;
import dev.weft.operator.validation.Outcome;
import dev.weft.operator.validation.Verdict;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusConditionsTest {

  static final Instant T0 = Instant.parse("2025-05-01T10:00:00.250Z");
  static final Instant T1 = Instant.parse("2025-05-01T10:05:00Z");
  static final Verdict GOOD =
      new Verdict(Outcome.passed("Accepted", "fine"), Outcome.passed("ResolvedRefs", "all there"));
  static final Verdict MISSING = new Verdict(Outcome.passed("Accepted", "fine"),
      Outcome.failed("BackendNotFound", "spec.backends[1].service: Service shop/x does not exist; create it or remove "
          + "the backend"));

  @Test
  void firstVerdictSetsEveryOwnedConditionWithGenerationAndTime() {
    StatusConditions.Update update = StatusConditions.next(null, MISSING, 3, T0);

    assertThat(update.changed()).isTrue();
    assertThat(update.status().getObservedGeneration()).isEqualTo(3);
    assertThat(update.status().getConditions()).containsExactly(
        new Condition("Accepted", Condition.Status.True, "Accepted", "fine", 3L, "2025-05-01T10:00:00Z"),
        new Condition("ResolvedRefs", Condition.Status.False, "BackendNotFound", MISSING.resolvedRefs().message(), 3L,
            "2025-05-01T10:00:00Z"));
    assertThat(update.changes()).extracting(ConditionChange::type).containsExactly("Accepted", "ResolvedRefs");
    assertThat(update.changes()).extracting(ConditionChange::previous).containsOnlyNulls();
  }

  @Test
  void keepsTheTransitionTimeWhileTheStatusStaysTheSame() {
    ResourceStatus before = StatusConditions.next(null, MISSING, 1, T0).status();

    StatusConditions.Update update = StatusConditions.next(before, MISSING, 2, T1);

    assertThat(update.changed()).as("observedGeneration moved").isTrue();
    assertThat(update.changes()).isEmpty();
    assertThat(update.status().getConditions()).allSatisfy(c -> {
      assertThat(c.getLastTransitionTime()).isEqualTo("2025-05-01T10:00:00Z");
      assertThat(c.getObservedGeneration()).isEqualTo(2);
    });
  }

  @Test
  void writesNothingWhenNothingChanged() {
    ResourceStatus before = StatusConditions.next(null, GOOD, 1, T0).status();

    StatusConditions.Update update = StatusConditions.next(before, GOOD, 1, T1);

    assertThat(update.changed()).isFalse();
    assertThat(update.changes()).isEmpty();
    assertThat(update.status()).isEqualTo(before);
  }

  @Test
  void movesTheTransitionTimeOnlyForTheConditionWhoseStatusChanged() {
    ResourceStatus before = StatusConditions.next(null, MISSING, 1, T0).status();

    StatusConditions.Update update = StatusConditions.next(before, GOOD, 1, T1);

    assertThat(update.status().condition("Accepted").orElseThrow().getLastTransitionTime())
        .isEqualTo("2025-05-01T10:00:00Z");
    Condition resolved = update.status().condition("ResolvedRefs").orElseThrow();
    assertThat(resolved.getLastTransitionTime()).isEqualTo("2025-05-01T10:05:00Z");
    assertThat(resolved.getStatus()).isEqualTo(Condition.Status.True);
    assertThat(update.changes()).singleElement().satisfies(change -> {
      assertThat(change.previous().getReason()).isEqualTo("BackendNotFound");
      assertThat(change.current().getReason()).isEqualTo("ResolvedRefs");
      assertThat(change.isWarning()).isFalse();
    });
  }

  @Test
  void aNewReasonWithTheSameStatusIsAnEventButNotATransition() {
    ResourceStatus before = StatusConditions.next(null, MISSING, 1, T0).status();
    Verdict portMismatch = new Verdict(GOOD.accepted(), Outcome.failed("PortMismatch", "spec.backends[0]: no port"));

    StatusConditions.Update update = StatusConditions.next(before, portMismatch, 2, T1);

    Condition resolved = update.status().condition("ResolvedRefs").orElseThrow();
    assertThat(resolved.getLastTransitionTime()).isEqualTo("2025-05-01T10:00:00Z");
    assertThat(resolved.getReason()).isEqualTo("PortMismatch");
    assertThat(update.changes()).singleElement().satisfies(change -> assertThat(change.isWarning()).isTrue());
  }

  @Test
  void leavesConditionsOfOtherOwnersOutOfTheApplyAndTheComparison() {
    ResourceStatus before = StatusConditions.next(null, GOOD, 1, T0).status();
    List<Condition> withProgrammed = new ArrayList<>(before.getConditions());
    withProgrammed.add(new Condition("Programmed", Condition.Status.Unknown, "Pending", "waiting", 1L,
        "2025-05-01T10:00:00Z"));
    before.setConditions(withProgrammed);

    StatusConditions.Update update = StatusConditions.next(before, GOOD, 1, T1);

    assertThat(update.changed()).isFalse();
    assertThat(update.status().getConditions()).extracting(Condition::getType)
        .containsExactly("Accepted", "ResolvedRefs");
  }

  @Test
  void cutsAMessageLongerThanAPageOfKubectlDescribe() {
    Verdict huge = new Verdict(Outcome.failed("Invalid", "x".repeat(50_000)), GOOD.resolvedRefs());

    String message = StatusConditions.next(null, huge, 1, T0).status().condition("Accepted").orElseThrow()
        .getMessage();

    assertThat(message).hasSize(StatusConditions.MAX_MESSAGE_LENGTH).endsWith("(cut; fix the problems above to see "
        + "the rest)");
  }

  @Test
  void programmedMovesFromUnknownToFalseAndBackWithATransitionEachTimeAndAnEventForEachReason() {
    ConditionState pending = new ConditionState(Condition.Status.Unknown, "Pending", "applied by 1 of 2");
    ConditionState rejected = new ConditionState(Condition.Status.False, "Rejected", "web.shop: Envoy says: bad");
    ResourceStatus before = StatusConditions.next(null, GOOD, Map.of(ConditionType.PROGRAMMED, pending), 1, T0).status();

    StatusConditions.Update update = StatusConditions.next(before, GOOD, Map.of(ConditionType.PROGRAMMED, rejected), 1, T1);

    assertThat(update.changed()).isTrue();
    assertThat(update.status().condition("Programmed").orElseThrow()).isEqualTo(
        new Condition("Programmed", Condition.Status.False, "Rejected", "web.shop: Envoy says: bad", 1L,
            "2025-05-01T10:05:00Z"));
    assertThat(update.changes()).singleElement().satisfies(change -> {
      assertThat(change.type()).isEqualTo("Programmed");
      assertThat(change.isWarning()).isTrue();
    });
    assertThat(StatusConditions.next(update.status(), GOOD, Map.of(ConditionType.PROGRAMMED, rejected), 1, T1).changed())
        .isFalse();
  }
}
