package dev.weft.xds.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The xDS server's small HTTP side, for people, probes and Prometheus:
 * <ul>
 *   <li>{@code /debug/proxies}: JSON {@code {"proxies": [...], "recentlyDisconnected": [...]}}
 *       from the {@link ProxySyncTracker}; field names are stable.</li>
 *   <li>{@code /debug/groups}: JSON {@code {"groups": [...]}}, each group's served versions per
 *       type and the error that kept a newer snapshot back, if any.</li>
 *   <li>{@code /healthz}: 200 while the process serves; {@code /readyz}: 200 once the first
 *       snapshot was published, 503 before.</li>
 *   <li>{@code /metrics}: the registry in Prometheus text format.</li>
 * </ul>
 */
public final class DebugEndpoint implements AutoCloseable {

  public static final int DEFAULT_PORT = 15014;

  private static final Logger LOG = LoggerFactory.getLogger(DebugEndpoint.class);
  private static final String JSON = "application/json; charset=utf-8";
  private static final String TEXT = "text/plain; charset=utf-8";
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;
  private final ProxySyncTracker tracker;
  private final SnapshotPublisher publisher;
  private final PrometheusMeterRegistry registry;

  private DebugEndpoint(HttpServer server, ExecutorService executor, ProxySyncTracker tracker,
      SnapshotPublisher publisher, PrometheusMeterRegistry registry) {
    this.server = server;
    this.executor = executor;
    this.tracker = tracker;
    this.publisher = publisher;
    this.registry = registry;
  }

  /** Starts serving on {@code address} (port 0 picks a free one). */
  public static DebugEndpoint start(InetSocketAddress address, ProxySyncTracker tracker, SnapshotPublisher publisher,
      PrometheusMeterRegistry registry) throws IOException {
    HttpServer server = HttpServer.create(address, 0);
    // Two threads: a slow scrape must not hold up a probe.
    ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
      Thread thread = new Thread(r, "weft-debug-http");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(executor);
    DebugEndpoint endpoint = new DebugEndpoint(server, executor, Objects.requireNonNull(tracker),
        Objects.requireNonNull(publisher), Objects.requireNonNull(registry));
    server.createContext("/", endpoint::handle);
    server.start();
    LOG.info("debug endpoint listening on port {}", endpoint.port());
    return endpoint;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public void stop() {
    server.stop(0);
    executor.shutdown();
    try {
      executor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop();
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
        case "/debug/proxies" -> send(exchange, 200, JSON, Json.write(proxies()));
        case "/debug/groups" -> send(exchange, 200, JSON, Json.write(groups()));
        case "/healthz" -> send(exchange, 200, TEXT, "ok\n");
        case "/readyz" -> {
          if (publisher.isReady()) {
            send(exchange, 200, TEXT, "ready\n");
          } else {
            send(exchange, 503, TEXT, "not ready: no mesh state published yet\n");
          }
        }
        case "/metrics" -> send(exchange, 200, PROMETHEUS_TEXT, registry.scrape());
        default -> send(exchange, 404, TEXT, "not found; try /debug/proxies, /debug/groups, /healthz, /readyz, /metrics\n");
      }
    } catch (RuntimeException e) {
      LOG.error("debug endpoint failed on {}", exchange.getRequestURI(), e);
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

  private Map<String, Object> proxies() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("proxies", tracker.proxies().stream().map(DebugEndpoint::proxy).toList());
    json.put("recentlyDisconnected", tracker.recentlyDisconnected().stream().map(d -> {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("disconnectedAt", d.disconnectedAt());
      entry.put("reason", d.reason());
      entry.put("proxy", proxy(d.lastStatus()));
      return entry;
    }).toList());
    return json;
  }

  static Map<String, Object> proxy(ProxyStatus status) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("nodeId", status.nodeId());
    json.put("namespace", status.namespace());
    json.put("groupId", status.groupId());
    json.put("streamId", status.streamId());
    json.put("protocol", status.protocol() == null ? null : status.protocol().name());
    json.put("connectedAt", status.connectedAt());
    json.put("synced", status.synced());
    json.put("nacked", status.nacked());
    json.put("types", status.types().stream().map(t -> {
      Map<String, Object> type = new LinkedHashMap<>();
      type.put("type", XdsType.shortName(t.typeUrl()));
      type.put("typeUrl", t.typeUrl());
      type.put("sentVersion", t.sentVersion());
      type.put("sentNonce", t.sentNonce());
      type.put("ackedVersion", t.ackedVersion());
      type.put("latestVersion", t.latestVersion());
      type.put("nack", nack(t.nack()));
      return type;
    }).toList());
    json.put("lastNack", nack(status.lastNack()));
    return json;
  }

  private static Map<String, Object> nack(ProxyStatus.Nack nack) {
    if (nack == null) {
      return null;
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("type", XdsType.shortName(nack.typeUrl()));
    json.put("typeUrl", nack.typeUrl());
    json.put("version", nack.version());
    json.put("nonce", nack.nonce());
    json.put("message", nack.message());
    json.put("at", nack.at());
    return json;
  }

  private Map<String, Object> groups() {
    List<Object> groups = publisher.groups().stream().map(g -> {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("groupId", g.groupId());
      json.put("kind", g.group().kind().name());
      json.put("namespace", g.group().namespace());
      json.put("serviceAccount", g.group().serviceAccount());
      json.put("connectedStreams", g.connectedStreams());
      Map<String, Object> versions = new LinkedHashMap<>();
      for (XdsType type : XdsType.values()) {
        if (g.versions().containsKey(type.typeUrl)) {
          versions.put(type.shortName(), g.versions().get(type.typeUrl));
        }
      }
      json.put("versions", versions);
      json.put("idleSince", g.idleSince());
      json.put("lastError", g.lastError());
      return (Object) json;
    }).toList();
    return Map.of("groups", groups);
  }
}
