package dev.weft.operator.status;

import dev.weft.api.v1alpha1.Condition;
import java.util.Objects;

/** The value of one condition before bookkeeping: True, False or Unknown, with a reason and a message. */
public record ConditionState(Condition.Status status, String reason, String message) {

  public ConditionState {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
  }
}
