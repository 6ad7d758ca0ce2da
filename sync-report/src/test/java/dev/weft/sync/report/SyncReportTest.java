package dev.weft.sync.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyncReportTest {

  static SyncReport written(String updated, long heartbeatSeconds) {
    return new SyncReport(1, "xds-0", updated, heartbeatSeconds, List.of(),
        List.of(new SyncReport.ResourceEntry("TrafficSplit", "shop", "pay", 2, 1, 1, List.of())), false);
  }

  @Test
  void isLiveForThreeHeartbeatsAfterItWasWritten() {
    SyncReport report = written("2025-05-01T10:00:00Z", 10);

    assertThat(report.isLiveAt(Instant.parse("2025-05-01T10:00:30Z"))).isTrue();
    assertThat(report.isLiveAt(Instant.parse("2025-05-01T10:00:31Z"))).isFalse();
    assertThat(report.deadAfter()).contains(Instant.parse("2025-05-01T10:00:30Z"));
  }

  @Test
  void withoutAValidTimeIsNeverLive() {
    assertThat(written("soon", 10).isLiveAt(Instant.EPOCH)).isFalse();
    assertThat(written(null, 10).deadAfter()).isEmpty();
  }

  @Test
  void listsAResourceAtAnyGeneration() {
    SyncReport report = written("2025-05-01T10:00:00Z", 10);

    assertThat(report.lists("TrafficSplit", "shop", "pay")).isTrue();
    assertThat(report.lists("VirtualService", "shop", "pay")).isFalse();
  }

  @Test
  void contentComparesEqualWhateverTheStamp() {
    SyncReport content = SyncReport.content(List.of(), List.of(), false);
    SyncReport first = content.stamped("xds-0", Instant.parse("2025-05-01T10:00:00.900Z"), Duration.ofSeconds(10));
    SyncReport later = content.stamped("xds-0", Instant.parse("2025-05-01T10:00:10Z"), Duration.ofSeconds(10));

    assertThat(content).isEqualTo(SyncReport.content(List.of(), List.of(), false));
    assertThat(first.updated()).as("to the second, as Kubernetes writes times").isEqualTo("2025-05-01T10:00:00Z");
    assertThat(first).isNotEqualTo(later);
    assertThat(first.schemaVersion()).isEqualTo(SyncReport.SCHEMA_VERSION);
  }
}
