package dev.weft.operator.sync;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.operator.status.ConditionState;
import dev.weft.sync.report.SyncReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Adds up the live replicas' reports for one resource generation into its Programmed condition.
 * Pure: reports in, condition out.
 *
 * <p>A replica whose report does not list the generation yet (it has not translated the change,
 * or has not written its report since) is counted as pending with all its connected proxies, since
 * every sidecar's routes carry every applied TrafficSplit and VirtualService; so a change reads
 * {@code Pending} from the first look until the proxies applied it, never "no proxies" while
 * proxies are connected. A truncated report that does not list it is not counted: the entry may
 * have been cut.
 */
public final class ProgrammedAggregator {

  /** Reasons of the Programmed condition (see docs/status.md). */
  public static final String PROGRAMMED = "Programmed";
  public static final String REJECTED = "Rejected";
  public static final String PENDING = "Pending";
  public static final String NO_PROXIES = "NoProxies";
  public static final String NOT_ACCEPTED = "NotAccepted";
  public static final String REFS_NOT_RESOLVED = "RefsNotResolved";

  /** How many rejecting proxies a message names; the count covers all of them. */
  static final int MAX_NAMED_PROXIES = 5;

  private ProgrammedAggregator() {}

  /**
   * Programmed for {@code kind namespace/name} at {@code generation}, given whether its Accepted and
   * ResolvedRefs conditions are True: only then can it be Programmed, and otherwise the reason
   * names the one that is not (Accepted first, as the more fundamental).
   */
  public static ConditionState programmed(String kind, String namespace, String name, long generation,
      boolean accepted, boolean refsResolved, List<SyncReport> liveReports) {
    if (!accepted) {
      return new ConditionState(Condition.Status.False, NOT_ACCEPTED,
          "generation " + generation + " is not served as written while Accepted is False; fix what Accepted names "
              + "(until then the proxies keep the last accepted version where this one cannot apply)");
    }
    if (!refsResolved) {
      return new ConditionState(Condition.Status.False, REFS_NOT_RESOLVED,
          "generation " + generation + " is not served as written while ResolvedRefs is False; fix what ResolvedRefs names "
              + "(until then the proxies keep the last accepted version where this one cannot apply)");
    }
    int proxies = 0;
    int acked = 0;
    int waiting = 0;
    int connected = 0;
    // By message, so that one Envoy error shared by many proxies is said once.
    Map<String, List<String>> rejections = new LinkedHashMap<>();
    int rejecting = 0;
    int watching = 0;
    for (SyncReport report : liveReports) {
      if (!report.watches(namespace)) {
        // That replica never sees the resource: its proxies neither need it nor wait for it.
        continue;
      }
      watching++;
      connected += report.proxies().size();
      boolean listed = false;
      for (SyncReport.ResourceEntry entry : report.resources()) {
        if (entry.generation() != generation || !entry.is(kind, namespace, name)) {
          continue;
        }
        listed = true;
        proxies += entry.proxies();
        acked += entry.acked();
        for (SyncReport.Rejection rejection : entry.nacked()) {
          rejections.computeIfAbsent(rejection.message(), m -> new ArrayList<>()).add(rejection.proxy());
          rejecting++;
        }
      }
      if (!listed && !report.truncated()) {
        waiting += report.proxies().size();
      }
    }
    if (rejecting > 0) {
      return new ConditionState(Condition.Status.False, REJECTED,
          rejectedMessage(rejections, rejecting, proxies));
    }
    if (proxies + waiting == 0) {
      return new ConditionState(Condition.Status.Unknown, NO_PROXIES, liveReports.isEmpty()
          ? "no live xDS server replica reports proxy sync state, so it is unknown whether proxies applied it"
          : watching == 0 ? "no live xDS server replica watches namespace " + namespace + ", so no proxy gets it; "
              + "add the namespace to the xds-server's watched namespaces (helm value watchNamespaces)"
          : connected == 0 ? "no proxy is connected to a live xDS server replica, so none applies generation "
              + generation + " yet"
          : "no connected proxy needs generation " + generation);
    }
    if (acked < proxies + waiting) {
      return new ConditionState(Condition.Status.Unknown, PENDING, pendingMessage(generation, proxies, acked,
          waiting));
    }
    return new ConditionState(Condition.Status.True, PROGRAMMED,
        "applied by " + acked + " of " + proxies + " proxies that need it");
  }

  /**
   * Whether {@code report} counts in the Programmed of {@code kind namespace/name}: it lists the
   * resource, or it counts its connected proxies as waiting for it.
   */
  static boolean countsIn(SyncReport report, String kind, String namespace, String name) {
    return report.lists(kind, namespace, name)
        || (report.watches(namespace) && !report.truncated() && !report.proxies().isEmpty());
  }

  private static String pendingMessage(long generation, int proxies, int acked, int waiting) {
    if (waiting == 0) {
      return "applied by " + acked + " of " + proxies + " proxies that need it; waiting for the rest";
    }
    if (proxies == 0) {
      return "generation " + generation + " not yet applied: 0 of " + waiting
          + " connected proxies; the xDS server has not sent it to them yet";
    }
    return "generation " + generation + " applied by " + acked + " of " + (proxies + waiting)
        + " connected proxies; waiting for the rest (" + waiting + " on xDS server replicas that have not sent it yet)";
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
