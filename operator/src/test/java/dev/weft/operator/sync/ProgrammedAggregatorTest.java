package dev.weft.operator.sync;

import static dev.weft.operator.sync.Reports.report;
import static dev.weft.operator.sync.Reports.split;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.operator.status.ConditionState;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgrammedAggregatorTest {

  static final String T = "2025-05-01T10:00:00Z";

  static ConditionState programmed(long generation, boolean valid, SyncReportDocument... live) {
    return ProgrammedAggregator.programmed("TrafficSplit", "shop", "pay", generation, valid, List.of(live));
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
            new SyncReportDocument.Rejection("web-2.shop", "invalid regex"),
            new SyncReportDocument.Rejection("web-1.shop", "invalid regex")))));

    assertThat(state.status()).isEqualTo(Condition.Status.False);
    assertThat(state.reason()).isEqualTo("Rejected");
    assertThat(state.message()).isEqualTo("2 of 3 proxies that need it rejected the config containing it; the "
        + "proxies keep their last good config. web-1.shop, web-2.shop: Envoy says: invalid regex");
  }

  @Test
  void namesAtMostFiveRejectingProxies() {
    SyncReportDocument.Rejection[] rejections = new SyncReportDocument.Rejection[7];
    for (int i = 0; i < rejections.length; i++) {
      rejections[i] = new SyncReportDocument.Rejection("web-" + i + ".shop", "bad");
    }

    ConditionState state = programmed(1, true, report("xds-0", T, List.of(), List.of(split(1, 7, 0, rejections))));

    assertThat(state.message()).endsWith("web-0.shop, web-1.shop, web-2.shop, web-3.shop, web-4.shop and 2 more: "
        + "Envoy says: bad");
  }

  @Test
  void hasNoProxiesWhenNoConnectedProxyNeedsTheCurrentGeneration() {
    assertThat(programmed(4, true, report("xds-0", T, List.of(), List.of(split(3, 2, 2)))).reason())
        .isEqualTo("NoProxies");
    assertThat(programmed(4, true).message()).contains("no live xDS server replica");
  }

  @Test
  void isNotProgrammedWhileNotAcceptedEvenIfProxiesAckedIt() {
    ConditionState state = programmed(3, false, report("xds-0", T, List.of(), List.of(split(3, 2, 2))));

    assertThat(state.status()).isEqualTo(Condition.Status.False);
    assertThat(state.reason()).isEqualTo("NotAccepted");
  }

  @Test
  void readsTheReportContractAndTellsDeadReplicas() {
    String json = """
        {"replica":"xds-0","updated":"2025-05-01T10:00:00Z","heartbeatSeconds":10,
         "proxies":[{"id":"web-1.shop","namespace":"shop","group":"g","connectedSince":"2025-05-01T09:00:00Z",
           "synced":false,"nack":{"type":"rds","version":"v1","message":"bad","at":"2025-05-01T09:59:00Z"}}],
         "resources":[{"kind":"TrafficSplit","namespace":"shop","name":"pay","generation":2,"proxies":1,"acked":0,
           "nacked":[{"proxy":"web-1.shop","message":"bad"}]}],
         "truncated":false,"somethingNew":1}
        """;

    SyncReportDocument report = SyncReportDocument.parse(json).orElseThrow();

    assertThat(report.proxies()).singleElement().satisfies(p -> assertThat(p.nack().message()).isEqualTo("bad"));
    assertThat(report.resources().get(0).nacked()).extracting(SyncReportDocument.Rejection::proxy)
        .containsExactly("web-1.shop");
    assertThat(report.isLiveAt(Instant.parse("2025-05-01T10:00:30Z"))).isTrue();
    assertThat(report.isLiveAt(Instant.parse("2025-05-01T10:00:31Z"))).isFalse();
    assertThat(report.deadAfter()).contains(Instant.parse("2025-05-01T10:00:30Z"));
    assertThat(report.lists("TrafficSplit", "shop", "pay")).isTrue();
    assertThat(report.lists("VirtualService", "shop", "pay")).isFalse();
    assertThat(SyncReportDocument.parse("not json")).isEmpty();
  }
}
