package dev.weft.operator.sync;

import static dev.weft.operator.sync.Reports.report;
import static dev.weft.operator.sync.Reports.split;
import static dev.weft.operator.sync.Reports.syncedProxies;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.operator.status.ConditionState;
import dev.weft.sync.report.SyncReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

class ProgrammedAggregatorTest {

  static final String T = "2025-05-01T10:00:00Z";

  static ConditionState programmed(long generation, boolean valid, SyncReport... live) {
    return ProgrammedAggregator.programmed("TrafficSplit", "shop", "pay", generation, valid, valid, List.of(live));
  }

  @Test
  void isProgrammedWhenEveryProxyThatNeedsItAckedAcrossReplicas() {
    ConditionState state = programmed(3, true,
        report("xds-0", T, List.of(), List.of(split(3, 2, 2))),
        report("xds-1", T, List.of(), List.of(split(3, 1, 1), split(2, 4, 4))));

    assertThat(state).isEqualTo(new ConditionState(Condition.Status.True, "Programmed",
        "applied by 3 of 3 proxies that need it"));
  }

  @Test
  void isPendingWhileSomeProxiesHaveNotAckedTheCurrentGeneration() {
    ConditionState state = programmed(3, true,
        report("xds-0", T, List.of(), List.of(split(3, 2, 1), split(2, 4, 4))));

    assertThat(state).isEqualTo(new ConditionState(Condition.Status.Unknown, "Pending",
        "applied by 1 of 2 proxies that need it; waiting for the rest"));
  }

  @Test
  void isRejectedWithEnvoysMessageAndTheProxiesThatRejectedIt() {
    ConditionState state = programmed(3, true,
        report("xds-0", T, List.of(), List.of(split(3, 3, 1,
            new SyncReport.Rejection("web-2.shop", "invalid regex"),
            new SyncReport.Rejection("web-1.shop", "invalid regex")))));

    assertThat(state.status()).isEqualTo(Condition.Status.False);
    assertThat(state.reason()).isEqualTo("Rejected");
    assertThat(state.message()).isEqualTo("2 of 3 proxies that need it rejected the config containing it; the "
        + "proxies keep their last good config. web-1.shop, web-2.shop: Envoy says: invalid regex");
  }

  @Test
  void namesAtMostFiveRejectingProxies() {
    SyncReport.Rejection[] rejections = new SyncReport.Rejection[7];
    for (int i = 0; i < rejections.length; i++) {
      rejections[i] = new SyncReport.Rejection("web-" + i + ".shop", "bad");
    }

    ConditionState state = programmed(1, true, report("xds-0", T, List.of(), List.of(split(1, 7, 0, rejections))));

    assertThat(state.message()).endsWith("web-0.shop, web-1.shop, web-2.shop, web-3.shop, web-4.shop and 2 more: "
        + "Envoy says: bad");
  }

  @Test
  void isPendingWithTheConnectedProxiesWhileNoReportListsTheNewGenerationYet() {
    // The patch made generation 2; the replica still reports generation 1 on its three proxies.
    ConditionState state = programmed(2, true, report("xds-0", T, syncedProxies(3), List.of(split(1, 3, 3))));

    assertThat(state).isEqualTo(new ConditionState(Condition.Status.Unknown, "Pending",
        "generation 2 not yet applied: 0 of 3 connected proxies; the xDS server has not sent it to them yet"));
  }

  @Test
  void isPendingRatherThanWithoutProxiesWhenANewResourceIsNotReportedYet() {
    ConditionState state = programmed(1, true, report("xds-0", T, syncedProxies(3), List.of()));

    assertThat(state.status()).isEqualTo(Condition.Status.Unknown);
    assertThat(state.reason()).isEqualTo("Pending");
    assertThat(state.message()).startsWith("generation 1 not yet applied: 0 of 3 connected proxies");
  }

  @Test
  void doesNotWaitOnAReplicaThatDoesNotWatchTheNamespace() {
    // xds-1 watches only "web": it never sees shop's split, so its proxies are not waiting for it.
    ConditionState state = programmed(2, true,
        report("xds-0", T, syncedProxies(2), List.of(split(2, 2, 2))),
        report("xds-1", T, syncedProxies(3), List.of()).watching(List.of("web")));

    assertThat(state).isEqualTo(new ConditionState(Condition.Status.True, "Programmed",
        "applied by 2 of 2 proxies that need it"));
  }

  @Test
  void saysSoWhenNoLiveReplicaWatchesTheNamespace() {
    ConditionState state = programmed(1, true,
        report("xds-0", T, syncedProxies(3), List.of()).watching(List.of("web", "billing")));

    assertThat(state).isEqualTo(new ConditionState(Condition.Status.Unknown, "NoProxies",
        "no live xDS server replica watches namespace shop, so no proxy gets it; add the namespace to the "
            + "xds-server's watched namespaces (helm value watchNamespaces)"));
    assertThat(ProgrammedAggregator.countsIn(report("xds-0", T, syncedProxies(3), List.of()).watching(List.of("web")),
        "TrafficSplit", "shop", "pay")).isFalse();
  }

