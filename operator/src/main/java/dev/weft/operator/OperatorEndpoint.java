package dev.weft.operator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's HTTP side for the kubelet and Prometheus: {@code /healthz} (200 while the process
 * serves), {@code /readyz} (200 once the operator started and its informers are synced, else 503
 * with the reason; a standby that does not hold the Lease is ready too), {@code /metrics}.
 */
public final class OperatorEndpoint implements AutoCloseable {

  public static final int DEFAULT_PORT = 8080;

  private static final Logger LOG = LoggerFactory.getLogger(OperatorEndpoint.class);
  private static final String TEXT = "text/plain; charset=utf-8";
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;
  private final Supplier<Optional<String>> notReadyBecause;
  private final PrometheusMeterRegistry registry;

  private OperatorEndpoint(HttpServer server, ExecutorService executor, Supplier<Optional<String>> notReadyBecause,
      PrometheusMeterRegistry registry) {
    this.server = server;
    this.executor = executor;
    this.notReadyBecause = notReadyBecause;
    this.registry = registry;
  }

  /**
   * Starts serving on {@code address} (port 0 picks a free one). {@code notReadyBecause} says why
   * the operator is not ready yet, or nothing once it is.
   */
  public static OperatorEndpoint start(InetSocketAddress address, Supplier<Optional<String>> notReadyBecause,
      PrometheusMeterRegistry registry) throws IOException {
    HttpServer server = HttpServer.create(address, 0);
    // Two threads: a slow scrape must not hold up a probe.
    ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
      Thread thread = new Thread(r, "weft-operator-http");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(executor);
    OperatorEndpoint endpoint = new OperatorEndpoint(server, executor, notReadyBecause, registry);
    server.createContext("/", endpoint::handle);
    server.start();
    LOG.info("operator endpoint listening on port {}", endpoint.port());
    return endpoint;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdown();
    try {
      executor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, 405, TEXT, "only GET and HEAD\n");
        return;
      }
      switch (exchange.getRequestURI().getPath()) {
        case "/healthz" -> send(exchange, 200, TEXT, "ok\n");
        case "/readyz" -> {
          Optional<String> reason = notReadyBecause.get();
          if (reason.isEmpty()) {
            send(exchange, 200, TEXT, "ready\n");
          } else {
            send(exchange, 503, TEXT, "not ready: " + reason.get() + "\n");
          }
        }
        case "/metrics" -> send(exchange, 200, PROMETHEUS_TEXT, registry.scrape());
        default -> send(exchange, 404, TEXT, "not found; try /healthz, /readyz, /metrics\n");
      }
    } catch (RuntimeException e) {
      LOG.error("operator endpoint failed on {}", exchange.getRequestURI(), e);
      throw e;
    }
  }

  private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }
}
