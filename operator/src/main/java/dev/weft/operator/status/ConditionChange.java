package dev.weft.operator.status;

import dev.weft.api.v1alpha1.Condition;
import java.util.Objects;

/**
 * One condition that changed its status or reason: what it was ({@code null} when first set) and
 * what it is now. Each becomes a Kubernetes Event on the resource.
 */
public record ConditionChange(Condition previous, Condition current) {

  public ConditionChange {
    Objects.requireNonNull(current, "current");
  }

  public String type() {
    return current.getType();
  }

  /** A condition turning False is worth a Warning event; anything else is Normal. */
  public boolean isWarning() {
    return current.getStatus() == Condition.Status.False;
  }
}
