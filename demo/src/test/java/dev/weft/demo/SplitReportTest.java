package dev.weft.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SplitReportTest {

  private static final Map<String, Integer> CANARY = Map.of("payments-v1", 90, "payments-v2", 10);

  @Test
  void rendersCountShareAndBarPerBackend() {
    Traffic.Tally tally = tally(1812, 188, 0);

    assertThat(SplitReport.render(tally)).isEqualTo("""
        payments-v1   1812   90.6%  #############################################
        payments-v2    188    9.4%  #####
        """);
  }

  @Test
  void rendersFailuresWithTheFirstOne() {
    Traffic.Tally tally = tally(9, 0, 1);

    assertThat(SplitReport.render(tally)).endsWith("failed 1 of 10, first: FAILED 503 no healthy upstream\n");
  }

  @Test
  void matchesWithinTolerancePointsOfEachWeight() {
    assertThat(SplitReport.matches(tally(1740, 260, 0), CANARY, 3.0)).isTrue();
    assertThat(SplitReport.matches(tally(1860, 140, 0), CANARY, 3.0)).isTrue();
    assertThat(SplitReport.matches(tally(1730, 270, 0), CANARY, 3.0)).isFalse();
    assertThat(SplitReport.matches(tally(2000, 0, 0), CANARY, 3.0)).isFalse();
  }

  @Test
  void anyFailureOrUnexpectedBackendIsNoMatch() {
    assertThat(SplitReport.matches(tally(1799, 200, 1), CANARY, 3.0)).isFalse();
    Traffic.Tally stranger = tally(1800, 190, 0);
    for (int i = 0; i < 10; i++) {
      stranger.add("payments-v3");
    }
    assertThat(SplitReport.matches(stranger, CANARY, 3.0)).isFalse();
    assertThat(SplitReport.matches(new Traffic.Tally(), CANARY, 3.0)).isFalse();
  }

  @Test
  void canaryYamlIsTheNinetyTenSplitOnPayments() {
    assertThat(WeftDemo.canaryYaml()).isEqualTo("""
        apiVersion: weft.dev/v1alpha1
        kind: TrafficSplit
        metadata:
          name: payments-canary
          namespace: demo
        spec:
          service: payments
          backends:
          - service: payments-v1
            weight: 90
          - service: payments-v2
            weight: 10
        """);
  }

  private static Traffic.Tally tally(int v1, int v2, int failed) {
    Traffic.Tally tally = new Traffic.Tally();
    for (int i = 0; i < v1; i++) {
      tally.add("payments-v1");
    }
    for (int i = 0; i < v2; i++) {
      tally.add("payments-v2");
    }
    for (int i = 0; i < failed; i++) {
      tally.add("FAILED 503 no healthy upstream");
    }
    return tally;
  }
}
