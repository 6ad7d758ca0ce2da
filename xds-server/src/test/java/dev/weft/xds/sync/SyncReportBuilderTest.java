package dev.weft.xds.sync;

import static dev.weft.xds.sync.SyncFixtures.CANARY;
import static dev.weft.xds.sync.SyncFixtures.RDS;
import static dev.weft.xds.sync.SyncFixtures.ROUTES;
import static dev.weft.xds.sync.SyncFixtures.T0;
import static dev.weft.xds.sync.SyncFixtures.WEB;
import static dev.weft.xds.sync.SyncFixtures.acked;
import static dev.weft.xds.sync.SyncFixtures.nacked;
import static dev.weft.xds.sync.SyncFixtures.proxy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.sync.report.SyncReport;
import dev.weft.sync.report.SyncReportJson;
import dev.weft.xds.server.ProxyStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The report built from the tracker's proxies, as written (its JSON) and as the operator reads it. */
class SyncReportBuilderTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static SyncReport report(List<ProxyStatus> proxies, SyncReportBuilder.Limits limits) {
    SyncFixtures.Contents contents = new SyncFixtures.Contents()
        .with(WEB, RDS, "r1", ROUTES)
        .with(WEB, RDS, "r2", CANARY, ROUTES);
    ResourceSyncView view = ResourceSyncView.of(proxies, group -> Map.of(RDS, "r2"), contents);
    return SyncReportBuilder.build(proxies, view, limits);
  }

  private static String json(SyncReport report, String replica, Instant updated) {
    return SyncReportJson.write(report.stamped(replica, updated, Duration.ofSeconds(10)));
  }

  private static JsonNode parse(SyncReport report) throws Exception {
    return JSON.readTree(json(report, "weft-xds-0", T0.plusMillis(61_500)));
  }

  @Test
  void writesTheDocumentedShape() throws Exception {
    List<ProxyStatus> proxies = List.of(
        proxy("web-1.shop", WEB, 1, true, acked(RDS, "r2")),
        proxy("web-2.shop", WEB, 2, false, nacked(RDS, "r1", "r2", "missing ): (weft")));

    JsonNode doc = parse(report(proxies, SyncReportBuilder.Limits.DEFAULT));

    assertThat(doc.fieldNames()).toIterable()
        .containsExactly("schemaVersion", "replica", "updated", "heartbeatSeconds", "proxies", "resources",
            "truncated");
    assertThat(doc.get("schemaVersion").asInt()).isEqualTo(SyncReport.SCHEMA_VERSION);
    assertThat(doc.get("replica").asText()).isEqualTo("weft-xds-0");
    assertThat(doc.get("updated").asText()).isEqualTo("2024-05-01T12:01:01Z");
    assertThat(doc.get("heartbeatSeconds").asInt()).isEqualTo(10);
    assertThat(doc.get("truncated").asBoolean()).isFalse();

    JsonNode rejecting = doc.get("proxies").get(0);
    assertThat(rejecting.fieldNames()).toIterable()
        .containsExactly("id", "namespace", "group", "connectedSince", "synced", "nack");
    assertThat(rejecting.get("id").asText()).isEqualTo("web-2.shop");
    assertThat(rejecting.get("namespace").asText()).isEqualTo("shop");
    assertThat(rejecting.get("group").asText()).isEqualTo(WEB);
    assertThat(rejecting.get("connectedSince").asText()).isEqualTo("2024-05-01T12:00:02Z");
    assertThat(rejecting.get("synced").asBoolean()).isFalse();
    assertThat(rejecting.get("nack").fieldNames()).toIterable().containsExactly("type", "version", "message", "at");
    assertThat(rejecting.get("nack").get("type").asText()).isEqualTo("rds");
    assertThat(rejecting.get("nack").get("version").asText()).isEqualTo("r2");
    assertThat(rejecting.get("nack").get("message").asText()).isEqualTo("missing ): (weft");
    assertThat(rejecting.get("nack").get("at").asText()).isEqualTo("2024-05-01T12:00:30Z");
    JsonNode synced = doc.get("proxies").get(1);
    assertThat(synced.get("id").asText()).isEqualTo("web-1.shop");
    assertThat(synced.has("nack")).as("no standing rejection").isFalse();

    JsonNode canary = doc.get("resources").get(0);
    assertThat(canary.fieldNames()).toIterable()
        .containsExactly("kind", "namespace", "name", "generation", "proxies", "acked", "nacked");
    assertThat(canary.get("kind").asText()).isEqualTo("TrafficSplit");
    assertThat(canary.get("namespace").asText()).isEqualTo("shop");
    assertThat(canary.get("name").asText()).isEqualTo("payments-canary");
    assertThat(canary.get("generation").asLong()).isEqualTo(3);
    assertThat(canary.get("proxies").asInt()).isEqualTo(2);
    assertThat(canary.get("acked").asInt()).isEqualTo(1);
    assertThat(canary.get("nacked")).hasSize(1);
    assertThat(canary.get("nacked").get(0).fieldNames()).toIterable().containsExactly("proxy", "message");
    assertThat(canary.get("nacked").get(0).get("proxy").asText()).isEqualTo("web-2.shop");
    assertThat(canary.get("nacked").get(0).get("message").asText()).isEqualTo("missing ): (weft");
  }

  @Test
  void listsRejectingThenUnsyncedThenSyncedProxies() throws Exception {
    List<ProxyStatus> proxies = List.of(
        proxy("a-synced.shop", WEB, 1, true, acked(RDS, "r2")),
        proxy("b-pending.shop", WEB, 2, false, acked(RDS, "r1")),
        proxy("c-rejecting.shop", WEB, 3, false, nacked(RDS, "r1", "r2", "no")));

    JsonNode doc = parse(report(proxies, SyncReportBuilder.Limits.DEFAULT));

    assertThat(doc.get("proxies").findValuesAsText("id"))
        .containsExactly("c-rejecting.shop", "b-pending.shop", "a-synced.shop");
  }

  @Test
  void listsResourcesWithRejectionsFirst() throws Exception {
    List<ProxyStatus> proxies = List.of(proxy("web-1.shop", WEB, 1, false, nacked(RDS, "r1", "r2", "no")));
    SyncFixtures.Contents contents = new SyncFixtures.Contents()
        .with(WEB, RDS, "r1", ROUTES)
        .with(WEB, RDS, "r2", ROUTES)
        .with(WEB, RDS, "r3", CANARY, ROUTES);
    // By kind the TrafficSplit comes first; the VirtualService goes first as a rejected version (r2) held it.
    ResourceSyncView view = ResourceSyncView.of(proxies, group -> Map.of(RDS, "r3"), contents);

    JsonNode doc = JSON.readTree(json(SyncReportBuilder.build(proxies, view, SyncReportBuilder.Limits.DEFAULT),
        "r", T0));

    assertThat(doc.get("resources").findValuesAsText("name")).containsExactly("payments-api", "payments-canary");
  }

  @Test
  void cutsListsAndMessagesToTheLimitsAndSaysSo() throws Exception {
    List<ProxyStatus> proxies = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      proxies.add(proxy("web-" + i + ".shop", WEB, i, false, nacked(RDS, "r1", "r2", "x".repeat(50))));
    }
    SyncReportBuilder.Limits limits = new SyncReportBuilder.Limits(3, 1, 2, 10, 1 << 20);

    SyncReport report = report(proxies, limits);
    JsonNode doc = parse(report);

    assertThat(report.truncated()).isTrue();
    assertThat(doc.get("truncated").asBoolean()).isTrue();
    assertThat(doc.get("proxies")).hasSize(3);
    assertThat(doc.get("proxies").get(0).get("nack").get("message").asText()).isEqualTo("x".repeat(10));
    assertThat(doc.get("resources")).hasSize(1);
    assertThat(doc.get("resources").get(0).get("proxies").asInt()).as("counts stay whole").isEqualTo(5);
    assertThat(doc.get("resources").get(0).get("nacked")).hasSize(2);
  }

  @Test
  void staysUnderTheByteBudgetByListingFewer() throws Exception {
    List<ProxyStatus> proxies = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      proxies.add(proxy("web-" + i + ".shop", WEB, i, false, nacked(RDS, "r1", "r2", "y".repeat(1024))));
    }
    SyncReportBuilder.Limits limits = new SyncReportBuilder.Limits(1000, 1000, 20, 1024, 64 * 1024);

    SyncReport report = report(proxies, limits);

    assertThat(json(report, "weft-xds-0", T0).getBytes(StandardCharsets.UTF_8).length)
        .isLessThanOrEqualTo(64 * 1024 + 200);
    assertThat(report.truncated()).isTrue();
    assertThat(parse(report).get("proxies").size()).isBetween(1, 199);
  }

  @Test
  void escapesEnvoysMessagesAsJsonStrings() throws Exception {
    String message = "Invalid regex '\"(\\d': missing )\nat line 1\t";
    List<ProxyStatus> proxies = List.of(proxy("web-1.shop", WEB, 1, false, nacked(RDS, "r1", "r2", message)));

    JsonNode doc = parse(report(proxies, SyncReportBuilder.Limits.DEFAULT));

    assertThat(doc.get("proxies").get(0).get("nack").get("message").asText()).isEqualTo(message);
  }

  @Test
  void contentLeavesOutTheTimeSoAnUnchangedStateNeedsNoWrite() {
    List<ProxyStatus> proxies = List.of(proxy("web-1.shop", WEB, 1, true, acked(RDS, "r2")));

    SyncReport first = report(proxies, SyncReportBuilder.Limits.DEFAULT);
    SyncReport second = report(proxies, SyncReportBuilder.Limits.DEFAULT);

    assertThat(first).isEqualTo(second);
    assertThat(first.updated()).isNull();
    assertThat(json(first, "r", T0)).isNotEqualTo(json(second, "r", T0.plusSeconds(10)));
  }

  @Test
  void roundTripsThroughTheJsonTheOperatorReads() {
    List<ProxyStatus> proxies = List.of(
        proxy("web-1.shop", WEB, 1, true, acked(RDS, "r2")),
        proxy("web-2.shop", WEB, 2, false, nacked(RDS, "r1", "r2", "Invalid regex '\"(\\d': missing )\n")));
    SyncReport written = report(proxies, SyncReportBuilder.Limits.DEFAULT)
        .stamped("weft-xds-0", T0, Duration.ofSeconds(10));

    SyncReportJson.Result read = SyncReportJson.read(SyncReportJson.write(written));

    assertThat(read).isEqualTo(new SyncReportJson.Parsed(written));
    SyncReport report = ((SyncReportJson.Parsed) read).report();
    assertThat(report.proxies()).extracting(SyncReport.ProxyEntry::id).containsExactly("web-2.shop", "web-1.shop");
    assertThat(report.proxies().get(0).standingNack()).hasValueSatisfying(nack -> {
      assertThat(nack.type()).isEqualTo("rds");
      assertThat(nack.message()).isEqualTo("Invalid regex '\"(\\d': missing )\n");
    });
    assertThat(report.resources()).extracting(SyncReport.ResourceEntry::name, SyncReport.ResourceEntry::generation,
        SyncReport.ResourceEntry::proxies, SyncReport.ResourceEntry::acked)
        .contains(tuple("payments-canary", 3L, 2, 1));
  }
}
