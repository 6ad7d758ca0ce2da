package dev.weft.operator.sync;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.operator.status.ConditionState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Adds up the live replicas' reports for one resource generation into its Programmed condition.
 * Pure: reports in, condition out.
 */
public final class ProgrammedAggregator {

  /** Reasons of the Programmed condition (see docs/status.md). */
  public static final String PROGRAMMED = "Programmed";
  public static final String REJECTED = "Rejected";
  public static final String PENDING = "Pending";
  public static final String NO_PROXIES = "NoProxies";
  public static final String NOT_ACCEPTED = "NotAccepted";

  /** How many rejecting proxies a message names; the count covers all of them. */
  static final int MAX_NAMED_PROXIES = 5;

  private ProgrammedAggregator() {}

  /**
   * Programmed for {@code kind namespace/name} at {@code generation}. {@code valid} is whether
   * Accepted and ResolvedRefs are both True: only then can it be Programmed.
   */
  public static ConditionState programmed(String kind, String namespace, String name, long generation, boolean valid,
      List<SyncReportDocument> liveReports) {
    if (!valid) {
      return new ConditionState(Condition.Status.False, NOT_ACCEPTED,
          "not sent to the proxies as written while Accepted or ResolvedRefs is not True; fix what they name");
    }
    int proxies = 0;
    int acked = 0;
    // By message, so that one Envoy error shared by many proxies is said once.
    Map<String, List<String>> rejections = new LinkedHashMap<>();
    int rejecting = 0;
    for (SyncReportDocument report : liveReports) {
      for (SyncReportDocument.ResourceEntry entry : report.resources()) {
        if (entry.generation() != generation || !entry.is(kind, namespace, name)) {
          continue;
        }
        proxies += entry.proxies();
        acked += entry.acked();
        for (SyncReportDocument.Rejection rejection : entry.nacked()) {
          rejections.computeIfAbsent(rejection.message(), m -> new ArrayList<>()).add(rejection.proxy());
          rejecting++;
        }
      }
    }
    if (rejecting > 0) {
      return new ConditionState(Condition.Status.False, REJECTED,
          rejectedMessage(rejections, rejecting, proxies));
    }
    if (proxies == 0) {
      return new ConditionState(Condition.Status.Unknown, NO_PROXIES, liveReports.isEmpty()
          ? "no live xDS server replica reports proxy sync state, so it is unknown whether proxies applied it"
          : "no connected proxy needs generation " + generation + " yet");
    }
    if (acked < proxies) {
      return new ConditionState(Condition.Status.Unknown, PENDING,
          "applied by " + acked + " of " + proxies + " proxies that need it; waiting for the rest");
    }
    return new ConditionState(Condition.Status.True, PROGRAMMED,
        "applied by " + acked + " of " + proxies + " proxies that need it");
  }

  private static String rejectedMessage(Map<String, List<String>> rejections, int rejecting, int proxies) {
    StringBuilder message = new StringBuilder().append(rejecting).append(" of ").append(Math.max(proxies, rejecting))
        .append(" proxies that need it rejected the config containing it; the proxies keep their last good config. ");
    List<String> parts = new ArrayList<>();
    int named = 0;
    for (Map.Entry<String, List<String>> entry : rejections.entrySet()) {
      List<String> ids = entry.getValue().stream().sorted().limit(Math.max(0, MAX_NAMED_PROXIES - named))
          .collect(Collectors.toList());
      named += ids.size();
      String who = ids.isEmpty() ? entry.getValue().size() + " proxies" : String.join(", ", ids)
          + (ids.size() < entry.getValue().size() ? " and " + (entry.getValue().size() - ids.size()) + " more" : "");
      parts.add(who + ": Envoy says: " + entry.getKey());
    }
    return message.append(String.join("; ", parts)).toString();
  }
}
