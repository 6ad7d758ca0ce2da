package dev.weft.xds.server;

import dev.weft.mesh.ProxyGroup;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one registry of this replica's xDS streams, by java-control-plane's stream id: which proxy
 * each stream serves (node id, group, connect time) and, per resource type, what was sent, what
 * the proxy applied and what it rejected with Envoy's {@code error_detail}. Publishing, sync
 * tracking, the debug pages and the server's drain all read this one map; a feature that must act
 * when a proxy comes or goes is a {@link Listener} here rather than a stream callback of its own.
 *
 * <p>It is the server's only {@link DiscoveryServerCallbacks}. A stream is identified by the node
 * of its first request; a stream whose first request has no node, or a node that breaks the
 * {@link NodeGroups} contract, is refused. Listeners hear of a new proxy inside that request's
 * callback, so before the cache opens a watch for it.
 *
 * <p>State of the world: a request's {@code version_info} is the version the client has applied
 * (also on its first request after a reconnect, when it may not get a response at all), so it is
 * the acked version; a request with {@code error_detail} is a NACK of the response whose nonce it
 * echoes, and the rejected version is the one that response carried.
 *
 * <p>Delta: versions are per resource, but every response carries the type's system version
 * ({@code system_version_info}, the snapshot's version for the type), so the registry remembers
 * the system version sent with each nonce and counts it as acked when a request echoes that nonce
 * without {@code error_detail}. A reconnecting delta client only lists per-resource versions
 * ({@code initial_resource_versions}), which say nothing about the system version, so it counts as
 * having applied nothing until it acks the first response on the new stream (java-control-plane
 * sends one, since it starts every stream with nothing tracked).
 */
public final class ConnectedProxies implements DiscoveryServerCallbacks {

  /** A feature that acts when a proxy comes or goes. Called outside the registry's locks; must not throw. */
  public interface Listener {

    /** A stream said which proxy it serves; called before the request that said it is answered. */
    default void connected(ConnectedProxy proxy) {}

    /** The stream of {@code proxy} (as last seen) ended at {@code at}; {@code reason} says how. */
    default void disconnected(ConnectedProxy proxy, Instant at, String reason) {}
  }

  private static final Logger LOG = LoggerFactory.getLogger(ConnectedProxies.class);

  /** Nonces remembered per type; java-control-plane keeps one response per type in flight. */
  private static final int NONCES_PER_TYPE = 8;
  private static final int MAX_REPORTED_NODE_ERRORS = 1024;
  private static final int MAX_LOGGED_MESSAGE = 1024;

  private final Clock clock;
  private final MeterRegistry meters;
  private final Map<Long, Stream> streams = new ConcurrentHashMap<>();
  /** Identified open streams per group id; kept with the streams, under each stream's monitor. */
  private final Map<String, Integer> streamsPerGroup = new ConcurrentHashMap<>();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  /** How the stream being set up on this thread is closed; see {@link #open}. */
  private final ThreadLocal<Consumer<Status>> opening = new ThreadLocal<>();
  private final Map<String, Counter> pushes = new ConcurrentHashMap<>();
  private final Map<String, Counter> nacks = new ConcurrentHashMap<>();
  /** Invalid nodes already logged, so a misconfigured proxy reconnecting is not logged each time. */
  private final Set<String> reportedNodeErrors = ConcurrentHashMap.newKeySet();

  public ConnectedProxies(Clock clock, MeterRegistry meters) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.meters = Objects.requireNonNull(meters, "meters");
  }

  /** Adds a listener; it hears of proxies that connect or leave from now on. */
  public void addListener(Listener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** The identified proxies, one per stream, sorted by node id, then stream id. */
  public List<ConnectedProxy> proxies() {
    List<ConnectedProxy> result = new ArrayList<>();
    for (Stream stream : streams.values()) {
      ConnectedProxy proxy = stream.snapshot();
      if (proxy != null) {
        result.add(proxy);
      }
    }
    result.sort(Comparator.comparing(ConnectedProxy::nodeId).thenComparingLong(ConnectedProxy::streamId));
    return List.copyOf(result);
  }

  /** How many open streams get the config of group {@code groupId}. */
  public int streamsOf(String groupId) {
    return streamsPerGroup.getOrDefault(groupId, 0);
  }

  /**
   * Runs {@code setUp}, java-control-plane's set-up of a new stream, and gives the stream it
   * opens {@code close} as the way {@link #closeAll} ends it. java-control-plane announces the
   * stream ({@link #onStreamOpen}) on the calling thread before the set-up returns, which is how
   * the two meet without a second map of streams.
   */
  <T> T open(Consumer<Status> close, Supplier<T> setUp) {
    opening.set(Objects.requireNonNull(close, "close"));
    try {
      return setUp.get();
    } finally {
      opening.remove();
    }
  }

  /** Ends every open stream with {@code status}; returns how many there were. */
  int closeAll(Status status) {
    int count = 0;
    for (Stream stream : streams.values()) {
      if (stream.close != null) {
        stream.close.accept(status);
        count++;
      }
    }
    return count;
  }

  @Override
  public void onStreamOpen(long streamId, String typeUrl) {
    // Called on the call's thread during its set-up, so the call's context holds the peer's identity.
    streams.putIfAbsent(streamId, new Stream(streamId, clock.instant(), opening.get(), PeerIdentity.current()));
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
  public void onV3StreamRequest(long streamId, DiscoveryRequest request) throws RequestException {
    Stream stream = stream(streamId);
    boolean identified = stream.identify(request.hasNode() ? request.getNode() : null,
        ProxyStatus.Protocol.STATE_OF_THE_WORLD);
    String typeUrl = request.getTypeUrl();
    if (request.hasErrorDetail()) {
      rejected(stream, typeUrl, request.getResponseNonce(), request.getErrorDetail().getMessage());
    } else {
      stream.applied(typeUrl, request.getVersionInfo(), request.getResponseNonce());
    }
    if (identified) {
      announce(stream.snapshot());
    }
  }

  @Override
  public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) throws RequestException {
    Stream stream = stream(streamId);
    boolean identified = stream.identify(request.hasNode() ? request.getNode() : null, ProxyStatus.Protocol.DELTA);
    String typeUrl = request.getTypeUrl();
    String nonce = request.getResponseNonce();
    if (nonce.isEmpty()) {
      // a first request or a change of subscriptions: nothing is acknowledged
      stream.subscribed(typeUrl);
    } else if (request.hasErrorDetail()) {
      rejected(stream, typeUrl, nonce, request.getErrorDetail().getMessage());
    } else {
      stream.applied(typeUrl, stream.versionSent(typeUrl, nonce), nonce);
    }
    if (identified) {
      announce(stream.snapshot());
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

  private Stream stream(long streamId) {
    // Requests come only on open streams; lenient about a missing onStreamOpen so tests can feed requests directly.
    return streams.computeIfAbsent(streamId, id -> new Stream(id, clock.instant(), null, PeerIdentity.current()));
  }

  private void sent(long streamId, String typeUrl, String version, String nonce) {
    Stream stream = streams.get(streamId);
    if (stream != null) {
      // A response racing the stream's close is not recorded: the stream is gone.
      stream.sent(typeUrl, version, nonce);
    }
    counter(pushes, "xds.pushes", "xDS responses sent", typeUrl).increment();
  }

  private void rejected(Stream stream, String typeUrl, String nonce, String message) {
    ProxyStatus.Nack nack = stream.rejected(typeUrl, nonce, message);
    counter(nacks, "xds.nacks", "xDS responses rejected by clients", typeUrl).increment();
    // Envoy keeps its last good config, so nothing else would tell the person running the mesh.
    LOG.warn("proxy {} rejected {} version {}: {}", stream.nodeId(), XdsType.shortName(typeUrl), nack.version(),
        message.length() > MAX_LOGGED_MESSAGE ? message.substring(0, MAX_LOGGED_MESSAGE) + "..." : message);
  }

  private void close(long streamId, String reason) {
    Stream stream = streams.remove(streamId);
    ConnectedProxy last = stream == null ? null : stream.close();
    if (last == null) {
      return;
    }
    Instant at = clock.instant();
    for (Listener listener : listeners) {
      try {
        listener.disconnected(last, at, reason);
      } catch (RuntimeException e) {
        LOG.error("listener {} failed on proxy {} leaving", listener, last.nodeId(), e);
      }
    }
  }

  private void announce(ConnectedProxy proxy) {
    if (proxy == null) {
      return;
    }
    for (Listener listener : listeners) {
      try {
        listener.connected(proxy);
      } catch (RuntimeException e) {
        LOG.error("listener {} failed on proxy {} connecting", listener, proxy.nodeId(), e);
      }
    }
  }

  private RequestException refuse(String message) {
    if (reportedNodeErrors.size() > MAX_REPORTED_NODE_ERRORS) {
      reportedNodeErrors.clear();
    }
    if (reportedNodeErrors.add(message)) {
      LOG.warn("refusing xDS stream: {}", message);
    }
    return new RequestException(Status.INVALID_ARGUMENT.withDescription(message));
  }

  /**
   * Refuses a stream whose certificate speaks for another identity than its node claims; logged
   * once per distinct message, since the client retries every second or so.
   */
  private RequestException refuseImpostor(String message) {
    if (reportedNodeErrors.size() > MAX_REPORTED_NODE_ERRORS) {
      reportedNodeErrors.clear();
    }
    if (reportedNodeErrors.add(message)) {
      LOG.warn("refusing xDS stream: {}", message);
    }
    return new RequestException(Status.PERMISSION_DENIED.withDescription(message));
  }

  private Counter counter(Map<String, Counter> counters, String name, String description, String typeUrl) {
    return counters.computeIfAbsent(typeUrl, url -> Counter.builder(name)
        .description(description)
        .tag("type", XdsType.shortName(url))
        .register(meters));
  }

  /** The registry's record of one stream; guarded by its own monitor. */
  private final class Stream {
    final long id;
    final Instant openedAt;
    /** How {@link #closeAll} ends the stream; null when it was not opened through {@link #open}. */
    final Consumer<Status> close;
    /** The SPIFFE ID of the client certificate; null when the port is plaintext. */
    final String peer;
    ProxyStatus.Protocol protocol;
    String nodeId;
    ProxyGroup group;
    boolean closed;
    final Map<String, TypeState> types = new TreeMap<>();
    ProxyStatus.Nack lastNack;

    Stream(long id, Instant openedAt, Consumer<Status> close, String peer) {
      this.id = id;
      this.openedAt = openedAt;
      this.close = close;
      this.peer = peer;
    }

    /** Learns the proxy from the stream's first request; true when this request identified it. */
    synchronized boolean identify(Node node, ProxyStatus.Protocol protocol) throws RequestException {
      this.protocol = protocol;
      if (group != null) {
        return false;
      }
      if (node == null) {
        throw refuse("the first xDS request on a stream must carry the node");
      }
      ProxyGroup claimed;
      try {
        claimed = NodeGroups.groupOf(node);
      } catch (IllegalArgumentException e) {
        throw refuse(e.getMessage());
      }
      if (peer != null && !PeerIdentity.speaksFor(peer, claimed)) {
        // Never serve one identity's config to another: the stream ends before any watch opens.
        throw refuseImpostor("node '" + node.getId() + "' claims namespace " + claimed.namespace()
            + " and ServiceAccount " + claimed.serviceAccount() + ", but its client certificate is " + peer
            + "; it gets no config. A sidecar's node metadata must name its own pod's namespace and ServiceAccount");
      }
      group = claimed;
      nodeId = node.getId();
      if (closed) {
        // java-control-plane serializes a stream's requests and its close; should that ever change, a
        // proxy that is already gone must not be announced (no departure would follow).
        return false;
      }
      streamsPerGroup.merge(group.id(), 1, Integer::sum);
      return true;
    }

    synchronized String nodeId() {
      return nodeId;
    }

    synchronized void subscribed(String typeUrl) {
      type(typeUrl);
    }

    /** The client applied {@code version} (when not empty), answering the response {@code nonce}. */
    synchronized void applied(String typeUrl, String version, String nonce) {
      TypeState type = type(typeUrl);
      if (!version.isEmpty()) {
        type.ackedVersion = version;
      }
      type.resolveNack(nonce);
    }

    synchronized ProxyStatus.Nack rejected(String typeUrl, String nonce, String message) {
      TypeState type = type(typeUrl);
      // version_info of a NACK is what the client kept, not what it rejected: that is the nonce's.
      ProxyStatus.Nack nack = new ProxyStatus.Nack(typeUrl, type.versionOf(nonce), nonce, message, clock.instant());
      type.nack = nack;
      lastNack = nack;
      return nack;
    }

    synchronized void sent(String typeUrl, String version, String nonce) {
      TypeState type = type(typeUrl);
      type.sentVersion = version;
      type.sentNonce = nonce;
      type.nonceVersions.put(nonce, version);
    }

    synchronized String versionSent(String typeUrl, String nonce) {
      return type(typeUrl).versionOf(nonce);
    }

    /** Marks the stream gone and takes it out of its group's count; its last state, or null if never identified. */
    synchronized ConnectedProxy close() {
      if (closed) {
        return null;
      }
      closed = true;
      if (group == null) {
        return null;
      }
      streamsPerGroup.computeIfPresent(group.id(), (id, count) -> count == 1 ? null : count - 1);
      return snapshot();
    }

    /** The stream as of now, or null while the client has not said who it is. */
    synchronized ConnectedProxy snapshot() {
      if (group == null) {
        return null;
      }
      List<ConnectedProxy.Subscription> subscriptions = new ArrayList<>();
      types.forEach((typeUrl, t) -> subscriptions.add(
          new ConnectedProxy.Subscription(typeUrl, t.sentVersion, t.sentNonce, t.ackedVersion, t.nack)));
      return new ConnectedProxy(id, nodeId, group, protocol, openedAt, subscriptions, lastNack);
    }

    private TypeState type(String typeUrl) {
      return types.computeIfAbsent(typeUrl, url -> new TypeState());
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
  }
}
