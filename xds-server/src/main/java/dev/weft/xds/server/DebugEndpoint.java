package dev.weft.xds.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.weft.runtime.MonitoringEndpoint;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The xDS server's small HTTP side, for people, probes and Prometheus. The debug pages may have
 * their own listener (on loopback, in a pod), because they tell whoever reaches them every
 * proxy's node id, pod address and error text:
 * <ul>
 *   <li>{@code /debug/proxies}: JSON {@code {"proxies": [...], "recentlyDisconnected": [...]}}
 *       from the {@link ProxySyncTracker}'s view of the {@link ConnectedProxies}; field names are
 *       stable.</li>
 *   <li>{@code /debug/groups}: JSON {@code {"groups": [...]}}, each group's served versions per
 *       type, its connected streams and the error that kept a newer snapshot back, if any.</li>
 *   <li>{@code /healthz}: 200 while the process serves; {@code /readyz}: 200 once the first
 *       snapshot was published (and, with TLS, the ADS port's certificate was read), 503 with the
 *       reason before.</li>
 *   <li>{@code /metrics}: the registry in Prometheus text format.</li>
 * </ul>
 */
public final class DebugEndpoint implements AutoCloseable {

  public static final int DEFAULT_PORT = 15014;

  /** Times as RFC 3339 text; the maps below keep their fields in order. */
  private static final ObjectMapper JSON = JsonMapper.builder()
      .addModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .build();

  private final MonitoringEndpoint endpoint;
  /** The debug pages' own listener (on loopback in a pod), or null when they share {@link #endpoint}. */
  private final MonitoringEndpoint pages;

  private DebugEndpoint(MonitoringEndpoint endpoint, MonitoringEndpoint pages) {
    this.endpoint = endpoint;
    this.pages = pages;
  }

  /** Starts serving everything on {@code address} (port 0 picks a free one). */
  public static DebugEndpoint start(InetSocketAddress address, ProxySyncTracker tracker, SnapshotPublisher publisher,
      PrometheusMeterRegistry registry) throws IOException {
    Objects.requireNonNull(tracker);
    Objects.requireNonNull(publisher);
    return new DebugEndpoint(MonitoringEndpoint.start("debug", address, notReady(publisher, Optional::empty),
        registry, pages(tracker, publisher)), null);
  }

  /**
   * Starts {@code /healthz}, {@code /readyz} and {@code /metrics} on {@code monitoring} (the pod
   * port the kubelet and Prometheus reach) and the debug pages, which name every proxy, its pod
   * address and Envoy's error text, on their own listener at {@code pages} (loopback by default:
   * {@code kubectl port-forward} reaches it, the pod network does not). Also unready while
   * {@code alsoNotReady} gives a reason (the ADS port's certificate not found yet).
   */
  public static DebugEndpoint start(InetSocketAddress monitoring, InetSocketAddress pages, ProxySyncTracker tracker,
      SnapshotPublisher publisher, PrometheusMeterRegistry registry, Supplier<Optional<String>> alsoNotReady)
      throws IOException {
    Objects.requireNonNull(tracker);
    Objects.requireNonNull(publisher);
    Supplier<Optional<String>> notReady = notReady(publisher, alsoNotReady);
    MonitoringEndpoint endpoint = MonitoringEndpoint.start("monitoring", monitoring, notReady, registry, Map.of());
    try {
      return new DebugEndpoint(endpoint, MonitoringEndpoint.start("debug", pages, notReady, registry,
          pages(tracker, publisher)));
    } catch (IOException | RuntimeException e) {
      endpoint.close();
      throw e;
    }
  }

  private static Supplier<Optional<String>> notReady(SnapshotPublisher publisher,
      Supplier<Optional<String>> alsoNotReady) {
    Objects.requireNonNull(alsoNotReady);
    return () -> alsoNotReady.get()
        .or(() -> publisher.isReady() ? Optional.empty() : Optional.of("no mesh state published yet"));
  }

  private static Map<String, Supplier<String>> pages(ProxySyncTracker tracker, SnapshotPublisher publisher) {
    return Map.of("/debug/proxies", () -> json(proxies(tracker)),
        "/debug/groups", () -> json(groups(publisher)));
  }

  /** The port of /healthz, /readyz and /metrics. */
  public int port() {
    return endpoint.port();
  }

  /** The port of the debug pages. */
  public int pagesPort() {
    return pages == null ? endpoint.port() : pages.port();
  }

  public void stop() {
    try {
      endpoint.close();
    } finally {
      if (pages != null) {
        pages.close();
      }
    }
  }

  @Override
  public void close() {
    stop();
  }

  private static String json(Object page) {
    try {
      return JSON.writeValueAsString(page);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot write a debug page as JSON", e);
    }
  }

  private static Map<String, Object> proxies(ProxySyncTracker tracker) {
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

  private static Map<String, Object> groups(SnapshotPublisher publisher) {
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
