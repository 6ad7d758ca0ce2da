package dev.weft.sync.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyncReportJsonTest {

  static final Instant T0 = Instant.parse("2025-05-01T10:00:00.750Z");

  static SyncReport report() {
    return SyncReport.content(
        List.of(
            new SyncReport.ProxyEntry("web-2.shop", "shop", "web.shop@0.0.0.0:8080", "2025-05-01T09:00:00Z", false,
                new SyncReport.Nack("rds", "v7", "Invalid regex '\"(\\d': missing )\nat line 1\t ü",
                    "2025-05-01T09:59:00Z")),
            new SyncReport.ProxyEntry("web-1.shop", "shop", "web.shop@0.0.0.0:8080", "2025-05-01T09:00:01Z", true,
                null)),
        List.of(new SyncReport.ResourceEntry("TrafficSplit", "shop", "pay", 2, 2, 1,
            List.of(new SyncReport.Rejection("web-2.shop", "missing )")))),
        false).stamped("xds-0", T0, Duration.ofSeconds(10));
  }

  @Test
  void readsBackExactlyWhatItWrote() {
    SyncReport written = report();

    SyncReportJson.Result read = SyncReportJson.read(SyncReportJson.write(written));

    assertThat(read).isEqualTo(new SyncReportJson.Parsed(written));
  }

  @Test
  void writesTheDocumentedFieldsInTheirOrderAndLeavesOutAnAbsentNack() {
    String json = SyncReportJson.write(report());

    assertThat(json).startsWith("{\"schemaVersion\":1,\"replica\":\"xds-0\",\"updated\":\"2025-05-01T10:00:00Z\","
        + "\"heartbeatSeconds\":10,\"proxies\":[{\"id\":\"web-2.shop\",\"namespace\":\"shop\",");
    assertThat(json).contains("{\"id\":\"web-1.shop\",\"namespace\":\"shop\",\"group\":\"web.shop@0.0.0.0:8080\","
        + "\"connectedSince\":\"2025-05-01T09:00:01Z\",\"synced\":true}");
    assertThat(json).contains("\"resources\":[{\"kind\":\"TrafficSplit\",\"namespace\":\"shop\",\"name\":\"pay\","
        + "\"generation\":2,\"proxies\":2,\"acked\":1,"
        + "\"nacked\":[{\"proxy\":\"web-2.shop\",\"message\":\"missing )\"}]}]");
    assertThat(json).endsWith(",\"truncated\":false}");
  }

  @Test
  void carriesTheWatchedNamespacesStampedOrNotAndLeavesThemOutWhenAllAreWatched() {
    SyncReport narrow = report().watching(List.of("web", "shop")).stamped("xds-0", T0, Duration.ofSeconds(10));

    String json = SyncReportJson.write(narrow);

    assertThat(json).endsWith(",\"truncated\":false,\"namespaces\":[\"shop\",\"web\"]}");
    assertThat(SyncReportJson.read(json)).isEqualTo(new SyncReportJson.Parsed(narrow));
    assertThat(narrow.watches("shop")).isTrue();
    assertThat(narrow.watches("billing")).isFalse();
    assertThat(report().watches("billing")).as("a report without the field: every namespace").isTrue();
  }

  @Test
  void readsAReportWrittenBeforeThereWasASchemaVersionAsVersionOne() {
    String json = """
        {"replica":"xds-0","updated":"2025-05-01T10:00:00Z","heartbeatSeconds":10,
         "proxies":[{"id":"web-1.shop","namespace":"shop","group":"g","connectedSince":"2025-05-01T09:00:00Z",
           "synced":false,"nack":{"type":"rds","version":"v1","message":"bad","at":"2025-05-01T09:59:00Z"}}],
         "resources":[{"kind":"TrafficSplit","namespace":"shop","name":"pay","generation":2,"proxies":1,"acked":0,
           "nacked":[{"proxy":"web-1.shop","message":"bad"}]}],
         "truncated":false}
        """;

    SyncReport report = ((SyncReportJson.Parsed) SyncReportJson.read(json)).report();

    assertThat(report.schemaVersion()).isEqualTo(1);
    assertThat(report.proxies()).singleElement().satisfies(p -> assertThat(p.nack().message()).isEqualTo("bad"));
    assertThat(report.resources().get(0).nacked()).extracting(SyncReport.Rejection::proxy)
        .containsExactly("web-1.shop");
  }

  @Test
  void ignoresFieldsAddedWithinTheSameSchemaVersion() {
    String json = """
        {"schemaVersion":1,"replica":"xds-0","updated":"2025-05-01T10:00:00Z","heartbeatSeconds":10,
         "proxies":[{"id":"a","namespace":"shop","synced":true,"locality":"zone-a"}],"resources":[],
         "truncated":false,"somethingNew":{"x":1}}
        """;

    assertThat(SyncReportJson.read(json)).isInstanceOfSatisfying(SyncReportJson.Parsed.class,
        parsed -> assertThat(parsed.report().proxies()).extracting(SyncReport.ProxyEntry::id).containsExactly("a"));
  }

  @Test
  void doesNotReadAReportInANewerSchemaVersion() {
    // Version 2 might have changed what "proxies" means; nothing of it is bound, not even the parts that parse.
    String json = """
        {"schemaVersion":2,"replica":"xds-0","updated":"2025-05-01T10:00:00Z","heartbeatSeconds":10,
         "proxies":{"count":3},"resources":[],"truncated":false}
        """;

    assertThat(SyncReportJson.read(json)).isEqualTo(new SyncReportJson.NewerSchema(2));
  }

  @Test
  void saysWhatIsWrongWithADocumentThatIsNoReport() {
    assertThat(SyncReportJson.read(null)).isInstanceOf(SyncReportJson.Malformed.class);
    assertThat(SyncReportJson.read("not json")).isInstanceOf(SyncReportJson.Malformed.class);
    assertThat(SyncReportJson.read("[1]")).isEqualTo(new SyncReportJson.Malformed("not a JSON object"));
    assertThat(SyncReportJson.read("{\"schemaVersion\":\"one\",\"replica\":\"x\"}"))
        .isEqualTo(new SyncReportJson.Malformed("schemaVersion \"one\" is not a positive integer"));
    assertThat(SyncReportJson.read("{\"updated\":\"2025-05-01T10:00:00Z\"}"))
        .isEqualTo(new SyncReportJson.Malformed("no replica"));
    assertThat(SyncReportJson.read("{\"replica\":\"x\",\"updated\":\"yesterday\"}"))
        .isEqualTo(new SyncReportJson.Malformed("no valid updated time: yesterday"));
    assertThat(SyncReportJson.read("{\"replica\":\"x\",\"updated\":\"2025-05-01T10:00:00Z\",\"proxies\":7}"))
        .isInstanceOf(SyncReportJson.Malformed.class);
  }
}
