package dev.weft.e2e;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Samples in milliseconds and their p50/p99/max, for the numbers benchmarks print. */
public final class Percentiles {

  private final List<Double> samples = new ArrayList<>();

  public void add(double millis) {
    samples.add(millis);
  }

  public double percentile(double p) {
    List<Double> sorted = new ArrayList<>(samples);
    Collections.sort(sorted);
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(index, sorted.size() - 1)));
  }

  @Override
  public String toString() {
    return String.format("n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms", samples.size(), percentile(50),
        percentile(99), percentile(100));
  }
}
