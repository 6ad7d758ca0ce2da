package dev.weft.xds.server;

import dev.weft.mesh.ProxyGroup;
import dev.weft.xds.translate.ProxyConfig;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.SnapshotConsistencyException;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the snapshot cache the ADS service answers from: one snapshot per {@link ProxyGroup} that
 * has (or recently had) a connected proxy, computed through a {@link ConfigSource}; which groups
 * have proxies it learns from the {@link ConnectedProxies} registry.
 *
 * <p>{@link #publish()} recomputes every known group after the wiring has a new mesh state. A proxy
 * of a group not seen before gets its group computed on its first request, before the cache
 * opens its watch. Until the first {@code publish()} nothing is computed at all: a freshly started
 * replica has no mesh state yet, and a proxy that connects then keeps the config it has instead of
 * being sent an empty one. A snapshot that fails {@link SnapshotConsistency} is never served; the
 * group keeps its last good one and the error is logged once and shown in {@link #groups()}.
 * Groups whose last proxy left more than the idle retention ago are dropped on the next publish.
 */
public final class SnapshotPublisher {

  public static final Duration DEFAULT_IDLE_RETENTION = Duration.ofMinutes(5);

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotPublisher.class);

  private final ConfigSource source;
  private final ConnectedProxies proxies;
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

  /** The versions of each group's served snapshot, read lock-free by the sync tracker. */
  private final Map<String, Map<String, String>> servedVersions = new ConcurrentHashMap<>();

  public SnapshotPublisher(ConfigSource source, ConnectedProxies proxies, Clock clock, MeterRegistry registry) {
    this(source, proxies, clock, registry, DEFAULT_IDLE_RETENTION);
  }

  /** A publisher for the groups of the proxies in {@code proxies}, which it listens to from now on. */
  public SnapshotPublisher(ConfigSource source, ConnectedProxies proxies, Clock clock, MeterRegistry registry,
      Duration idleRetention) {
    this.source = Objects.requireNonNull(source, "source");
    this.proxies = Objects.requireNonNull(proxies, "proxies");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.idleRetention = Objects.requireNonNull(idleRetention, "idleRetention");
    this.computeTimer = Timer.builder("xds.snapshot.compute")
        .description("Time to compute and check proxy group snapshots")
        .register(registry);
    proxies.addListener(new ConnectedProxies.Listener() {
      @Override
      public void connected(ConnectedProxy proxy) {
        joined(proxy.group());
      }

      @Override
      public void disconnected(ConnectedProxy proxy, Instant at, String reason) {
        left(proxy.groupId(), at);
      }
    });
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
          .map(g -> new GroupStatus(g.group, proxies.streamsOf(g.group.id()), servedVersions(g.group.id()),
              g.idleSince, g.lastError))
          .toList();
    }
  }

  SimpleCache<String> cache() {
    return cache;
  }

  /**
   * A proxy of {@code group} connected: the group is no longer idle, and a group not served yet
   * gets its snapshot now, before the cache opens the proxy's first watch.
   */
  private void joined(ProxyGroup group) {
    synchronized (lock) {
      Group state = groups.computeIfAbsent(group.id(), id -> new Group(group));
      state.idleSince = null;
      if (state.served == null && ready.isDone()) {
        compute(List.of(state));
      }
    }
  }

  /** A proxy of group {@code groupId} left at {@code at}; the registry no longer counts it. */
  private void left(String groupId, Instant at) {
    synchronized (lock) {
      Group state = groups.get(groupId);
      // Read under the lock, after the registry's count went down: a proxy of the group that
      // connects meanwhile either is counted here or clears idleSince when its turn comes.
      if (state != null && proxies.streamsOf(groupId) == 0) {
        state.idleSince = at;
      }
    }
  }

  private void dropIdleGroups() {
    Instant cutoff = clock.instant().minus(idleRetention);
    groups.values().removeIf(g -> {
      // clearSnapshot refuses while a watch is still open (a closing stream cancels its watches
      // just after the close callback); such a group goes on a later publish.
      if (g.idleSince != null && !g.idleSince.isAfter(cutoff) && proxies.streamsOf(g.group.id()) == 0
          && cache.clearSnapshot(g.group.id())) {
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
    /** Since when no proxy of the group is connected; null while one is. */
    Instant idleSince;
    /** The config of the snapshot being served, or null before the first good one. */
    ProxyConfig served;
    String lastError;

    Group(ProxyGroup group) {
      this.group = group;
    }
  }
}
