package dev.weft.operator.validation;

import java.util.Objects;

/** The verdict for one condition type: passed or not, a CamelCase reason, a message naming the field and the fix. */
public record Outcome(boolean passed, String reason, String message) {

  public Outcome {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
  }

  public static Outcome passed(String reason, String message) {
    return new Outcome(true, reason, message);
  }

  public static Outcome failed(String reason, String message) {
    return new Outcome(false, reason, message);
  }
}