  @Test
  void countsTheProxiesOfAReplicaThatHasNotSentTheGenerationYet() {
    ConditionState state = programmed(2, true,
        report("xds-0", T, syncedProxies(2), List.of(split(2, 2, 2))),
        report("xds-1", T, syncedProxies(3), List.of(split(1, 3, 3))));

    assertThat(state).isEqualTo(new ConditionState(Condition.Status.Unknown, "Pending",
        "generation 2 applied by 2 of 5 connected proxies; waiting for the rest (3 on xDS server replicas that "
            + "have not sent it yet)"));
  }

  @Test
  void leavesOutATruncatedReportThatDoesNotListTheResource() {
    SyncReport cut = new SyncReport(1, "xds-1", T, 10, syncedProxies(4), List.of(), true);

    ConditionState state = programmed(2, true, report("xds-0", T, syncedProxies(2), List.of(split(2, 2, 2))), cut);

    assertThat(state.reason()).isEqualTo("Programmed");
  }

  @Test
  void aChangeRollsOutAsOnePendingSpellWithoutNoProxies() {
    List<ConditionState> seen = new ArrayList<>();
    seen.add(programmed(1, true, report("xds-0", T, syncedProxies(3), List.of(split(1, 3, 3)))));
    // Patched: the operator looks before the xds-server has translated, then as the proxies apply it.
    seen.add(programmed(2, true, report("xds-0", T, syncedProxies(3), List.of(split(1, 3, 3)))));
    seen.add(programmed(2, true, report("xds-0", T, syncedProxies(3), List.of(split(2, 3, 0)))));
    seen.add(programmed(2, true, report("xds-0", T, syncedProxies(3), List.of(split(2, 3, 2)))));
    seen.add(programmed(2, true, report("xds-0", T, syncedProxies(3), List.of(split(2, 3, 3)))));

    List<String> transitions = new ArrayList<>();
    for (int i = 0; i < seen.size(); i++) {
      ConditionState state = seen.get(i);
      // What StatusConditions turns into an Event: a new status or reason.
      if (i == 0 || state.status() != seen.get(i - 1).status()
          || !Objects.equals(state.reason(), seen.get(i - 1).reason())) {
        transitions.add(state.status() + "/" + state.reason());
      }
    }
    assertThat(transitions).containsExactly("True/Programmed", "Unknown/Pending", "True/Programmed");
  }

  @Test
  void countsAReportThatListsTheResourceOrWhoseProxiesWaitForIt() {
    SyncReport listing = report("xds-0", T, List.of(), List.of(split(1, 0, 0)));
    SyncReport waiting = report("xds-1", T, syncedProxies(2), List.of());
    SyncReport empty = report("xds-2", T, List.of(), List.of());
    SyncReport cut = new SyncReport(1, "xds-3", T, 10, syncedProxies(2), List.of(), true);

    assertThat(List.of(listing, waiting, empty, cut))
        .filteredOn(r -> ProgrammedAggregator.countsIn(r, "TrafficSplit", "shop", "pay"))
        .extracting(SyncReport::replica).containsExactly("xds-0", "xds-1");
  }

  @Test
  void hasNoProxiesOnlyWhenNoProxyIsConnected() {
    assertThat(programmed(4, true, report("xds-0", T, List.of(), List.of(split(3, 2, 2)))))
        .isEqualTo(new ConditionState(Condition.Status.Unknown, "NoProxies",
            "no proxy is connected to a live xDS server replica, so none applies generation 4 yet"));
    assertThat(programmed(4, true).message()).contains("no live xDS server replica");
  }

  @Test
  void isNotProgrammedWhileNotAcceptedEvenIfProxiesAckedIt() {
    ConditionState state = ProgrammedAggregator.programmed("TrafficSplit", "shop", "pay", 3, false, false,
        List.of(report("xds-0", T, syncedProxies(2), List.of(split(3, 2, 2)))));

    assertThat(state.status()).isEqualTo(Condition.Status.False);
    assertThat(state.reason()).isEqualTo("NotAccepted");
    assertThat(state.message()).contains("Accepted is False");
  }

  @Test
  void namesUnresolvedRefsAsTheReasonWhenTheResourceIsAccepted() {
    ConditionState state = ProgrammedAggregator.programmed("TrafficSplit", "shop", "pay", 3, true, false,
        List.of(report("xds-0", T, syncedProxies(2), List.of(split(3, 2, 2)))));

    assertThat(state).isEqualTo(new ConditionState(Condition.Status.False, "RefsNotResolved",
        "generation 3 is not served as written while ResolvedRefs is False; fix what ResolvedRefs names "
            + "(until then the proxies keep the last accepted version where this one cannot apply)"));
  }
}
