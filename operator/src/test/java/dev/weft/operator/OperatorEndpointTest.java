package dev.weft.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
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

class OperatorEndpointTest {

  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final OperatorMetrics metrics = new OperatorMetrics(registry);
  final AtomicReference<Optional<String>> notReady =
      new AtomicReference<>(Optional.of("starting: informers not synced yet"));
  final HttpClient http = HttpClient.newHttpClient();
  OperatorEndpoint endpoint;

  @BeforeEach
  void start() throws Exception {
    endpoint = OperatorEndpoint.start(new InetSocketAddress("127.0.0.1", 0), notReady::get, registry);
  }

  @AfterEach
  void stop() {
    endpoint.close();
  }

  @Test
  void isHealthyAtOnceAndReadyOnceTheOperatorSaysSo() throws Exception {
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    HttpResponse<String> starting = get("/readyz");
    assertThat(starting.statusCode()).isEqualTo(503);
    assertThat(starting.body()).isEqualTo("not ready: starting: informers not synced yet\n");

    notReady.set(Optional.empty());

    assertThat(get("/readyz").statusCode()).isEqualTo(200);
  }

  @Test
  void servesReconcileTimingsErrorsAndValidationFailuresPerKind() throws Exception {
    metrics.timeControllerExecution(execution("TrafficSplit", () -> "ok"));
    assertThatThrownBy(() -> metrics.timeControllerExecution(execution("VirtualService", () -> {
      throw new IllegalStateException("boom");
    }))).isInstanceOf(IllegalStateException.class);
    metrics.validationFailure("TrafficSplit", "ResolvedRefs", "BackendNotFound");
    metrics.leader(true);

    HttpResponse<String> scrape = get("/metrics");

    assertThat(scrape.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(scrape.body())
        .contains("weft_operator_reconcile_duration_seconds_count{kind=\"TrafficSplit\",operation=\"reconcile\","
            + "outcome=\"success\"} 1")
        .contains("weft_operator_reconcile_duration_seconds_count{kind=\"VirtualService\",operation=\"reconcile\","
            + "outcome=\"failure\"} 1")
        .contains("weft_operator_validation_failures_total{condition=\"ResolvedRefs\",kind=\"TrafficSplit\","
            + "reason=\"BackendNotFound\"} 1.0")
        .contains("weft_operator_leader 1.0");
  }

  @Test
  void answersUnknownPathsAndMethodsPlainly() throws Exception {
    assertThat(get("/nope").statusCode()).isEqualTo(404);
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri("/healthz"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + endpoint.port() + path);
  }

  interface Body<T> {
    T run() throws Exception;
  }

  private static <T> Metrics.ControllerExecution<T> execution(String controller, Body<T> body) {
    return new Metrics.ControllerExecution<>() {
      @Override
      public String name() {
        return "reconcile";
      }

      @Override
      public String controllerName() {
        return controller;
      }

      @Override
      public String successTypeName(T result) {
        return "success";
      }

      @Override
      public ResourceID resourceID() {
        return new ResourceID("x", "shop");
      }

      @Override
      public Map<String, Object> metadata() {
        return Map.of();
      }

      @Override
      public T execute() throws Exception {
        return body.run();
      }
    };
  }
}
