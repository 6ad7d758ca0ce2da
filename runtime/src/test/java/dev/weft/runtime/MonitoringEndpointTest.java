package dev.weft.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MonitoringEndpointTest {

  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicReference<Optional<String>> notReady = new AtomicReference<>(Optional.of("still syncing"));
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private MonitoringEndpoint endpoint;

  @BeforeEach
  void start() throws Exception {
    registry.counter("weft_test_total").increment();
    endpoint = MonitoringEndpoint.start("test", new InetSocketAddress("127.0.0.1", 0), notReady::get, registry,
        Map.of("/debug/things", () -> "{\"things\":[]}"));
  }

  @AfterEach
  void stop() {
    endpoint.close();
  }

  @Test
  void answersProbesWithTheReason() throws Exception {
    assertThat(get("/healthz").body()).isEqualTo("ok\n");
    HttpResponse<String> notYet = get("/readyz");
    assertThat(notYet.statusCode()).isEqualTo(503);
    assertThat(notYet.body()).isEqualTo("not ready: still syncing\n");

    notReady.set(Optional.empty());

    assertThat(get("/readyz").statusCode()).isEqualTo(200);
  }

  @Test
  void servesMetricsAndJsonPages() throws Exception {
    assertThat(get("/metrics").body()).contains("weft_test_total 1.0");
    HttpResponse<String> page = get("/debug/things");
    assertThat(page.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
    assertThat(page.body()).isEqualTo("{\"things\":[]}");
  }

  @Test
  void namesWhatExistsAndRefusesWrites() throws Exception {
    HttpResponse<String> missing = get("/nope");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).isEqualTo("not found; try /debug/things, /healthz, /readyz, /metrics\n");
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri("/healthz"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + endpoint.port() + path);
  }
}
