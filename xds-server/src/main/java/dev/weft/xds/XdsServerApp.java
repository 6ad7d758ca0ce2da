package dev.weft.xds;

import dev.weft.mesh.MeshState;
import dev.weft.xds.k8s.MeshStateWatcher;
import dev.weft.xds.server.DebugEndpoint;
import dev.weft.xds.server.ProxySyncTracker;
import dev.weft.xds.server.SnapshotPublisher;
import dev.weft.xds.server.XdsServer;
import dev.weft.xds.translate.MeshTranslator;
import dev.weft.xds.translate.Rejection;
import dev.weft.xds.translate.Translation;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
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

  /** What to serve on and what to watch. Ports 0 pick free ones (tests). */
  public record Config(String bindAddress, int xdsPort, int debugPort, Set<String> namespaces) {

    public Config {
      namespaces = Set.copyOf(namespaces);
    }

    /** Settings from the environment, as the helm chart sets them. */
    public static Config fromEnvironment() {
      String namespaces = System.getenv().getOrDefault("WEFT_WATCH_NAMESPACES", "");
      return new Config(
          System.getenv().getOrDefault("WEFT_BIND_ADDRESS", "0.0.0.0"),
          Integer.parseInt(System.getenv().getOrDefault("WEFT_XDS_PORT", String.valueOf(XdsServer.DEFAULT_PORT))),
          Integer.parseInt(System.getenv().getOrDefault("WEFT_DEBUG_PORT", String.valueOf(DebugEndpoint.DEFAULT_PORT))),
          Arrays.stream(namespaces.split(",")).map(String::strip).filter(s -> !s.isEmpty())
              .collect(Collectors.toSet()));
    }
  }

  private final MeshStateWatcher watcher;
  private final XdsServer xds;
  private final DebugEndpoint debug;

  private XdsServerApp(MeshStateWatcher watcher, XdsServer xds, DebugEndpoint debug) {
    this.watcher = watcher;
    this.xds = xds;
    this.debug = debug;
  }

  /**
   * Starts serving: the ADS port answers at once but holds proxies until the first mesh state is
   * built from synced informers, so a restarted replica never serves an empty config.
   */
  public static XdsServerApp start(KubernetesClient client, Config config) throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MeshTranslator translator = new MeshTranslator();
    AtomicReference<MeshState> current = new AtomicReference<>(MeshState.EMPTY);
    RejectionLog rejectionLog = new RejectionLog();
    SnapshotPublisher publisher = new SnapshotPublisher(groups -> {
      Translation translation = translator.translate(current.get(), groups);
      rejectionLog.report(translation.rejections());
      return translation.configs();
    }, Clock.systemUTC(), registry);
    ProxySyncTracker tracker = new ProxySyncTracker(Clock.systemUTC(), publisher::servedVersions, registry);

    XdsServer xds = XdsServer.builder(publisher, tracker)
        .address(new InetSocketAddress(config.bindAddress(), config.xdsPort()))
        .start();
    DebugEndpoint debug = null;
    MeshStateWatcher watcher = null;
    try {
      debug = DebugEndpoint.start(new InetSocketAddress(config.bindAddress(), config.debugPort()), tracker, publisher,
          registry);
      watcher = new MeshStateWatcher(client, MeshStateWatcher.Options.defaults().inNamespaces(config.namespaces()),
          state -> {
            current.set(state);
            publisher.publish();
          });
      watcher.start();
    } catch (RuntimeException | IOException e) {
      if (watcher != null) {
        watcher.close();
      }
      if (debug != null) {
        debug.close();
      }
      xds.close();
      throw e;
    }
    LOG.info("xds-server serving ADS on {}:{}, debug on {}:{}", config.bindAddress(), xds.port(),
        config.bindAddress(), debug.port());
    return new XdsServerApp(watcher, xds, debug);
  }

  public int xdsPort() {
    return xds.port();
  }

  public int debugPort() {
    return debug.port();
  }

  /** Stops watching, then lets proxies go to another replica (GOAWAY), then stops the debug port. */
  @Override
  public void close() {
    try {
      watcher.close();
    } finally {
      try {
        xds.stop();
      } finally {
        debug.stop();
      }
    }
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
