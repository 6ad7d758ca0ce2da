package dev.weft.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of a Weft process, for the kubelet, Prometheus and people: {@code /healthz} (200
 * while the process serves), {@code /readyz} (200 when ready, else 503 with the reason),
 * {@code /metrics} (the registry in Prometheus text format), and JSON pages of the process's own
 * (the xds-server's {@code /debug/proxies}). GET and HEAD only.
 */
public final class MonitoringEndpoint implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MonitoringEndpoint.class);
  private static final String JSON = "application/json; charset=utf-8";
  private static final String TEXT = "text/plain; charset=utf-8";
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final String name;
  private final HttpServer server;
  private final ExecutorService executor;
  private final Supplier<Optional<String>> notReadyBecause;
  private final PrometheusMeterRegistry registry;
  private final Map<String, Supplier<String>> jsonPages;

  private MonitoringEndpoint(String name, HttpServer server, ExecutorService executor,
      Supplier<Optional<String>> notReadyBecause, PrometheusMeterRegistry registry,
      Map<String, Supplier<String>> jsonPages) {
    this.name = name;
    this.server = server;
    this.executor = executor;
    this.notReadyBecause = notReadyBecause;
    this.registry = registry;
    this.jsonPages = jsonPages;
  }

  /**
   * Starts serving on {@code address} (port 0 picks a free one). {@code name} names the endpoint in
   * logs and thread names; {@code notReadyBecause} says why the process is not ready, or nothing
   * once it is; {@code jsonPages} maps a path to the JSON document it serves.
   */
  public static MonitoringEndpoint start(String name, InetSocketAddress address,
      Supplier<Optional<String>> notReadyBecause, PrometheusMeterRegistry registry,
      Map<String, Supplier<String>> jsonPages) throws IOException {
    HttpServer server = HttpServer.create(address, 0);
    // Two threads: a slow scrape must not hold up a probe.
    ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
      Thread thread = new Thread(r, "weft-" + name + "-http");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(executor);
    MonitoringEndpoint endpoint = new MonitoringEndpoint(name, server, executor, Objects.requireNonNull(notReadyBecause),
        Objects.requireNonNull(registry), Map.copyOf(new LinkedHashMap<>(jsonPages)));
    server.createContext("/", endpoint::handle);
    server.start();
    LOG.info("{} endpoint listening on port {}", name, endpoint.port());
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
      String path = exchange.getRequestURI().getPath();
      Supplier<String> page = jsonPages.get(path);
      if (page != null) {
        send(exchange, 200, JSON, page.get());
        return;
      }
      switch (path) {
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
        default -> send(exchange, 404, TEXT, "not found; try " + paths() + "\n");
      }
    } catch (RuntimeException e) {
      LOG.error("{} endpoint failed on {}", name, exchange.getRequestURI(), e);
      throw e;
    }
  }

  private String paths() {
    StringBuilder paths = new StringBuilder();
    jsonPages.keySet().stream().sorted().forEach(p -> paths.append(p).append(", "));
    return paths.append("/healthz, /readyz, /metrics").toString();
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
