package dev.weft.xds;

import dev.weft.mesh.MeshState;
import dev.weft.api.v1alpha1.ApiDuration;
import dev.weft.xds.jvm.HeapPressureMonitor;
import dev.weft.xds.k8s.MeshStateWatcher;
import dev.weft.xds.server.ConnectedProxies;
import dev.weft.xds.server.DebugEndpoint;
import dev.weft.xds.server.ProxySyncTracker;
import dev.weft.xds.server.SnapshotPublisher;
import dev.weft.xds.server.XdsServer;
import dev.weft.xds.server.XdsTls;
import dev.weft.xds.sync.ConfigProvenance;
import dev.weft.xds.sync.SyncReportBuilder;
import dev.weft.xds.sync.SyncReportPublisher;
import dev.weft.xds.translate.IncrementalTranslator;
import dev.weft.xds.translate.LastGoodTranslator;
import dev.weft.xds.translate.MeshTranslator;
import dev.weft.xds.translate.Rejection;
import dev.weft.xds.translate.ScopedTranslator;
import dev.weft.xds.translate.TrafficPlans;
import dev.weft.xds.translate.Translation;
import dev.weft.xds.translate.Translator;
import dev.weft.xds.tls.MutualTls;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The xds-server process: Kubernetes informers feed the mesh state, the pure translators turn it
 * into a config per proxy group, and the ADS server serves it. One direction: nothing here calls
 * back into the API except to watch.
 */
