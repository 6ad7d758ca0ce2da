package dev.weft.operator.validation;

import java.util.ArrayList;
import java.util.List;

/**
 * The problems found for one condition, in the order they were found. The first one's reason
 * becomes the condition's reason, so validators look for the most fundamental problems first
 * (a missing Service before a missing port); the message lists them all, so one round of fixes
 * can address everything.
 */
final class Problems {

  private record Problem(String reason, String message) {}

  private final List<Problem> found = new ArrayList<>();

  void add(String reason, String message) {
    found.add(new Problem(reason, message));
  }

  boolean isEmpty() {
    return found.isEmpty();
  }

  int size() {
    return found.size();
  }

  /** Failed with the first problem's reason and every message, or passed with the given reason and message. */
  Outcome outcome(String passedReason, String passedMessage) {
    if (found.isEmpty()) {
      return Outcome.passed(passedReason, passedMessage);
    }
    List<String> messages = found.stream().map(Problem::message).distinct().toList();
    return Outcome.failed(found.get(0).reason(), String.join("; ", messages));
  }
}
