package dev.weft.demo;

import java.util.Map;

/** The observed split as the demo prints it, and whether it matches the weights asked for. */
final class SplitReport {

  private static final int BAR_WIDTH = 50;

  private SplitReport() {}

  /**
   * One line per backend that answered: name, count, share and a bar, then the failures if any,
   * e.g. {@code payments-v1  1803   90.2%  #############}.
   */
  static String render(Traffic.Tally tally) {
    Map<String, Integer> answers = tally.answers();
    int width = answers.keySet().stream().mapToInt(String::length).max().orElse(0);
    StringBuilder text = new StringBuilder();
    answers.forEach((backend, count) -> {
      double share = (double) count / tally.total();
      text.append(String.format("%-" + width + "s  %5d  %5.1f%%  %s%n", backend, count, 100 * share,
          "#".repeat((int) Math.round(share * BAR_WIDTH))));
    });
    if (!tally.failures().isEmpty()) {
      text.append(String.format("failed %d of %d, first: %s%n", tally.failures().size(), tally.total(),
          tally.failures().get(0)));
    }
    return text.toString();
  }

  /**
   * Whether every request succeeded and each backend's share is within {@code tolerance}
   * percentage points of its weight's share; backends with no weight must not have answered.
   */
  static boolean matches(Traffic.Tally tally, Map<String, Integer> weights, double tolerance) {
    if (tally.total() == 0 || !tally.failures().isEmpty()) {
      return false;
    }
    int totalWeight = weights.values().stream().mapToInt(Integer::intValue).sum();
    if (!weights.keySet().containsAll(tally.answers().keySet())) {
      return false;
    }
    return weights.entrySet().stream().allMatch(w -> {
      double wanted = 100.0 * w.getValue() / totalWeight;
      return Math.abs(100 * tally.share(w.getKey()) - wanted) <= tolerance;
    });
  }
}