public final class XdsServerApp implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(XdsServerApp.class);
  /**
   * How often the ADS port's certificate files are checked for a change (a renewed Secret, a new
   * trust bundle; {@code XdsTls} compares three small files with what it loaded and loads them only
   * when they changed), so a renewal is served within about a second. A long period would let a
   * short-lived certificate expire before it is read again.
   */
  static final java.time.Duration XDS_TLS_RELOAD = java.time.Duration.ofSeconds(1);

  /**
   * What to serve on and what to watch, and where to report proxy sync state ({@code syncReport};
   * null: no report). Ports 0 pick free ones (tests). {@code trustDomain} is that of the SPIFFE IDs
   * sidecars verify, the operator's {@code WEFT_TRUST_DOMAIN}.
   */
  public record Config(String bindAddress, int xdsPort, int debugPort, Set<String> namespaces,
      SyncReportPublisher.Settings syncReport, String trustDomain, String xdsTlsDirectory,
      String debugPagesAddress, int debugPagesPort) {

    /** Where the debug pages listen unless told otherwise: reachable with kubectl port-forward only. */
    public static final String DEFAULT_DEBUG_PAGES_ADDRESS = "127.0.0.1";
    public static final int DEFAULT_DEBUG_PAGES_PORT = 15015;

    public Config {
      namespaces = Set.copyOf(namespaces);
      trustDomain = trustDomain == null || trustDomain.isBlank() ? MutualTls.DEFAULT_TRUST_DOMAIN : trustDomain.strip();
      xdsTlsDirectory = xdsTlsDirectory == null ? "" : xdsTlsDirectory.strip();
      debugPagesAddress = debugPagesAddress == null || debugPagesAddress.isBlank() ? DEFAULT_DEBUG_PAGES_ADDRESS
          : debugPagesAddress.strip();
    }

    /** With the debug pages on a free loopback port. */
    public Config(String bindAddress, int xdsPort, int debugPort, Set<String> namespaces,
        SyncReportPublisher.Settings syncReport, String trustDomain, String xdsTlsDirectory) {
      this(bindAddress, xdsPort, debugPort, namespaces, syncReport, trustDomain, xdsTlsDirectory,
          DEFAULT_DEBUG_PAGES_ADDRESS, 0);
    }

    /** With the default trust domain, a plaintext ADS port. */
    public Config(String bindAddress, int xdsPort, int debugPort, Set<String> namespaces,
        SyncReportPublisher.Settings syncReport) {
      this(bindAddress, xdsPort, debugPort, namespaces, syncReport, MutualTls.DEFAULT_TRUST_DOMAIN, "");
    }

    /**
     * The same, with the ADS port serving TLS from the certificate Secret mounted at
     * {@code directory} and requiring client certificates ({@link XdsTls}; empty: plaintext).
     */
    public Config withXdsTls(String directory) {
      return new Config(bindAddress, xdsPort, debugPort, namespaces, syncReport, trustDomain, directory,
          debugPagesAddress, debugPagesPort);
    }

    /** Serving and watching only: no sync report. */
    public Config(String bindAddress, int xdsPort, int debugPort, Set<String> namespaces) {
      this(bindAddress, xdsPort, debugPort, namespaces, null);
    }

    /** The same, reporting sync state as {@code settings} say (null: not at all). */
    public Config withSyncReport(SyncReportPublisher.Settings settings) {
      return new Config(bindAddress, xdsPort, debugPort, namespaces, settings, trustDomain, xdsTlsDirectory,
          debugPagesAddress, debugPagesPort);
    }

    /**
     * Settings from the environment, as the helm chart sets them. The sync report is on when
     * {@code WEFT_SYNC_REPORT} is {@code true}, or when it is unset and the process runs in a pod
     * ({@code KUBERNETES_SERVICE_HOST} is set); it goes to {@code WEFT_POD_NAMESPACE} (default: the
     * client's namespace) under {@code WEFT_POD_NAME} (default: the host name), every
     * {@code WEFT_SYNC_REPORT_INTERVAL} (2s) when changed and every {@code WEFT_SYNC_REPORT_HEARTBEAT}
     * (10s) regardless. {@code WEFT_TRUST_DOMAIN} (default {@code cluster.local}) is the trust
     * domain of the SPIFFE IDs. {@code WEFT_XDS_TLS_DIRECTORY}, when set, is where the xds-server's
     * certificate Secret is mounted: the ADS port then serves TLS and requires client certificates;
     * until the files are there the port completes no handshake and {@code /readyz} says why.
     * {@code WEFT_DEBUG_PORT} (15014, on {@code WEFT_BIND_ADDRESS}) serves {@code /healthz},
     * {@code /readyz} and {@code /metrics}; the debug pages ({@code /debug/*}) listen on
     * {@code WEFT_DEBUG_PAGES_ADDRESS}:{@code WEFT_DEBUG_PAGES_PORT} (127.0.0.1:15015).
     */
    public static Config fromEnvironment() {
      return fromEnvironment(System.getenv());
    }

    /** Settings from these environment variables; see {@link #fromEnvironment()}. */
    public static Config fromEnvironment(Map<String, String> env) {
      String namespaces = env.getOrDefault("WEFT_WATCH_NAMESPACES", "");
      return new Config(
          env.getOrDefault("WEFT_BIND_ADDRESS", "0.0.0.0"),
          Integer.parseInt(env.getOrDefault("WEFT_XDS_PORT", String.valueOf(XdsServer.DEFAULT_PORT))),
          Integer.parseInt(env.getOrDefault("WEFT_DEBUG_PORT", String.valueOf(DebugEndpoint.DEFAULT_PORT))),
          Arrays.stream(namespaces.split(",")).map(String::strip).filter(s -> !s.isEmpty())
              .collect(Collectors.toSet()),
          syncReportFrom(env),
          env.getOrDefault("WEFT_TRUST_DOMAIN", MutualTls.DEFAULT_TRUST_DOMAIN),
          env.getOrDefault("WEFT_XDS_TLS_DIRECTORY", ""),
          env.getOrDefault("WEFT_DEBUG_PAGES_ADDRESS", DEFAULT_DEBUG_PAGES_ADDRESS),
          Integer.parseInt(env.getOrDefault("WEFT_DEBUG_PAGES_PORT", String.valueOf(DEFAULT_DEBUG_PAGES_PORT))));
    }

    private static SyncReportPublisher.Settings syncReportFrom(Map<String, String> env) {
      String flag = env.getOrDefault("WEFT_SYNC_REPORT", "").strip();
      boolean inPod = !env.getOrDefault("KUBERNETES_SERVICE_HOST", "").isBlank();
      if (flag.equalsIgnoreCase("false") || (flag.isEmpty() && !inPod)) {
        return null;
      }
      String podName = env.getOrDefault("WEFT_POD_NAME", "").strip();
      if (podName.isEmpty()) {
        podName = hostName(env);
      }
      return SyncReportPublisher.Settings.of(env.getOrDefault("WEFT_POD_NAMESPACE", ""), podName).withTimings(
          ApiDuration.parse(env.getOrDefault("WEFT_SYNC_REPORT_INTERVAL", "2s").strip()),
          ApiDuration.parse(env.getOrDefault("WEFT_SYNC_REPORT_HEARTBEAT", "10s").strip()));
    }

    private static String hostName(Map<String, String> env) {
      String fromEnv = env.get("HOSTNAME");
      if (fromEnv != null && !fromEnv.isBlank()) {
        return fromEnv.strip();
      }
      try {
        return InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        return "localhost";
      }
    }
  }

  private final MeshStateWatcher watcher;
  private final XdsServer xds;
  private final DebugEndpoint debug;
  private final SyncReportPublisher syncReport;
  private final ConnectedProxies proxies;
  private final SnapshotPublisher publisher;
  private final HeapPressureMonitor heap;
  /** The ADS port's TLS, or null when it is plaintext. */
  private final XdsTls tls;

  private XdsServerApp(MeshStateWatcher watcher, XdsServer xds, DebugEndpoint debug, SyncReportPublisher syncReport,
      ConnectedProxies proxies, SnapshotPublisher publisher, HeapPressureMonitor heap, XdsTls tls) {
    this.watcher = watcher;
    this.xds = xds;
    this.debug = debug;
    this.syncReport = syncReport;
    this.proxies = proxies;
    this.publisher = publisher;
    this.heap = heap;
    this.tls = tls;
  }

  /**
   * Starts serving: the ADS port answers at once but holds proxies until the first mesh state is
   * built from synced informers, so a restarted replica never serves an empty config.
   */
  public static XdsServerApp start(KubernetesClient client, Config config) throws IOException {
    return start(client, config, UnaryOperator.identity());
  }

  /**
   * Starts serving what {@code decorate} makes of the translators: the configs, rejections and
   * sources of the translator it returns are what is served, logged and reported. The seam for
   * what must see or change the translation without a wiring of its own (the end-to-end tests'
   * NACK hook wraps the translator here); {@link #start(KubernetesClient, Config)} serves the
   * translators as they are.
   */
  public static XdsServerApp start(KubernetesClient client, Config config, UnaryOperator<Translator> decorate)
      throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // A rejected change keeps the previous version of that resource serving (the last good config);
    // a change of endpoints alone re-translates only the endpoints.
    // One plan per state for both: the last-good check plans it, the translation reuses that plan.
    // Namespaces that scope their sidecars' outbound side get a translation per scope (ScopedTranslator).
    TrafficPlans plans = new TrafficPlans();
    Translator scoped = new ScopedTranslator(new IncrementalTranslator(new MeshTranslator(config.trustDomain(), plans)),
        () -> new IncrementalTranslator(new MeshTranslator(config.trustDomain())), plans, translationThreads());
    Translator translator = Objects.requireNonNull(decorate.apply(new LastGoodTranslator(scoped, plans)), "translator");
    AtomicReference<MeshState> current = new AtomicReference<>(MeshState.EMPTY);
    RejectionLog rejectionLog = new RejectionLog();
    ConfigProvenance provenance = new ConfigProvenance();
    ConnectedProxies proxies = new ConnectedProxies(Clock.systemUTC(), registry);
    // Each publish binds the state it translates; groups that join until the next publish are
    // translated from that same instance, so the translator can reuse its shared part for them.
    SnapshotPublisher publisher = new SnapshotPublisher(() -> {
      MeshState state = current.get();
      return groups -> {
        Translation translation = translator.translate(state, groups);
        rejectionLog.report(translation.rejections());
        provenance.record(translation.configs(), translation);
        return translation.configs();
      };
    }, proxies, Clock.systemUTC(), registry);
    ProxySyncTracker tracker = new ProxySyncTracker(proxies, publisher::servedVersions, registry);

    // The informers start first: listing the mesh and translating it is most of a start, and it
    // overlaps the start of the ADS port and the endpoints below (the JVM loads their classes on
    // the other core). A state published before the port opens has no group to serve yet.
    MeshStateWatcher watcher = new MeshStateWatcher(client,
        MeshStateWatcher.Options.defaults().inNamespaces(config.namespaces()), state -> {
          current.set(state);
          publisher.publish();
        });
    // Until the informers sync, proxies are held (not served an empty config); if they cannot
    // sync (CRDs not installed, RBAC missing) say so loudly instead of staying unready in silence.
    watcher.start().whenComplete((first, failure) -> {
      if (failure != null) {
        LOG.error("cannot watch the mesh; proxies stay on their last config until this is fixed: {}",
            failure.getMessage());
      }
    });

    XdsServer.Builder xdsBuilder = XdsServer.builder(proxies, publisher)
        .address(new InetSocketAddress(config.bindAddress(), config.xdsPort()));
    XdsTls tls = null;
    XdsServer xds;
    try {
      if (!config.xdsTlsDirectory().isEmpty()) {
        // Missing files (the operator has not written the Secret yet) leave the port refusing every
        // handshake and the replica unready until they appear; never plaintext.
        tls = XdsTls.fromDirectory(Path.of(config.xdsTlsDirectory()), XDS_TLS_RELOAD);
        xdsBuilder.credentials(tls.credentials());
        LOG.info("ADS port serves TLS with the certificate in {} and requires client certificates; a stream's node "
            + "must claim its certificate's namespace and ServiceAccount", config.xdsTlsDirectory());
      }
      xds = xdsBuilder.start();
    } catch (IOException | RuntimeException e) {
      watcher.close();
      if (tls != null) {
        tls.close();
      }
      throw e;
    }
    // A heap too small for the mesh is said in the log and on /metrics, not left to thrash silently.
    HeapPressureMonitor heap = HeapPressureMonitor.start(registry);
    DebugEndpoint debug = null;
    SyncReportPublisher syncReport = null;
    try {
      XdsTls adsTls = tls;
      debug = DebugEndpoint.start(new InetSocketAddress(config.bindAddress(), config.debugPort()),
          new InetSocketAddress(config.debugPagesAddress(), config.debugPagesPort()), tracker, publisher, registry,
          () -> adsTls == null ? Optional.empty() : adsTls.notReadyBecause());
      if (config.syncReport() != null) {
        String clientNamespace = client.getNamespace() == null ? "default" : client.getNamespace();
        SyncReportPublisher.Settings settings = config.syncReport().orInNamespace(clientNamespace);
        syncReport = new SyncReportPublisher(client, settings, Clock.systemUTC(),
            SyncReportBuilder.live(tracker, publisher, provenance, settings.limits(), config.namespaces()));
        syncReport.start();
      }
    } catch (RuntimeException | IOException e) {
      if (syncReport != null) {
        syncReport.close();
      }
      watcher.close();
      if (debug != null) {
        debug.close();
      }
      xds.close();
      heap.close();
      if (tls != null) {
        tls.close();
      }
      throw e;
    }
    // The heap limit is in the first lines, so that sizing questions start from the number in use.
    LOG.info("xds-server serving ADS on {}:{}, probes and metrics on {}:{}, debug pages on {}:{}; heap limit {} MiB",
        config.bindAddress(), xds.port(), config.bindAddress(), debug.port(), config.debugPagesAddress(),
        debug.pagesPort(), Runtime.getRuntime().maxMemory() >> 20);
    return new XdsServerApp(watcher, xds, debug, syncReport, proxies, publisher, heap, tls);
  }

  /** The publisher of this replica's sync report, or null when it does not report. */
  public SyncReportPublisher syncReport() {
    return syncReport;
  }

  public int xdsPort() {
    return xds.port();
  }

  /** The port of /healthz, /readyz and /metrics. */
  public int debugPort() {
    return debug.port();
  }

  /** The port of the debug pages ({@code /debug/proxies}, {@code /debug/groups}). */
  public int debugPagesPort() {
    return debug.pagesPort();
  }

  /** The proxies connected to this replica, by stream. */
  public ConnectedProxies proxies() {
    return proxies;
  }

  /**
   * Translates the current mesh state again for every group and serves what changed; for a
   * translator decorator whose output changed while the mesh state did not. Before the first
   * mesh state it does nothing: publishing then would serve an empty config.
   */
  public void republish() {
    if (publisher.isReady()) {
      publisher.publish();
    }
  }

  /**
   * Stops watching, then lets proxies go to another replica (GOAWAY), then removes the sync report
   * (its proxies are gone) and stops the debug port.
   */
  @Override
  public void close() {
    try {
      watcher.close();
    } finally {
      try {
        xds.stop();
      } finally {
        try {
          if (syncReport != null) {
            syncReport.close();
          }
        } finally {
          debug.stop();
          heap.close();
          if (tls != null) {
            tls.close();
          }
        }
      }
    }
  }

  /**
   * Threads that translate a state's scopes side by side, one per processor; idle ones end after a
   * minute (daemons), so a replica whose namespaces are not scoped keeps none.
   */
  private static ThreadPoolExecutor translationThreads() {
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    AtomicInteger count = new AtomicInteger();
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(),
        task -> {
          Thread thread = new Thread(task, "weft-translate-" + count.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  public static void main(String[] args) throws Exception {
    Config config = Config.fromEnvironment();
    KubernetesClient client = new KubernetesClientBuilder().build();
    XdsServerApp app = start(client, config);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      app.close();
      client.close();
    }, "weft-shutdown"));
    new java.util.concurrent.CountDownLatch(1).await();
  }

  /**
   * Logs each distinct thing the translation left out once: the operator reports it on the
   * resource's status, the log is for whoever runs the control plane. Calls for a newly connected
   * group translate only that group, so this keeps a union rather than comparing whole lists.
   */
  private static final class RejectionLog {
    private static final int MAX_REMEMBERED = 10_000;
    private final Set<Rejection> logged = new HashSet<>();

    synchronized void report(List<Rejection> rejections) {
      if (logged.size() > MAX_REMEMBERED) {
        logged.clear();
      }
      for (Rejection rejection : rejections) {
        if (logged.add(rejection)) {
          LOG.warn("left out of the config: {}", rejection);
        }
      }
    }
  }
}
