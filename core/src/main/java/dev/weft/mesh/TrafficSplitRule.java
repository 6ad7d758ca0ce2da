package dev.weft.mesh;

import java.util.List;

/** A TrafficSplit as the core sees it: requests for {@code root} are spread across {@code backends}. */
public record TrafficSplitRule(SourceRef source, ServiceKey root, List<WeightedService> backends) {

  public TrafficSplitRule {
    backends = List.copyOf(backends);
  }
}
