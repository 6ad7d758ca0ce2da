package dev.weft.operator.status;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.ResourceStatus;
import dev.weft.operator.validation.ConditionType;
import dev.weft.operator.validation.Outcome;
import dev.weft.operator.validation.Verdict;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The condition bookkeeping of the Kubernetes API conventions: turns a validation verdict into the
 * conditions this operator owns, each stamped with the generation it was computed for, and keeps a
 * condition's lastTransitionTime while its status stays the same (a new reason or message is not a
 * transition). Programmed is added only for the kinds proxies apply, Enforced only for AccessPolicy;
 * conditions of other types are neither returned nor compared, so server-side apply leaves them alone.
 */
public final class StatusConditions {

  /** The condition types this operator writes, in the order they are listed. */
  public static final List<String> OWNED_TYPES = List.of(ConditionType.ACCEPTED, ConditionType.RESOLVED_REFS,
      ConditionType.PROGRAMMED, ConditionType.ENFORCED);

  /** Far below the schema's 32768, and still a readable page in kubectl describe. */
  static final int MAX_MESSAGE_LENGTH = 8_000;

  /**
   * The status to apply and what changed. {@code status} holds only the owned conditions and
   * observedGeneration; {@code changed} says whether it differs from the current status at all
   * (no write is needed otherwise); {@code changes} lists the conditions whose status or reason moved.
   */
  public record Update(ResourceStatus status, boolean changed, List<ConditionChange> changes) {

    public Update {
      changes = List.copyOf(changes);
    }
  }

  private StatusConditions() {}

  /** The next status for a resource at {@code generation}, given its current status (may be null). */
  public static Update next(ResourceStatus current, Verdict verdict, long generation, Instant now) {
    return next(current, verdict, Map.of(), generation, now);
  }

  /**
   * The same, with the conditions the resource's kind has beyond Accepted and ResolvedRefs
   * (Programmed, Enforced), by type, listed in the map's order.
   */
  public static Update next(ResourceStatus current, Verdict verdict, Map<String, ConditionState> more,
      long generation, Instant now) {
    Map<String, ConditionState> outcomes = new LinkedHashMap<>();
    outcomes.put(ConditionType.ACCEPTED, state(verdict.accepted()));
    outcomes.put(ConditionType.RESOLVED_REFS, state(verdict.resolvedRefs()));
    outcomes.putAll(more);
    String timestamp = now.truncatedTo(ChronoUnit.SECONDS).toString();

    List<Condition> conditions = new ArrayList<>();
    List<ConditionChange> changes = new ArrayList<>();
    boolean changed = current == null || !Objects.equals(current.getObservedGeneration(), generation);
    for (Map.Entry<String, ConditionState> entry : outcomes.entrySet()) {
      ConditionState outcome = entry.getValue();
      Condition previous = current == null ? null : current.condition(entry.getKey()).orElse(null);
      Condition.Status status = outcome.status();
      String since = previous != null && previous.getStatus() == status && previous.getLastTransitionTime() != null
          ? previous.getLastTransitionTime() : timestamp;
      Condition condition = new Condition(entry.getKey(), status, outcome.reason(), bounded(outcome.message()),
          generation, since);
      conditions.add(condition);
      changed |= !condition.equals(previous);
      if (previous == null || previous.getStatus() != status
          || !Objects.equals(previous.getReason(), outcome.reason())) {
        changes.add(new ConditionChange(previous, condition));
      }
    }
    ResourceStatus next = new ResourceStatus();
    next.setObservedGeneration(generation);
    next.setConditions(conditions);
    return new Update(next, changed, changes);
  }

  private static ConditionState state(Outcome outcome) {
    return new ConditionState(outcome.passed() ? Condition.Status.True : Condition.Status.False, outcome.reason(),
        outcome.message());
  }

  private static String bounded(String message) {
    if (message.length() <= MAX_MESSAGE_LENGTH) {
      return message;
    }
    String suffix = " ... (cut; fix the problems above to see the rest)";
    return message.substring(0, MAX_MESSAGE_LENGTH - suffix.length()) + suffix;
  }
}
