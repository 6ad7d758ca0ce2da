package dev.weft.e2e.scale;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Issue 10's targets for 1,000 Services × 2,000 proxies, next to what a {@link ScaleBench} row
 * measured: printed after the table, so a run says which it meets without anyone reading the
 * columns against the issue. It prints; it never fails a run (numbers depend on the machine).
 */
final class ScaleTargets {

  static final int SERVICES = 1000;
  static final int PROXIES = 2000;

  /** One target: what it is, its bound, and how to read the measured value from a row. */
  private record Target(String what, double bound, String unit, Function<ScaleBench.Row, Optional<Double>> measured) {

    String line(ScaleBench.Row row) {
      Optional<Double> value = measured.apply(row);
      String verdict = value.map(v -> v <= bound ? "met" : "not met").orElse("not measured");
      return String.format("| %s | ≤ %s %s | %s | %s |", what, format(bound), unit,
          value.map(v -> format(v) + " " + unit).orElse("-"), verdict);
    }
  }

  private static final List<Target> TARGETS = List.of(
      new Target("all proxies synced from cold", 10, "s", row -> number(row.syncSeconds)),
      new Target("TrafficSplit edit → last ACK, p99", 250, "ms", row -> row.split.p99()),
      new Target("  the first one after the sync (JIT cold)", 250, "ms", row -> row.splitWarmup.firstEdit()),
      new Target("endpoint change → last ACK, p99", 100, "ms", row -> row.endpoints.p99()),
      new Target("  the first one after the sync (JIT cold)", 100, "ms", row -> row.endpointsWarmup.firstEdit()),
      new Target("bytes pushed per weight edit, all proxies", 5, "MB", row -> row.split.megabytesPerEdit()),
      new Target("live heap after garbage collection", 200, "MiB",
          row -> row.heapAfterSync.map(sync -> Math.max(sync, row.heapAfterEdits.orElse(sync)))),
      new Target("steady state", 0.1, "cores", row -> number(row.steadyCores)));

  private ScaleTargets() {}

  /** The targets against each completed delta row of the target's size, or a line saying no row has it. */
  static String report(List<ScaleBench.Row> rows) {
    List<ScaleBench.Row> sized = rows.stream()
        .filter(r -> r.services == SERVICES && r.proxies == PROXIES && r.mode.startsWith("delta")
            && !r.mode.contains("joining") && !r.died())
        .toList();
    if (sized.isEmpty()) {
      return String.format("ScaleBench targets: no completed delta row at %,d Services × %,d proxies in this run"
          + " (-Dweft.bench.services=%d -Dweft.bench.proxies=%d)", SERVICES, PROXIES, SERVICES, PROXIES);
    }
    List<String> lines = new ArrayList<>();
    for (ScaleBench.Row row : sized) {
      lines.add(String.format("ScaleBench targets (issue 10) at %,d Services × %,d proxies (%s), heap %s:",
          SERVICES, PROXIES, row.mode, row.heap));
      lines.add("| target | bound | measured | |");
      lines.add("| --- | --- | --- | --- |");
      TARGETS.forEach(target -> lines.add(target.line(row)));
    }
    return String.join("\n", lines);
  }

  private static Optional<Double> number(double value) {
    return Double.isNaN(value) ? Optional.empty() : Optional.of(value);
  }

  private static String format(double value) {
    return value >= 10 ? String.format("%,.0f", value) : String.format("%.2f", value);
  }
}
