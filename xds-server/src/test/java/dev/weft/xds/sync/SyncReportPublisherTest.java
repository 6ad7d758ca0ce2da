package dev.weft.xds.sync;

import dev.weft.xds.server.TestClock;
import static dev.weft.xds.sync.SyncFixtures.CANARY;
import static dev.weft.xds.sync.SyncFixtures.RDS;
import static dev.weft.xds.sync.SyncFixtures.T0;
import static dev.weft.xds.sync.SyncFixtures.WEB;
import static dev.weft.xds.sync.SyncFixtures.acked;
import static dev.weft.xds.sync.SyncFixtures.nacked;
import static dev.weft.xds.sync.SyncFixtures.proxy;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.sync.report.SyncReport;
import dev.weft.sync.report.SyncReportJson;
import dev.weft.xds.server.ProxyStatus;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The publisher against the fabric8 mock server in CRUD mode (applies emulated), ticked by hand on a test clock. */
class SyncReportPublisherTest {

  private static final String NAMESPACE = "weft-system";
  private static final String POD = "weft-xds-7d9f-abcde";
  private static final String NAME = "weft-xds-sync-" + POD;
  private static final ObjectMapper JSON = new ObjectMapper();

  private ApplyingMockServer mock;
  private KubernetesMockServer server;
  private KubernetesClient client;

  private final TestClock clock = new TestClock(T0);
  private final AtomicReference<SyncReport> report = new AtomicReference<>(reportOf(
      proxy("web-1.shop", WEB, 1, true, acked(RDS, "r1"))));
  private SyncReportPublisher publisher;

  @BeforeEach
  void startServer() {
    mock = ApplyingMockServer.start();
    server = mock.server();
    client = server.createClient();
  }

  @AfterEach
  void stop() {
    if (publisher != null) {
      publisher.close();
    }
    client.close();
    mock.close();
  }

  private static SyncReport reportOf(ProxyStatus... proxies) {
    SyncFixtures.Contents contents = new SyncFixtures.Contents().with(WEB, RDS, "r1", CANARY);
    List<ProxyStatus> list = List.of(proxies);
    return SyncReportBuilder.build(list, ResourceSyncView.of(list, group -> Map.of(RDS, "r1"), contents),
        SyncReportBuilder.Limits.DEFAULT);
  }

  private SyncReportPublisher publisher(SyncReportPublisher.Settings settings, Clock publisherClock) {
    publisher = new SyncReportPublisher(client, settings, publisherClock, report::get);
    return publisher;
  }

  private SyncReportPublisher publisher() {
    return publisher(SyncReportPublisher.Settings.of(NAMESPACE, POD), clock);
  }

  private ConfigMap configMap() {
    return client.configMaps().inNamespace(NAMESPACE).withName(NAME).get();
  }

  private JsonNode written() throws Exception {
    return JSON.readTree(configMap().getData().get(SyncReport.DATA_KEY));
  }

