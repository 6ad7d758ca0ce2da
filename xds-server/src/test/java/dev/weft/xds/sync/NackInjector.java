package dev.weft.xds.sync;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.server.ConnectedProxies;
import dev.weft.xds.server.ConnectedProxy;
import dev.weft.xds.translate.ProxyConfig;
import dev.weft.xds.translate.ResourceNames;
import dev.weft.xds.translate.Translation;
import dev.weft.xds.translate.Translator;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Test hook, in test code only: makes real Envoys reject a config, so tests can watch a NACK
 * travel to the TrafficSplit's status and to MeshStatus.
 *
 * <p>A TrafficSplit annotated {@value #ANNOTATION}{@code : <node id>[,<node id>...]} makes the
 * route configurations served to the group of each named proxy (a proxy's node id is
 * {@code <pod>.<namespace>}) carry, first in every virtual host of the split's root Service, a
 * route named {@value #ROUTE_NAME} whose {@code safe_regex} does not compile. Envoy refuses such
 * a route configuration (RDS) as a whole, NACKs it with RE2's complaint, and keeps its last good
 * routes; the status shows the rejection on the TrafficSplit, because the rejected version
 * contains it. Removing the annotation (or the proxy disconnecting) restores the real config.
 *
 * <p>It works on the translation's output, after the translators' checks: the validation path
 * users rely on is untouched, and the rejected config passes the server's own consistency check
 * (the bad route answers directly, naming no cluster), so the rejection comes from Envoy itself.
 * Every proxy of the named proxy's group gets the bad routes, since a group shares one snapshot.
 *
 * <p>It plugs into the server through the translator seam: {@link #around} wraps the server's
 * translators ({@link XdsServerApp#start(KubernetesClient, XdsServerApp.Config,
 * java.util.function.UnaryOperator)}), so the sync report's provenance sees the rejected version as
 * the split's, as it would see any other. It reads TrafficSplits with its own informer (the mesh
 * state does not carry annotations) and which group a node is in from the server's
 * {@link ConnectedProxies}; when either changes it asks for a republish, on its own thread:
 * <pre>{@code
 * NackInjector hook = new NackInjector(client, namespaces);
 * XdsServerApp app = XdsServerApp.start(client, config, hook::around);
 * hook.start(app);
 * }</pre>
 */
public final class NackInjector implements AutoCloseable {

  public static final String ANNOTATION = "weft.dev/test-reject-on";
  public static final String ROUTE_NAME = "weft-test-reject";

  private static final Logger LOG = LoggerFactory.getLogger(NackInjector.class);

  /** An annotated TrafficSplit: its root Service and the node ids whose groups get bad routes. */
  public record Target(String namespace, String name, ServiceKey root, Set<String> nodeIds) {

    public Target {
      nodeIds = Set.copyOf(nodeIds);
    }
  }

  private final List<SharedIndexInformer<TrafficSplit>> informers = new ArrayList<>();
  private final ScheduledThreadPoolExecutor executor;
  private final AtomicBoolean republishPending = new AtomicBoolean();
  private volatile List<Target> targets = List.of();
  /** Both null until {@link #start}: until then nothing is targeted. */
  private volatile ConnectedProxies proxies;
  private volatile Runnable republish;

  /** A hook for the TrafficSplits in {@code namespaces} (empty: all); it does nothing until {@link #start}. */
  public NackInjector(KubernetesClient client, Set<String> namespaces) {
    this.executor = new ScheduledThreadPoolExecutor(1, runnable -> {
      Thread thread = new Thread(runnable, "weft-test-hook");
      thread.setDaemon(true);
      return thread;
    });
    MixedOperation<TrafficSplit, ?, ?> splits = client.resources(TrafficSplit.class);
    List<Informable<TrafficSplit>> sources = namespaces.isEmpty()
        ? List.of(splits.inAnyNamespace())
        : namespaces.stream().sorted().<Informable<TrafficSplit>>map(splits::inNamespace).toList();
    for (Informable<TrafficSplit> source : sources) {
      SharedIndexInformer<TrafficSplit> informer = source.runnableInformer(0);
      informer.addEventHandler(new ResourceEventHandler<>() {
        @Override
        public void onAdd(TrafficSplit obj) {
          refresh();
        }

        @Override
        public void onUpdate(TrafficSplit oldObj, TrafficSplit newObj) {
          refresh();
        }

        @Override
        public void onDelete(TrafficSplit obj, boolean deletedFinalStateUnknown) {
          refresh();
        }
      });
      informers.add(informer);
    }
  }

  /** Starts injecting into {@code app}, whose translators {@link #around} wraps. */
  public void start(XdsServerApp app) {
    start(app.proxies(), app::republish);
  }

  /**
   * Starts watching TrafficSplits and the proxies in {@code proxies}, calling {@code republish}
   * (translate and serve every group again) when what it injects changes; says loudly that it is on.
   */
  public void start(ConnectedProxies proxies, Runnable republish) {
    this.republish = Objects.requireNonNull(republish, "republish");
    this.proxies = Objects.requireNonNull(proxies, "proxies");
    proxies.addListener(new ConnectedProxies.Listener() {
      @Override
      public void connected(ConnectedProxy proxy) {
        // Its group may already be served without the bad routes (another pod of the group came first).
        if (targeted(proxy.nodeId())) {
          requestRepublish();
        }
      }

      @Override
      public void disconnected(ConnectedProxy proxy, Instant at, String reason) {
        if (targeted(proxy.nodeId())) {
          requestRepublish();
        }
      }
    });
    LOG.warn("NACK TEST HOOK IS ON: a TrafficSplit annotated {} makes the named proxies' groups receive route "
        + "configurations Envoy rejects. Never run a production mesh like this.", ANNOTATION);
    informers.forEach(SharedIndexInformer::start);
  }

  /** {@code translator}, with the bad routes put into what it returns (see {@link #apply}). */
  public Translator around(Translator translator) {
    Objects.requireNonNull(translator, "translator");
    return (state, groups) -> {
      Translation translation = translator.translate(state, groups);
      Map<ProxyGroup, ProxyConfig> configs = apply(translation.configs());
      return configs == translation.configs()
          ? translation
          : new Translation(configs, translation.rejections(), translation.sources());
    };
  }

  /** The annotated TrafficSplits as last seen. */
  public List<Target> targets() {
    return targets;
  }

  /**
   * {@code configs} with the bad routes in the configs of the groups that have a targeted proxy
   * connected; the others are returned as they are. Called through the translator, under the
   * publisher's lock: it only reads this hook's state and the registry, which takes no lock of
   * the publisher's.
   */
  public Map<ProxyGroup, ProxyConfig> apply(Map<ProxyGroup, ProxyConfig> configs) {
    List<Target> current = targets;
    ConnectedProxies connected = proxies;
    if (current.isEmpty() || connected == null) {
      return configs;
    }
    Map<ProxyGroup, List<Target>> byGroup = new LinkedHashMap<>();
    for (ConnectedProxy proxy : connected.proxies()) {
      for (Target target : current) {
        if (target.nodeIds().contains(proxy.nodeId())) {
          List<Target> ofGroup = byGroup.computeIfAbsent(proxy.group(), g -> new ArrayList<>());
          if (!ofGroup.contains(target)) {
            ofGroup.add(target);
          }
        }
      }
    }
    if (byGroup.isEmpty()) {
      return configs;
    }
    Map<ProxyGroup, ProxyConfig> result = new LinkedHashMap<>(configs);
    byGroup.forEach((group, groupTargets) -> {
      ProxyConfig config = result.get(group);
      if (config != null) {
        result.put(group, withRejectedRoutes(config, groupTargets));
      }
    });
    return result;
  }

  /**
   * {@code config} with a route Envoy refuses first in each virtual host of each target's root
   * Service, and a routes version of its own; unchanged when no virtual host matches.
   */
  static ProxyConfig withRejectedRoutes(ProxyConfig config, List<Target> targets) {
    List<Target> ordered = targets.stream()
        .sorted(Comparator.comparing(Target::namespace).thenComparing(Target::name)).toList();
    List<RouteConfiguration> routes = new ArrayList<>();
    boolean changed = false;
    for (RouteConfiguration routeConfig : config.routes()) {
      RouteConfiguration.Builder builder = routeConfig.toBuilder();
      for (VirtualHost.Builder host : builder.getVirtualHostsBuilderList()) {
        for (Target target : ordered) {
          if (host.getName().startsWith(target.root().fqdn(ResourceNames.CLUSTER_DOMAIN) + ":")) {
            host.addRoutes(0, rejectedRoute(target));
            changed = true;
          }
        }
      }
      routes.add(builder.build());
    }
    if (!changed) {
      return config;
    }
    String marks = ordered.stream().map(t -> t.namespace() + "/" + t.name()).reduce("", (a, b) -> a + "|" + b);
    return new ProxyConfig(
        config.clusters(), config.clustersVersion(),
        config.endpoints(), config.endpointsVersion(),
        config.listeners(), config.listenersVersion(),
        routes, "reject-" + shortHash(config.routesVersion() + marks));
  }

  /** A route whose regex RE2 cannot compile (an unclosed group); it names the split so Envoy's message does. */
  static Route rejectedRoute(Target target) {
    return Route.newBuilder()
        .setName(ROUTE_NAME)
        .setMatch(RouteMatch.newBuilder().setSafeRegex(RegexMatcher.newBuilder()
            .setRegex("(" + ANNOTATION + " TrafficSplit " + target.namespace() + "/" + target.name())))
        .setDirectResponse(DirectResponseAction.newBuilder().setStatus(503))
        .build();
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
    executor.shutdownNow();
  }

  private boolean targeted(String nodeId) {
    return targets.stream().anyMatch(t -> t.nodeIds().contains(nodeId));
  }

  private void refresh() {
    List<Target> found = new ArrayList<>();
    for (SharedIndexInformer<TrafficSplit> informer : informers) {
      for (TrafficSplit split : informer.getStore().list()) {
        ObjectMeta meta = split.getMetadata();
        String value = meta.getAnnotations() == null ? null : meta.getAnnotations().get(ANNOTATION);
        if (value == null || value.isBlank() || split.getSpec() == null || split.getSpec().getService() == null) {
          continue;
        }
        Set<String> nodeIds = new TreeSet<>();
        Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty()).forEach(nodeIds::add);
        found.add(new Target(meta.getNamespace(), meta.getName(),
            new ServiceKey(meta.getNamespace(), split.getSpec().getService()), nodeIds));
      }
    }
    found.sort(Comparator.comparing(Target::namespace).thenComparing(Target::name));
    synchronized (this) {
      if (found.equals(targets)) {
        return;
      }
      targets = List.copyOf(found);
    }
    LOG.warn("Test hook: route configurations Envoy rejects now go to the groups of {}",
        found.isEmpty() ? "no proxy" : found.stream().map(t -> t.nodeIds() + " (TrafficSplit " + t.namespace() + "/"
            + t.name() + ")").toList());
    requestRepublish();
  }

  private void requestRepublish() {
    Runnable action = republish;
    // Coalesced: a burst of changes is one republish, which reads the newest state.
    if (action != null && republishPending.compareAndSet(false, true)) {
      try {
        executor.execute(() -> {
          republishPending.set(false);
          try {
            action.run();
          } catch (RuntimeException e) {
            LOG.error("Test hook: republish failed", e);
          }
        });
      } catch (RejectedExecutionException e) {
        // closed: nothing left to serve
        republishPending.set(false);
      }
    }
  }

  private static String shortHash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
