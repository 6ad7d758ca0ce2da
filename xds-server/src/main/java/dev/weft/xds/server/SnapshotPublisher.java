package dev.weft.xds.server;

import dev.weft.mesh.ProxyGroup;
import dev.weft.xds.translate.ProxyConfig;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.SnapshotConsistencyException;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the snapshot cache the ADS service answers from: one snapshot per {@link ProxyGroup} that
 * has (or recently had) a connected proxy, computed through a {@link ConfigSource}.
 *
 * <p>{@link #publish()} recomputes every known group after the wiring has a new mesh state. A proxy
 * of a group not seen before gets its group computed on its first request, before the cache
 * opens its watch. Until the first {@code publish()} nothing is computed at all: a freshly started
 * replica has no mesh state yet, and a proxy that connects then keeps the config it has instead of
 * being sent an empty one. A snapshot that fails {@link SnapshotConsistency} is never served; the
 * group keeps its last good one and the error is logged once and shown in {@link #groups()}.
 * Groups whose last proxy left more than the idle retention ago are dropped on the next publish.
 *
 * <p>It is also a {@link DiscoveryServerCallbacks}, which is how it learns which groups have
 * proxies; it must come before any other callbacks that need a group's snapshot.
 */
public final class SnapshotPublisher implements DiscoveryServerCallbacks {

  public static final Duration DEFAULT_IDLE_RETENTION = Duration.ofMinutes(5);

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotPublisher.class);
  private static final int MAX_REPORTED_NODE_ERRORS = 1024;

  private final ConfigSource source;
  private final Clock clock;
  private final Duration idleRetention;
  private final SimpleCache<String> cache = new SimpleCache<>(new NodeGroups());
  private final Timer computeTimer;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();

  private final Object lock = new Object();
  /** Guarded by {@link #lock}. */
  private final Map<String, Group> groups = new HashMap<>();
  /** Guarded by {@link #lock}: the last failure of the config source, logged once. */
  private String sourceError;

  /** Which group each open stream belongs to; written under the lock, read without. */
  private final Map<Long, String> streamGroups = new ConcurrentHashMap<>();
  /** The versions of each group's served snapshot, read lock-free by the sync tracker. */
  private final Map<String, Map<String, String>> servedVersions = new ConcurrentHashMap<>();
  /** Invalid nodes already logged, so a misconfigured proxy reconnecting is not logged each time. */
  private final Set<String> reportedNodeErrors = ConcurrentHashMap.newKeySet();

  public SnapshotPublisher(ConfigSource source, Clock clock, MeterRegistry registry) {
    this(source, clock, registry, DEFAULT_IDLE_RETENTION);
  }

  public SnapshotPublisher(ConfigSource source, Clock clock, MeterRegistry registry, Duration idleRetention) {
    this.source = Objects.requireNonNull(source, "source");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.idleRetention = Objects.requireNonNull(idleRetention, "idleRetention");
    this.computeTimer = Timer.builder("xds.snapshot.compute")
        .description("Time to compute and check proxy group snapshots")
        .register(registry);
  }

  /** Recomputes every known group from the newest mesh state; the first call makes the publisher ready. */
  public void publish() {
    synchronized (lock) {
      dropIdleGroups();
      compute(new ArrayList<>(groups.values()));
      ready.complete(null);
    }
  }

  /** True once {@link #publish()} has run, i.e. the server has a mesh state to serve. */
  public boolean isReady() {
    return ready.isDone();
  }

  /** Completes when {@link #publish()} has run for the first time. */
  public CompletionStage<Void> whenReady() {
    return ready.copy();
  }

  /** The versions per type URL of the snapshot {@code groupId} is served; empty when it has none. */
  public Map<String, String> servedVersions(String groupId) {
    return servedVersions.getOrDefault(groupId, Map.of());
  }

  /** Every group the publisher knows, sorted by id. */
  public List<GroupStatus> groups() {
    synchronized (lock) {
      return groups.values().stream()
          .sorted(Comparator.comparing(g -> g.group.id()))
          .map(g -> new GroupStatus(g.group, g.streams, servedVersions(g.group.id()), g.idleSince, g.lastError))
          .toList();
    }
  }

  SimpleCache<String> cache() {
    return cache;
  }

  @Override
  public void onV3StreamRequest(long streamId, DiscoveryRequest request) throws RequestException {
    register(streamId, request.hasNode() ? request.getNode() : null);
  }

  @Override
  public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) throws RequestException {
    register(streamId, request.hasNode() ? request.getNode() : null);
  }

  @Override
  public void onStreamClose(long streamId, String typeUrl) {
    unregister(streamId);
  }

  @Override
  public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
    unregister(streamId);
  }

  private void register(long streamId, Node node) throws RequestException {
    if (streamGroups.containsKey(streamId)) {
      return;
    }
    if (node == null) {
      throw refuse("the first xDS request on a stream must carry the node");
    }
    ProxyGroup group;
    try {
      group = NodeGroups.groupOf(node);
    } catch (IllegalArgumentException e) {
      throw refuse(e.getMessage());
    }
    synchronized (lock) {
      if (streamGroups.putIfAbsent(streamId, group.id()) != null) {
        return;
      }
      Group state = groups.computeIfAbsent(group.id(), id -> new Group(group));
      state.streams++;
      state.idleSince = null;
      if (state.served == null && ready.isDone()) {
        compute(List.of(state));
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

  private void unregister(long streamId) {
    synchronized (lock) {
      String groupId = streamGroups.remove(streamId);
      Group state = groupId == null ? null : groups.get(groupId);
      if (state != null && --state.streams == 0) {
        state.idleSince = clock.instant();
      }
    }
  }

  private void dropIdleGroups() {
    Instant cutoff = clock.instant().minus(idleRetention);
    groups.values().removeIf(g -> {
      // clearSnapshot refuses while a watch is still open (a closing stream cancels its watches
      // just after the close callback); such a group goes on a later publish.
      if (g.streams == 0 && g.idleSince != null && !g.idleSince.isAfter(cutoff) && cache.clearSnapshot(g.group.id())) {
        servedVersions.remove(g.group.id());
        LOG.info("dropped snapshot of group {}: no proxy since {}", g.group.id(), g.idleSince);
        return true;
      }
      return false;
    });
  }

  /** Computes, checks and serves the snapshots of {@code targets}; called with the lock held. */
  private void compute(List<Group> targets) {
    if (targets.isEmpty()) {
      return;
    }
    Map<String, Snapshot> good = new LinkedHashMap<>();
    computeTimer.record(() -> {
      Map<ProxyGroup, ProxyConfig> configs;
      try {
        configs = source.configsFor(targets.stream().map(g -> g.group).toList());
      } catch (RuntimeException e) {
        String message = "config source failed: " + e;
        if (!message.equals(sourceError)) {
          LOG.error("{}; every group keeps its last good snapshot", message, e);
        }
        sourceError = message;
        targets.forEach(g -> g.lastError = message);
        return;
      }
      sourceError = null;
      for (Group target : targets) {
        ProxyConfig config = configs.get(target.group);
        if (config == null || (target.served != null && sameVersions(target.served, config))) {
          continue;
        }
        try {
          good.put(target.group.id(), snapshotOf(config));
        } catch (SnapshotConsistencyException | IllegalArgumentException e) {
          String message = e.getMessage();
          if (!message.equals(target.lastError)) {
            LOG.error("not serving the new config of group {}, it keeps its last good snapshot: {}",
                target.group.id(), message);
          }
          target.lastError = message;
          continue;
        }
        target.served = config;
        target.lastError = null;
      }
    });
    // Setting a snapshot answers open watches, which is pushing, not computing: outside the timer.
    good.forEach((groupId, snapshot) -> {
      servedVersions.put(groupId, java.util.Collections.unmodifiableMap(versionsOf(groups.get(groupId).served)));
      cache.setSnapshot(groupId, snapshot);
    });
  }

  static Snapshot snapshotOf(ProxyConfig config) throws SnapshotConsistencyException {
    versionsOf(config).forEach((typeUrl, version) -> {
      if (version == null || version.isBlank()) {
        throw new IllegalArgumentException("the " + XdsType.shortName(typeUrl)
            + " version is blank; a ProxyConfig needs a content-derived version per type");
      }
    });
    Snapshot snapshot = new ContentVersionedSnapshot(config);
    SnapshotConsistency.check(snapshot);
    return snapshot;
  }

  /** The versions of a config per type URL, as its snapshot carries them. */
  public static Map<String, String> versionsOf(ProxyConfig config) {
    Map<String, String> versions = new LinkedHashMap<>();
    versions.put(Resources.V3.CLUSTER_TYPE_URL, config.clustersVersion());
    versions.put(Resources.V3.ENDPOINT_TYPE_URL, config.endpointsVersion());
    versions.put(Resources.V3.LISTENER_TYPE_URL, config.listenersVersion());
    versions.put(Resources.V3.ROUTE_TYPE_URL, config.routesVersion());
    return versions;
  }

  private static boolean sameVersions(ProxyConfig a, ProxyConfig b) {
    return versionsOf(a).equals(versionsOf(b));
  }

  /** The publisher's state for one group. */
  private static final class Group {
    final ProxyGroup group;
    int streams;
    Instant idleSince;
    /** The config of the snapshot being served, or null before the first good one. */
    ProxyConfig served;
    String lastError;

    Group(ProxyGroup group) {
      this.group = group;
    }
  }
}
