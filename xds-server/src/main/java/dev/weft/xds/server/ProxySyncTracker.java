package dev.weft.xds.server;

import dev.weft.mesh.ProxyGroup;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows every xDS stream of this replica: per client and resource type what was sent, what the
 * client applied, and what it rejected with Envoy's {@code error_detail}; {@link #proxies()} is an
 * immutable view of it, which the debug endpoint, the metrics and the status publisher read.
 *
 * <p>State of the world: a request's {@code version_info} is the version the client has applied
 * (also on its first request after a reconnect, when it may not get a response at all), so it is
 * the acked version; a request with {@code error_detail} is a NACK of the response whose nonce it
 * echoes, and the rejected version is the one that response carried.
 *
 * <p>Delta: versions are per resource, but every response carries the type's system version
 * ({@code system_version_info}, the snapshot's version for the type), so the tracker remembers the
 * system version sent with each nonce and counts it as acked when a request echoes that nonce
 * without {@code error_detail}. A reconnecting delta client only lists per-resource versions
 * ({@code initial_resource_versions}), which say nothing about the system version, so it counts
 * as synced once it has acked the first response on the new stream (java-control-plane sends one,
 * since it starts every stream with nothing tracked).
 *
 * <p>The newest version of a group comes from a function (the publisher's served versions), read
 * when the view is built, so a new snapshot makes proxies unsynced until they ACK it.
 */
public final class ProxySyncTracker implements DiscoveryServerCallbacks {

  private static final Logger LOG = LoggerFactory.getLogger(ProxySyncTracker.class);

  static final int RECENTLY_DISCONNECTED = 32;
  /** Nonces remembered per type; java-control-plane keeps one response per type in flight. */
  private static final int NONCES_PER_TYPE = 8;

  private final Clock clock;
  private final Function<String, Map<String, String>> latestVersions;
  private final MeterRegistry registry;
  private final Map<Long, StreamRecord> streams = new ConcurrentHashMap<>();
  private final Deque<DisconnectedProxy> disconnected = new ArrayDeque<>();
  private final Map<String, Counter> pushes = new ConcurrentHashMap<>();
  private final Map<String, Counter> nacks = new ConcurrentHashMap<>();

  /**
   * @param latestVersions the versions per type URL of a group's current snapshot, by group id
   *     (empty when the group has none); in the server, {@link SnapshotPublisher#servedVersions}
   */
  public ProxySyncTracker(Clock clock, Function<String, Map<String, String>> latestVersions, MeterRegistry registry) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.latestVersions = Objects.requireNonNull(latestVersions, "latestVersions");
    this.registry = Objects.requireNonNull(registry, "registry");
    Gauge.builder("proxies.connected", this, t -> t.proxies().size())
        .description("xDS clients connected to this replica").strongReference(true).register(registry);
    Gauge.builder("proxies.synced", this, t -> t.proxies().stream().filter(ProxyStatus::synced).count())
        .description("Connected xDS clients that applied the newest config of their group")
        .strongReference(true).register(registry);
    Gauge.builder("proxies.nacked", this, t -> t.proxies().stream().filter(ProxyStatus::nacked).count())
        .description("Connected xDS clients whose newest config of some type was rejected")
        .strongReference(true).register(registry);
  }

  /** The connected clients (streams whose node is known), sorted by node id. */
  public List<ProxyStatus> proxies() {
    List<ProxyStatus> result = new ArrayList<>();
    for (StreamRecord stream : streams.values()) {
      ProxyStatus status = stream.status();
      if (status != null) {
        result.add(status);
      }
    }
    result.sort(Comparator.comparing(ProxyStatus::nodeId).thenComparingLong(ProxyStatus::streamId));
    return List.copyOf(result);
  }

  /** The clients that left most recently, newest first, at most {@value #RECENTLY_DISCONNECTED}. */
  public List<DisconnectedProxy> recentlyDisconnected() {
    synchronized (disconnected) {
      return List.copyOf(disconnected);
    }
  }

  @Override
  public void onStreamOpen(long streamId, String typeUrl) {
    stream(streamId);
  }

  @Override
  public void onStreamClose(long streamId, String typeUrl) {
    close(streamId, "closed by the client");
  }

  @Override
  public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
    Status status = Status.fromThrowable(error);
    close(streamId, status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription()));
  }

  @Override
  public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
    StreamRecord stream = stream(streamId);
    String typeUrl = request.getTypeUrl();
    String nonce = request.getResponseNonce();
    synchronized (stream) {
      stream.identify(request.hasNode() ? request.getNode() : null, ProxyStatus.Protocol.STATE_OF_THE_WORLD);
      TypeState type = stream.type(typeUrl);
      if (request.hasErrorDetail()) {
        // version_info of a NACK is what the client kept, not what it rejected: that is the nonce's.
        stream.nack(type, typeUrl, type.versionOf(nonce), nonce, request.getErrorDetail().getMessage());
        return;
      }
      if (!request.getVersionInfo().isEmpty()) {
        type.ackedVersion = request.getVersionInfo();
      }
      type.resolveNack(nonce);
    }
  }

  @Override
  public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
    StreamRecord stream = stream(streamId);
    String typeUrl = request.getTypeUrl();
    String nonce = request.getResponseNonce();
    synchronized (stream) {
      stream.identify(request.hasNode() ? request.getNode() : null, ProxyStatus.Protocol.DELTA);
      TypeState type = stream.type(typeUrl);
      if (nonce.isEmpty()) {
        // a first request or a change of subscriptions: nothing is acknowledged
        return;
      }
      if (request.hasErrorDetail()) {
        stream.nack(type, typeUrl, type.versionOf(nonce), nonce, request.getErrorDetail().getMessage());
        return;
      }
      String version = type.versionOf(nonce);
      if (!version.isEmpty()) {
        type.ackedVersion = version;
      }
      type.resolveNack(nonce);
    }
  }

  @Override
  public void onV3StreamResponse(long streamId, DiscoveryRequest request, DiscoveryResponse response) {
    sent(streamId, response.getTypeUrl(), response.getVersionInfo(), response.getNonce());
  }

  @Override
  public void onV3StreamDeltaResponse(long streamId, DeltaDiscoveryRequest request, DeltaDiscoveryResponse response) {
    sent(streamId, response.getTypeUrl(), response.getSystemVersionInfo(), response.getNonce());
  }

  private void sent(long streamId, String typeUrl, String version, String nonce) {
    StreamRecord stream = stream(streamId);
    synchronized (stream) {
      TypeState type = stream.type(typeUrl);
      type.sentVersion = version;
      type.sentNonce = nonce;
      type.nonceVersions.put(nonce, version);
    }
    counter(pushes, "xds.pushes", "xDS responses sent", typeUrl).increment();
  }

  private StreamRecord stream(long streamId) {
    // Lenient about a missing onStreamOpen, so the tracker can be fed requests directly.
    return streams.computeIfAbsent(streamId, id -> new StreamRecord(id, clock.instant()));
  }

  private void close(long streamId, String reason) {
    StreamRecord stream = streams.remove(streamId);
    ProxyStatus last = stream == null ? null : stream.status();
    if (last == null) {
      return;
    }
    synchronized (disconnected) {
      disconnected.addFirst(new DisconnectedProxy(last, clock.instant(), reason));
      while (disconnected.size() > RECENTLY_DISCONNECTED) {
        disconnected.removeLast();
      }
    }
  }

  private Counter counter(Map<String, Counter> counters, String name, String description, String typeUrl) {
    return counters.computeIfAbsent(typeUrl, url -> Counter.builder(name)
        .description(description)
        .tag("type", XdsType.shortName(url))
        .register(registry));
  }

  /** The tracker's record of one stream; guarded by its own monitor. */
  private final class StreamRecord {
    final long id;
    final Instant openedAt;
    ProxyStatus.Protocol protocol;
    String nodeId;
    ProxyGroup group;
    final Map<String, TypeState> types = new TreeMap<>();
    ProxyStatus.Nack lastNack;

    StreamRecord(long id, Instant openedAt) {
      this.id = id;
      this.openedAt = openedAt;
    }

    void identify(Node node, ProxyStatus.Protocol protocol) {
      this.protocol = protocol;
      if (group != null || node == null) {
        return;
      }
      try {
        group = NodeGroups.groupOf(node);
        nodeId = node.getId();
      } catch (IllegalArgumentException e) {
        // the publisher refuses such a stream; it is not a proxy to report
      }
    }

    TypeState type(String typeUrl) {
      return types.computeIfAbsent(typeUrl, url -> new TypeState());
    }

    void nack(TypeState type, String typeUrl, String version, String nonce, String message) {
      ProxyStatus.Nack nack = new ProxyStatus.Nack(typeUrl, version, nonce, message, clock.instant());
      type.nack = nack;
      lastNack = nack;
      counter(nacks, "xds.nacks", "xDS responses rejected by clients", typeUrl).increment();
      // Envoy keeps its last good config, so nothing else would tell the person running the mesh.
      LOG.warn("proxy {} rejected {} version {}: {}", nodeId, XdsType.shortName(typeUrl), version,
          message.length() > 1024 ? message.substring(0, 1024) + "..." : message);
    }

    /** The status as of now, or null while the client has not said who it is. */
    ProxyStatus status() {
      String groupId;
      List<ProxyStatus.TypeStatus> copied = new ArrayList<>();
      ProxyStatus.Nack nack;
      String node;
      String namespace;
      ProxyStatus.Protocol proto;
      Map<String, TypeState> snapshot;
      synchronized (this) {
        if (group == null) {
          return null;
        }
        groupId = group.id();
        namespace = group.namespace();
        node = nodeId;
        nack = lastNack;
        proto = protocol;
        snapshot = new LinkedHashMap<>();
        types.forEach((url, t) -> snapshot.put(url, t.copy()));
      }
      // Read outside the monitor: the publisher's versions are lock-free, but keep it that way.
      Map<String, String> latest = latestVersions.apply(groupId);
      boolean synced = !snapshot.isEmpty() && !latest.isEmpty();
      for (Map.Entry<String, TypeState> entry : snapshot.entrySet()) {
        TypeState t = entry.getValue();
        String newest = latest.getOrDefault(entry.getKey(), "");
        boolean current = latest.containsKey(entry.getKey()) && newest.equals(t.ackedVersion);
        if (latest.containsKey(entry.getKey()) && !current) {
          synced = false;
        }
        // When the group's newest version is again the one the proxy kept (the bad change was
        // undone), nothing new is sent and no ACK comes, yet the rejection no longer stands.
        ProxyStatus.Nack standing = current ? null : t.nack;
        copied.add(new ProxyStatus.TypeStatus(entry.getKey(), t.sentVersion, t.sentNonce, t.ackedVersion, newest,
            standing));
      }
      return new ProxyStatus(node, namespace, groupId, id, proto, openedAt, copied, nack, synced);
    }
  }

  /** One resource type on one stream. */
  private static final class TypeState {
    String sentVersion = "";
    String sentNonce = "";
    String ackedVersion = "";
    ProxyStatus.Nack nack;
    final Map<String, String> nonceVersions = new LinkedHashMap<>() {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
        return size() > NONCES_PER_TYPE;
      }
    };

    String versionOf(String nonce) {
      return nonceVersions.getOrDefault(nonce, "");
    }

    /** A request echoing a nonce other than the rejected one acknowledges a newer response. */
    void resolveNack(String nonce) {
      if (nack != null && !nonce.isEmpty() && !nonce.equals(nack.nonce())) {
        nack = null;
      }
    }

    TypeState copy() {
      TypeState copy = new TypeState();
      copy.sentVersion = sentVersion;
      copy.sentNonce = sentNonce;
      copy.ackedVersion = ackedVersion;
      copy.nack = nack;
      return copy;
    }
  }
}