  @Test
  void writesTheReportIntoOneLabelledConfigMapOwnedByTheReplicasPod() throws Exception {
    Pod pod = client.pods().inNamespace(NAMESPACE).resource(new PodBuilder()
        .withNewMetadata().withNamespace(NAMESPACE).withName(POD).endMetadata()
        .build()).create();

    publisher().tick();

    ConfigMap written = configMap();
    assertThat(written.getMetadata().getLabels()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "app.kubernetes.io/part-of", "weft", "weft.dev/sync-report", "xds"));
    assertThat(written.getMetadata().getOwnerReferences()).singleElement().satisfies(owner -> {
      assertThat(owner.getKind()).isEqualTo("Pod");
      assertThat(owner.getApiVersion()).isEqualTo("v1");
      assertThat(owner.getName()).isEqualTo(POD);
      assertThat(owner.getUid()).isEqualTo(pod.getMetadata().getUid()).isNotBlank();
    });
    assertThat(written.getData()).containsOnlyKeys("report.json");
    JsonNode doc = written();
    assertThat(doc.get("schemaVersion").asInt()).isEqualTo(1);
    assertThat(doc.get("replica").asText()).isEqualTo(POD);
    assertThat(doc.get("updated").asText()).isEqualTo("2024-05-01T12:00:00Z");
    assertThat(doc.get("heartbeatSeconds").asInt()).isEqualTo(10);
    assertThat(doc.get("proxies").findValuesAsText("id")).containsExactly("web-1.shop");
    assertThat(doc.get("resources").get(0).get("name").asText()).isEqualTo("payments-canary");
    assertThat(doc.get("resources").get(0).get("acked").asInt()).isEqualTo(1);
    assertThat(client.configMaps().inNamespace(NAMESPACE).withLabel("weft.dev/sync-report", "xds").list().getItems())
        .hasSize(1);
  }

  @Test
  void writesWhatTheOperatorsReaderReadsBack() {
    publisher().tick();

    SyncReportJson.Result read = SyncReportJson.read(configMap().getData().get(SyncReport.DATA_KEY));

    assertThat(read).isEqualTo(new SyncReportJson.Parsed(
        report.get().stamped(POD, T0, SyncReportPublisher.Settings.DEFAULT_HEARTBEAT)));
  }

  @Test
  void writesByServerSideApplyAsItsOwnFieldManagerForcingConflicts() {
    SyncReportPublisher reporter = publisher();
    reporter.tick();
    clock.advance(Duration.ofSeconds(10));
    reporter.tick();

    assertThat(mock.applies()).hasSize(2).allSatisfy(apply -> {
      assertThat(apply.getMethod()).isEqualTo("PATCH");
      assertThat(apply.getHeader("Content-Type")).startsWith("application/apply-patch+yaml");
      assertThat(apply.getPath()).startsWith("/api/v1/namespaces/" + NAMESPACE + "/configmaps/" + NAME + "?")
          .contains("fieldManager=weft-xds-sync-report").contains("force=true");
    });
    assertThat(mock.applies()).extracting(RecordedRequest::getUtf8Body)
        .noneMatch(body -> body.contains("resourceVersion"));
  }

  @Test
  void hasNoOwnerWhereThePodCannotBeRead() {
    publisher().tick();

    assertThat(configMap().getMetadata().getOwnerReferences()).isEmpty();
  }

  @Test
  void writesNothingWhileTheReportIsUnchanged() {
    SyncReportPublisher reporter = publisher();
    reporter.tick();
    String version = configMap().getMetadata().getResourceVersion();
    int requests = server.getRequestCount();

    for (int i = 0; i < 4; i++) {
      clock.advance(Duration.ofSeconds(2));
      reporter.tick();
    }

    assertThat(server.getRequestCount()).as("no API call at all within the heartbeat").isEqualTo(requests);
    assertThat(configMap().getMetadata().getResourceVersion()).isEqualTo(version);
    assertThat(reporter.writes()).isEqualTo(1);
  }

  @Test
  void batchesChangesIntoAtMostOneWritePerInterval() throws Exception {
    SyncReportPublisher reporter = publisher();
    reporter.tick();

    clock.advance(Duration.ofMillis(500));
    report.set(reportOf(proxy("web-1.shop", WEB, 1, false, nacked(RDS, "r0", "r1", "first"))));
    reporter.tick();
    clock.advance(Duration.ofMillis(1000));
    report.set(reportOf(proxy("web-1.shop", WEB, 1, false, nacked(RDS, "r0", "r1", "second"))));
    reporter.tick();

    assertThat(reporter.writes()).as("changes within 2 s of the last write wait").isEqualTo(1);
    assertThat(written().get("proxies").get(0).has("nack")).isFalse();

    clock.advance(Duration.ofMillis(500));
    reporter.tick();

    assertThat(reporter.writes()).isEqualTo(2);
    JsonNode doc = written();
    assertThat(doc.get("proxies").get(0).get("nack").get("message").asText()).isEqualTo("second");
    assertThat(doc.get("resources").get(0).get("nacked").findValuesAsText("proxy")).containsExactly("web-1.shop");
    assertThat(doc.get("updated").asText()).isEqualTo("2024-05-01T12:00:02Z");
  }

  @Test
  void writesTheFirstChangeAfterAQuietSpellOnTheNextCheck() {
    SyncReportPublisher.Settings defaults = SyncReportPublisher.Settings.of(NAMESPACE, POD);
    assertThat(defaults.checkPeriod()).isEqualTo(Duration.ofMillis(250));
    assertThat(defaults.withTimings(Duration.ofMillis(100), Duration.ofSeconds(1)).checkPeriod())
        .isEqualTo(Duration.ofMillis(100));
    SyncReportPublisher reporter = publisher();
    reporter.tick();

    clock.advance(Duration.ofSeconds(3));
    report.set(reportOf(proxy("web-1.shop", WEB, 1, false, nacked(RDS, "r0", "r1", "quiet"))));
    clock.advance(defaults.checkPeriod());
    reporter.tick();

    assertThat(reporter.writes()).as("written on the first check after the change").isEqualTo(2);
  }

  @Test
  void triesAgainAnIntervalAfterAFailureNotOnEveryCheck() {
    AtomicInteger builds = new AtomicInteger();
    publisher = new SyncReportPublisher(client, SyncReportPublisher.Settings.of(NAMESPACE, POD), clock, () -> {
      builds.incrementAndGet();
      throw new IllegalStateException("the tracker is broken");
    });

    publisher.tick();
    for (int i = 0; i < 7; i++) {
      clock.advance(Duration.ofMillis(250));
      publisher.tick();
    }
    assertThat(builds).as("nothing tried within the 2 s interval after the failure").hasValue(1);

    clock.advance(Duration.ofMillis(250));
    publisher.tick();
    assertThat(builds).hasValue(2);
  }

  @Test
  void writesAHeartbeatWhenNothingChanged() throws Exception {
    SyncReportPublisher reporter = publisher();
    reporter.tick();
    String content = written().get("proxies").toString();

    clock.advance(Duration.ofSeconds(9));
    reporter.tick();
    assertThat(reporter.writes()).isEqualTo(1);
    clock.advance(Duration.ofSeconds(1));
    reporter.tick();

    assertThat(reporter.writes()).isEqualTo(2);
    assertThat(written().get("updated").asText()).isEqualTo("2024-05-01T12:00:10Z");
    assertThat(written().get("proxies").toString()).isEqualTo(content);
  }

  @Test
  void writesOverAConfigMapChangedOrDeletedBehindItsBack() throws Exception {
    SyncReportPublisher reporter = publisher();
    reporter.tick();
    client.configMaps().inNamespace(NAMESPACE).withName(NAME)
        .edit(cm -> new ConfigMapBuilder(cm).editMetadata().addToAnnotations("someone", "else").endMetadata().build());

    clock.advance(Duration.ofSeconds(2));
    report.set(reportOf());
    reporter.tick();

    assertThat(written().get("proxies")).isEmpty();

    client.configMaps().inNamespace(NAMESPACE).withName(NAME).delete();
    clock.advance(Duration.ofSeconds(10));
    reporter.tick();

    assertThat(configMap()).isNotNull();
    assertThat(reporter.writes()).isEqualTo(3);
  }

  @Test
  void deletesTheConfigMapOnClose() {
    SyncReportPublisher reporter = publisher();
    reporter.tick();
    assertThat(configMap()).isNotNull();

    reporter.close();
    publisher = null;

    assertThat(configMap()).isNull();
  }

  @Test
  void reportsOnItsOwnScheduleOnceStarted() {
    SyncReportPublisher reporter = publisher(SyncReportPublisher.Settings.of(NAMESPACE, POD)
        .withTimings(Duration.ofMillis(20), Duration.ofMillis(200)), Clock.systemUTC());

    reporter.start();

    Awaitility.await("the first write and a heartbeat").atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> reporter.writes() >= 2);
    assertThat(configMap()).isNotNull();
  }

  @Test
  void namesTheConfigMapAfterThePod() {
    assertThat(SyncReportPublisher.Settings.of(NAMESPACE, POD).configMapName()).isEqualTo(NAME);
    assertThat(SyncReportPublisher.Settings.of(NAMESPACE, "My_Laptop.local").configMapName())
        .isEqualTo("weft-xds-sync-my-laptop.local");
  }
}
