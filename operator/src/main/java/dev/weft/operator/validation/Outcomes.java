package dev.weft.operator.validation;

import dev.weft.xds.translate.FieldError;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The core's field errors of one resource as the outcomes of its two conditions: errors in the
 * resource itself decide Accepted, errors in what it refers to decide ResolvedRefs. The core lists
 * the most fundamental error first, and its reason becomes the condition's reason; the message
 * lists every error, so one round of fixes can address them all.
 */
final class Outcomes {

  private Outcomes() {}

  static Outcome accepted(List<FieldError> errors, String passedMessage) {
    return outcome(errors.stream().filter(e -> !e.reason().isReference()).toList(), Reason.ACCEPTED, passedMessage);
  }

  static Outcome resolvedRefs(List<FieldError> errors, String passedMessage) {
    return outcome(errors.stream().filter(e -> e.reason().isReference()).toList(), Reason.RESOLVED_REFS,
        passedMessage);
  }

  private static Outcome outcome(List<FieldError> errors, String passedReason, String passedMessage) {
    if (errors.isEmpty()) {
      return Outcome.passed(passedReason, passedMessage);
    }
    return Outcome.failed(Reason.of(errors.get(0).reason()),
        errors.stream().map(FieldError::toString).distinct().collect(Collectors.joining("; ")));
  }
}
