package dev.weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DebugEndpointTest {

  private static final String CDS = Resources.V3.CLUSTER_TYPE_URL;

  private final TestClock clock = new TestClock(Instant.parse("2025-01-01T00:00:00Z"));
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private ConnectedProxies proxies;
  private SnapshotPublisher publisher;
  private ProxySyncTracker tracker;
  private DebugEndpoint endpoint;

  @BeforeEach
  void start() throws Exception {
    proxies = new ConnectedProxies(clock, registry);
    publisher = new SnapshotPublisher(() -> groups -> {
      Map<dev.weft.mesh.ProxyGroup, dev.weft.xds.translate.ProxyConfig> result = new HashMap<>();
      groups.forEach(g -> result.put(g, TestConfigs.sidecar(15001, "payments")));
      return result;
    }, proxies, clock, registry);
    tracker = new ProxySyncTracker(proxies, publisher::servedVersions, registry);
    endpoint = DebugEndpoint.start(new InetSocketAddress("127.0.0.1", 0), tracker, publisher, registry);
  }

  @AfterEach
  void stop() {
    endpoint.stop();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A proxy that got CDS version 1 and rejected it, fed in as the ADS server would. */
  private void nackingProxy() throws Exception {
    DiscoveryRequest first = DiscoveryRequest.newBuilder().setTypeUrl(CDS)
        .setNode(TestConfigs.sidecarNode("web-1", "shop", "web", "8080")).build();
    proxies.onStreamOpen(1, "");
    proxies.onV3StreamRequest(1, first);
    proxies.onV3StreamResponse(1, first, DiscoveryResponse.newBuilder().setTypeUrl(CDS).setVersionInfo("v1")
        .setNonce("0").build());
    proxies.onV3StreamRequest(1, DiscoveryRequest.newBuilder().setTypeUrl(CDS).setResponseNonce("0")
        .setErrorDetail(com.google.rpc.Status.newBuilder().setMessage("cluster \"payments\": bad\nvalue")).build());
  }

  @Test
  void readyOnlyOnceTheFirstSnapshotIsPublished() throws Exception {
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(get("/readyz").statusCode()).isEqualTo(503);

    publisher.publish();

    assertThat(get("/readyz").statusCode()).isEqualTo(200);
  }

  @Test
  void proxiesAreServedAsJsonWithStableFieldNames() throws Exception {
    nackingProxy();

    HttpResponse<String> response = get("/debug/proxies");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
    assertThat(response.body()).isEqualTo("{\"proxies\":[{\"nodeId\":\"web-1.shop\",\"namespace\":\"shop\","
        + "\"groupId\":\"web.shop@0.0.0.0:8080\",\"streamId\":1,\"protocol\":\"STATE_OF_THE_WORLD\","
        + "\"connectedAt\":\"2025-01-01T00:00:00Z\",\"synced\":false,\"nacked\":true,\"types\":[{\"type\":\"cds\","
        + "\"typeUrl\":\"" + CDS + "\",\"sentVersion\":\"v1\",\"sentNonce\":\"0\",\"ackedVersion\":\"\","
        + "\"latestVersion\":\"\",\"nack\":{\"type\":\"cds\",\"typeUrl\":\"" + CDS + "\",\"version\":\"v1\","
        + "\"nonce\":\"0\",\"message\":\"cluster \\\"payments\\\": bad\\nvalue\",\"at\":\"2025-01-01T00:00:00Z\"}}],"
        + "\"lastNack\":{\"type\":\"cds\",\"typeUrl\":\"" + CDS + "\",\"version\":\"v1\",\"nonce\":\"0\","
        + "\"message\":\"cluster \\\"payments\\\": bad\\nvalue\",\"at\":\"2025-01-01T00:00:00Z\"}}],"
        + "\"recentlyDisconnected\":[]}");
  }

  @Test
  void groupsShowTheirServedVersionsByType() throws Exception {
    nackingProxy();
    publisher.publish();

    String body = get("/debug/groups").body();

    var config = TestConfigs.sidecar(15001, "payments");
    assertThat(body).startsWith("{\"groups\":[{\"groupId\":\"web.shop@0.0.0.0:8080\",\"kind\":\"SIDECAR\"")
        .contains("\"connectedStreams\":1")
        .contains("\"versions\":{\"cds\":\"" + config.clustersVersion() + "\",\"eds\":\"" + config.endpointsVersion()
            + "\",\"lds\":\"" + config.listenersVersion() + "\",\"rds\":\"" + config.routesVersion() + "\"}")
        .contains("\"lastError\":null");
  }

  @Test
  void metricsAreInPrometheusTextFormat() throws Exception {
    nackingProxy();
    publisher.publish();

    HttpResponse<String> response = get("/metrics");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(response.body().lines().toList()).contains(
        "proxies_connected 1.0",
        "proxies_synced 0.0",
        "proxies_nacked 1.0",
        "xds_pushes_total{type=\"cds\"} 1.0",
        "xds_nacks_total{type=\"cds\"} 1.0",
        "xds_snapshot_compute_seconds_count 1");
  }

  @Test
  void unknownPathsAndMethodsAreRefused() throws Exception {
    assertThat(get("/debug/nothing").statusCode()).isEqualTo(404);
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port()
        + "/debug/proxies")).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(List.of(post.headers().firstValue("Allow").orElse(""))).containsExactly("GET, HEAD");
  }

  @Test
  void debugPagesOnTheirOwnListenerAreNotOnTheMonitoringPort() throws Exception {
    java.util.concurrent.atomic.AtomicReference<java.util.Optional<String>> certificate =
        new java.util.concurrent.atomic.AtomicReference<>(java.util.Optional.of("no certificate yet"));
    publisher.publish();
    try (DebugEndpoint split = DebugEndpoint.start(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), tracker, publisher, registry, certificate::get)) {
      assertThat(split.pagesPort()).isNotEqualTo(split.port());
      assertThat(getFrom(split.port(), "/debug/proxies").statusCode()).isEqualTo(404);
      assertThat(getFrom(split.port(), "/metrics").statusCode()).isEqualTo(200);
      assertThat(getFrom(split.pagesPort(), "/debug/proxies").statusCode()).isEqualTo(200);
      HttpResponse<String> unready = getFrom(split.port(), "/readyz");
      assertThat(unready.statusCode()).isEqualTo(503);
      assertThat(unready.body()).contains("no certificate yet");

      certificate.set(java.util.Optional.empty());

      assertThat(getFrom(split.port(), "/readyz").statusCode()).isEqualTo(200);
    }
  }

  private HttpResponse<String> getFrom(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
