package dev.weft.xds.server;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Whether each connected proxy runs the newest config of its group: {@link #proxies()} reads the
 * {@link ConnectedProxies} registry (what each stream was sent, applied and rejected) against the
 * versions each group is served, which the debug endpoint, the metrics and the sync report read.
 * It also remembers the proxies that left most recently, with their status as they left.
 *
 * <p>The newest version of a group comes from a function (the publisher's served versions), read
 * when the view is built, so a new snapshot makes proxies unsynced until they ACK it.
 */
public final class ProxySyncTracker {

  static final int RECENTLY_DISCONNECTED = 32;

  private final ConnectedProxies registry;
  private final Function<String, Map<String, String>> latestVersions;
  private final Deque<DisconnectedProxy> disconnected = new ArrayDeque<>();

  /**
   * @param latestVersions the versions per type URL of a group's current snapshot, by group id
   *     (empty when the group has none); in the server, {@link SnapshotPublisher#servedVersions}
   */
  public ProxySyncTracker(ConnectedProxies registry, Function<String, Map<String, String>> latestVersions,
      MeterRegistry meters) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.latestVersions = Objects.requireNonNull(latestVersions, "latestVersions");
    Gauge.builder("proxies.connected", this, t -> t.registry.proxies().size())
        .description("xDS clients connected to this replica").strongReference(true).register(meters);
    Gauge.builder("proxies.synced", this, t -> t.proxies().stream().filter(ProxyStatus::synced).count())
        .description("Connected xDS clients that applied the newest config of their group")
        .strongReference(true).register(meters);
    Gauge.builder("proxies.nacked", this, t -> t.proxies().stream().filter(ProxyStatus::nacked).count())
        .description("Connected xDS clients whose newest config of some type was rejected")
        .strongReference(true).register(meters);
    registry.addListener(new ConnectedProxies.Listener() {
      @Override
      public void disconnected(ConnectedProxy proxy, Instant at, String reason) {
        remember(new DisconnectedProxy(status(proxy), at, reason));
      }
    });
  }

  /** The connected clients (streams whose node is known), sorted by node id. */
  public List<ProxyStatus> proxies() {
    return registry.proxies().stream().map(this::status).toList();
  }

  /** The clients that left most recently, newest first, at most {@value #RECENTLY_DISCONNECTED}. */
  public List<DisconnectedProxy> recentlyDisconnected() {
    synchronized (disconnected) {
      return List.copyOf(disconnected);
    }
  }

  private void remember(DisconnectedProxy gone) {
    synchronized (disconnected) {
      disconnected.addFirst(gone);
      while (disconnected.size() > RECENTLY_DISCONNECTED) {
        disconnected.removeLast();
      }
    }
  }

  /** The status of {@code proxy} against the newest versions of its group. */
  private ProxyStatus status(ConnectedProxy proxy) {
    Map<String, String> latest = latestVersions.apply(proxy.groupId());
    boolean synced = !proxy.subscriptions().isEmpty() && !latest.isEmpty();
    List<ProxyStatus.TypeStatus> types = new ArrayList<>();
    for (ConnectedProxy.Subscription subscription : proxy.subscriptions()) {
      String typeUrl = subscription.typeUrl();
      String newest = latest.getOrDefault(typeUrl, "");
      boolean current = latest.containsKey(typeUrl) && newest.equals(subscription.ackedVersion());
      if (latest.containsKey(typeUrl) && !current) {
        synced = false;
      }
      // When the group's newest version is again the one the proxy kept (the bad change was
      // undone), nothing new is sent and no ACK comes, yet the rejection no longer stands.
      ProxyStatus.Nack standing = current ? null : subscription.nack();
      types.add(new ProxyStatus.TypeStatus(typeUrl, subscription.sentVersion(), subscription.sentNonce(),
          subscription.ackedVersion(), newest, standing));
    }
    return new ProxyStatus(proxy.nodeId(), proxy.group().namespace(), proxy.groupId(), proxy.streamId(),
        proxy.protocol(), proxy.connectedAt(), types, proxy.lastNack(), synced);
  }
}
