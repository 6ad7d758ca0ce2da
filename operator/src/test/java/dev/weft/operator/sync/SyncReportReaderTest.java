package dev.weft.operator.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.sync.report.SyncReport;
import dev.weft.sync.report.SyncReportJson;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyncReportReaderTest {

  static ConfigMap holding(String json) {
    return new ConfigMapBuilder()
        .withNewMetadata().withNamespace("weft-system").withName("weft-xds-sync-xds-0").endMetadata()
        .addToData(SyncReport.DATA_KEY, json)
        .build();
  }

  @Test
  void readsTheReportTheXdsServerWrote() {
    SyncReport written = SyncReport.content(List.of(Reports.synced("a.shop")), List.of(Reports.split(2, 1, 1)), false)
        .stamped("xds-0", Instant.parse("2025-05-01T10:00:00Z"), Duration.ofSeconds(10));

    assertThat(SyncReportReader.report(holding(SyncReportJson.write(written)))).contains(written);
  }

  @Test
  void ignoresAReportInANewerSchemaAndSaysWhichVersion() {
    ConfigMap newer = holding("{\"schemaVersion\":7,\"replica\":\"xds-0\",\"updated\":\"2025-05-01T10:00:00Z\"}");

    assertThat(SyncReportReader.report(newer)).isEmpty();
    assertThat(SyncReportReader.read(newer)).isEqualTo(new SyncReportJson.NewerSchema(7));
  }

  @Test
  void ignoresAConfigMapWithoutAReport() {
    ConfigMap empty = new ConfigMapBuilder()
        .withNewMetadata().withNamespace("weft-system").withName("weft-xds-sync-xds-9").endMetadata().build();

    assertThat(SyncReportReader.report(empty)).isEmpty();
    assertThat(SyncReportReader.report(holding("{\"replica\":\"xds-0\"}"))).isEmpty();
  }
}
