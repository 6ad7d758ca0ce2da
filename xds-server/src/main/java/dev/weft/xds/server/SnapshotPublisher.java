package dev.weft.xds.server;

import dev.weft.mesh.ProxyGroup;
import dev.weft.xds.server.delta.DeltaStreams;
import dev.weft.xds.server.delta.SendBudget;
import dev.weft.xds.translate.ProxyConfig;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.SnapshotConsistencyException;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.serializer.CachedProtoResourcesSerializer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the snapshot cache the ADS service answers from: a snapshot for each {@link ProxyGroup} that
 * has (or recently had) a connected proxy, computed through a {@link ConfigSource}; which groups
 * have proxies it learns from the {@link ConnectedProxies} registry.
 *
 * <p>{@link #publish()} recomputes every known group after the wiring has a new mesh state. Groups
 * whose configs are equal share one {@link Snapshot} object: it is built and checked once per
 * distinct config, and a config equal to one already served (same versions) reuses that snapshot
 * and config rather than keeping a second copy.
 *
 * <p>A proxy of a group not seen before is registered at once on its gRPC thread; its group is
 * computed on the publisher's join thread, with every other group that joined meanwhile, from the
 * same input as the last publish, and without the lock that connecting proxies need. Its watches
 * stay open (nothing is answered) until its snapshot is set. Until the first {@code publish()}
 * nothing is computed at all: a freshly started replica has no mesh state yet, and a proxy that
 * connects then keeps the config it has instead of being sent an empty one. A snapshot that fails
 * {@link SnapshotConsistency} is never served; the group keeps its last good one and the error is
 * logged once and shown in {@link #groups()}. Groups whose last proxy left more than the idle
 * retention ago are dropped on the next publish.
 */
public final class SnapshotPublisher {

  public static final Duration DEFAULT_IDLE_RETENTION = Duration.ofMinutes(5);

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotPublisher.class);

  private final ConfigSource source;
  private final ConnectedProxies proxies;
  private final Clock clock;
  private final Duration idleRetention;
  private final Executor joinExecutor;
  /** What state-of-the-world streams are answered from (java-control-plane's cache). */
  private final SimpleCache<String> cache = new SimpleCache<>(new NodeGroups());
  /** The delta streams, answered by Weft's own delta ADS from the same snapshots. */
  private final DeltaStreams deltas;
  private final Timer computeTimer;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();

  /**
   * One computation at a time (publish or a batch of joins): the config source, the snapshots'
   * fields and the cache's writes. Never taken on a gRPC thread, and never while holding {@link #lock}.
   */
  private final Object computing = new Object();
  /** Guarded by {@link #computing}: the configs of the last publish, which joins are computed from. */
  private ConfigSource.Configs published;
  /** Guarded by {@link #computing}: the last failure of the config source, logged once. */
  private String sourceError;

  /** The registry of groups, held only for bookkeeping, never while computing or pushing. */
  private final Object lock = new Object();
  /** Guarded by {@link #lock}. */
  private final Map<String, Group> groups = new HashMap<>();
  /** Guarded by {@link #lock}: groups without a snapshot whose proxies wait for the next join batch. */
  private final Set<Group> joining = new LinkedHashSet<>();
  /** Guarded by {@link #lock}: a join batch is queued and has not started yet. */
  private boolean joinQueued;
  /** Guarded by {@link #lock}: a publish has taken its groups, so a group registered from now on joins. */
  private boolean publishing;

  /** The versions of each group's served snapshot, read lock-free by the sync tracker. */
  private final Map<String, Map<String, String>> servedVersions = new ConcurrentHashMap<>();

  public SnapshotPublisher(ConfigSource source, ConnectedProxies proxies, Clock clock, MeterRegistry registry) {
    this(source, proxies, clock, registry, DEFAULT_IDLE_RETENTION);
  }

  /** A publisher for the groups of the proxies in {@code proxies}, which it listens to from now on. */
  public SnapshotPublisher(ConfigSource source, ConnectedProxies proxies, Clock clock, MeterRegistry registry,
      Duration idleRetention) {
    this(source, proxies, clock, registry, idleRetention, joinThread());
  }

  /** The same, computing joins on {@code joinExecutor} (tests run them by hand). */
  SnapshotPublisher(ConfigSource source, ConnectedProxies proxies, Clock clock, MeterRegistry registry,
      Duration idleRetention, Executor joinExecutor) {
    this.source = Objects.requireNonNull(source, "source");
    this.proxies = Objects.requireNonNull(proxies, "proxies");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.idleRetention = Objects.requireNonNull(idleRetention, "idleRetention");
    this.joinExecutor = Objects.requireNonNull(joinExecutor, "joinExecutor");
    this.deltas = new DeltaStreams(proxies, new CachedProtoResourcesSerializer(),
        request -> NodeGroups.groupOf(request.getNode()).id(), SendBudget.forHeap(Runtime.getRuntime().maxMemory()));
    // When proxies read slower than the server writes (a connect storm), these say how far behind they are.
    Gauge.builder("xds.delta.send.budget.in.flight", deltas.budget(), SendBudget::inFlight)
        .baseUnit("bytes").description("Bytes written to delta streams and not yet read by their clients")
        .register(registry);
    Gauge.builder("xds.delta.streams.waiting", deltas.budget(), SendBudget::waiting)
        .description("Delta streams waiting for the send budget before they write").register(registry);
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

  /** One daemon thread that goes away when idle: joins are rare once a mesh has settled. */
  private static Executor joinThread() {
    ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        task -> {
          Thread thread = new Thread(task, "weft-group-joins");
          thread.setDaemon(true);
          return thread;
        });
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }

  /** Recomputes every known group from the newest mesh state; the first call makes the publisher ready. */
  public void publish() {
    synchronized (computing) {
      List<Group> targets;
      synchronized (lock) {
        dropIdleGroups();
        targets = new ArrayList<>(groups.values());
        // These are computed now; any group registered after this line is queued as a join.
        joining.clear();
        publishing = true;
      }
      try {
        published = source.newest();
      } catch (RuntimeException e) {
        published = failing -> {
          throw e;
        };
      }
      compute(targets);
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

  DeltaStreams deltaStreams() {
    return deltas;
  }

  /**
   * A proxy of {@code group} connected: the group is no longer idle, and a group not served yet is
   * queued for the next join batch. Called on the proxy's gRPC thread before the cache opens its
   * watch; it only takes the registry lock, so other proxies connecting never wait on a translation.
   */
  private void joined(ProxyGroup group) {
    synchronized (lock) {
      Group state = groups.computeIfAbsent(group.id(), id -> new Group(group));
      state.idleSince = null;
      if (state.served == null && publishing && joining.add(state) && !joinQueued) {
        joinQueued = true;
        joinExecutor.execute(this::computeJoins);
      }
    }
  }

  /** Computes the groups that joined since the last batch, all in one call to the config source. */
  private void computeJoins() {
    synchronized (computing) {
      List<Group> batch;
      synchronized (lock) {
        // Joins from here on queue the next batch, which waits for this one.
        joinQueued = false;
        batch = joining.stream().filter(g -> g.served == null && groups.get(g.group.id()) == g).toList();
        joining.clear();
      }
      try {
        compute(batch);
      } catch (RuntimeException e) {
        // Nothing else would report it on this thread; the groups get their snapshots on the next publish.
        LOG.error("computing the snapshots of {} joined group(s) failed; they wait for the next publish",
            batch.size(), e);
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

  /** Called holding both locks. */
  private void dropIdleGroups() {
    Instant cutoff = clock.instant().minus(idleRetention);
    groups.values().removeIf(g -> {
      // clearSnapshot refuses while a watch is still open (a closing stream cancels its watches
      // just after the close callback); such a group goes on a later publish.
      if (g.idleSince != null && !g.idleSince.isAfter(cutoff) && proxies.streamsOf(g.group.id()) == 0
          && cleared(g)) {
        servedVersions.remove(g.group.id());
        LOG.info("dropped snapshot of group {}: no proxy since {}", g.group.id(), g.idleSince);
        return true;
      }
      return false;
    });
  }

  /** Clears the group's snapshot from both kinds of streams, or from neither. */
  private boolean cleared(Group group) {
    if (!deltas.clearSnapshot(group.group.id())) {
      return false;
    }
    if (cache.clearSnapshot(group.group.id())) {
      return true;
    }
    if (group.served != null) {
      deltas.setSnapshot(group.group.id(), group.served.snapshot);
    }
    return false;
  }

  /**
   * Computes, checks and serves the snapshots of {@code targets} from the last published configs;
   * called holding {@link #computing} and not {@link #lock}.
   */
  private void compute(List<Group> targets) {
    if (targets.isEmpty()) {
      return;
    }
    Outcome outcome = computeTimer.record(() -> outcomeOf(targets));
    synchronized (lock) {
      outcome.failed.forEach((target, message) -> {
        if (outcome.sourceFailed == null && !message.equals(target.lastError)) {
          LOG.error("not serving the new config of group {}, it keeps its last good snapshot: {}",
              target.group.id(), message);
        }
        target.lastError = message;
      });
      outcome.changed.forEach((target, served) -> {
        target.served = served;
        target.lastError = null;
      });
    }
    // Setting a snapshot answers open watches, which is pushing, not computing: outside the timer,
    // and outside the registry lock, so proxies keep connecting meanwhile.
    outcome.changed.forEach((target, served) -> {
      servedVersions.put(target.group.id(), served.versions);
      cache.setSnapshot(target.group.id(), served.snapshot);
      deltas.setSnapshot(target.group.id(), served.snapshot);
    });
  }

  /** What {@link #compute} changes: one snapshot built and checked per distinct config. */
  private record Outcome(Map<Group, Served> changed, Map<Group, String> failed, String sourceFailed) {}

  private Outcome outcomeOf(List<Group> targets) {
    Map<ProxyGroup, ProxyConfig> configs;
    try {
      configs = published.configsFor(targets.stream().map(g -> g.group).toList());
    } catch (RuntimeException e) {
      String message = "config source failed: " + e;
      if (!message.equals(sourceError)) {
        LOG.error("{}; every group keeps its last good snapshot", message, e);
      }
      sourceError = message;
      Map<Group, String> failed = new LinkedHashMap<>();
      targets.forEach(g -> failed.put(g, message));
      return new Outcome(Map.of(), failed, message);
    }
    sourceError = null;
    Map<Group, Served> changed = new LinkedHashMap<>();
    Map<Group, String> failed = new LinkedHashMap<>();
    // The translator hands groups with equal configs one instance; a config equal to one served
    // already (a join's, or an unchanged one translated again) is found by its versions.
    Map<ProxyConfig, Served> byConfig = new IdentityHashMap<>();
    Map<ProxyConfig, String> errors = new IdentityHashMap<>();
    Map<Map<String, String>, Served> byVersions = servedByVersions();
    for (Group target : targets) {
      ProxyConfig config = configs.get(target.group);
      if (config == null || (target.served != null && target.served.config == config)) {
        continue;
      }
      Served served = byConfig.get(config);
      if (served == null && !errors.containsKey(config)) {
        Map<String, String> versions = Collections.unmodifiableMap(versionsOf(config));
        served = byVersions.get(versions);
        if (served == null) {
          try {
            served = new Served(config, snapshotOf(config, previousOf(target)), versions);
            byVersions.put(versions, served);
          } catch (SnapshotConsistencyException | IllegalArgumentException e) {
            errors.put(config, e.getMessage());
          }
        }
        if (served != null) {
          byConfig.put(config, served);
        }
      }
      if (served == null) {
        failed.put(target, errors.get(config));
      } else if (served != target.served) {
        changed.put(target, served);
      }
    }
    return new Outcome(changed, failed, null);
  }

  /** What is served now, by versions: a new config equal to one of these reuses its snapshot. */
  private Map<Map<String, String>, Served> servedByVersions() {
    Map<Map<String, String>, Served> byVersions = new HashMap<>();
    synchronized (lock) {
      for (Group group : groups.values()) {
        if (group.served != null) {
          byVersions.putIfAbsent(group.served.versions, group.served);
        }
      }
    }
    return byVersions;
  }

  /** The group's served snapshot, whose unchanged types a new snapshot can take over; null if none. */
  private static ContentVersionedSnapshot previousOf(Group group) {
    return group.served != null && group.served.snapshot instanceof ContentVersionedSnapshot snapshot
        ? snapshot : null;
  }

  static Snapshot snapshotOf(ProxyConfig config) throws SnapshotConsistencyException {
    return snapshotOf(config, null);
  }

  static Snapshot snapshotOf(ProxyConfig config, ContentVersionedSnapshot previous)
      throws SnapshotConsistencyException {
    versionsOf(config).forEach((typeUrl, version) -> {
      if (version == null || version.isBlank()) {
        throw new IllegalArgumentException("the " + XdsType.shortName(typeUrl)
            + " version is blank; a ProxyConfig needs a content-derived version per type");
      }
    });
    Snapshot snapshot = new ContentVersionedSnapshot(config, previous);
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

  /**
   * A checked snapshot and the config it was built from, shared by every group whose config has
   * these versions (content-derived: equal versions, equal resources).
   */
  private record Served(ProxyConfig config, Snapshot snapshot, Map<String, String> versions) {}

  /** The publisher's state for one group. */
  private static final class Group {
    final ProxyGroup group;
    /** Guarded by the registry lock: since when no proxy of the group is connected; null while one is. */
    Instant idleSince;
    /** Written holding both locks: what the group is served, or null before the first good snapshot. */
    Served served;
    /** Written holding both locks. */
    String lastError;

    Group(ProxyGroup group) {
      this.group = group;
    }
  }
}
