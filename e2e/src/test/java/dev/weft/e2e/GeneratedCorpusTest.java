package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import dev.weft.mesh.Endpoint;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import dev.weft.testsupport.Command;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.WeftTools;
import dev.weft.xds.translate.MeshTranslator;
import dev.weft.xds.translate.ProxyConfig;
import dev.weft.xds.translate.Translation;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Never push what Envoy would reject: a corpus of generated mesh states, valid by the API's schema
 * (and with the mistakes users make: missing backends, conflicting splits, regexes RE2 does not
 * know), goes through the translation, and every resulting {@link ProxyConfig} is loaded into the
 * real Envoy with {@code envoy --mode validate}. None may be refused.
 *
 * <p>Envoy validates a bootstrap, not an xDS stream, so each config is carried statically: EDS
 * clusters become STATIC clusters with their assignment inline, and each HTTP connection manager
 * gets its RDS route configuration inline (which also makes Envoy check that every cluster a route
 * names exists). The official Envoy build has no API-listener extension ("missing the API listener
 * extension"), so a proxyless gRPC client's API listener is validated as the same HTTP connection
 * manager in an ordinary listener on a loopback port; what gRPC alone requires of it is covered by
 * the core's unit tests.
 */
class GeneratedCorpusTest {

  private static final int STATES = 320;
  private static final long SEED = 20260101L;
  private static final TypeRegistry TYPES = TypeRegistry.newBuilder()
      .add(HttpConnectionManager.getDescriptor())
      .add(Router.getDescriptor())
      .add(TcpProxy.getDescriptor())
      .add(OriginalDst.getDescriptor())
      .add(HttpProtocolOptions.getDescriptor())
      .build();

  @Test
  void envoyAcceptsEveryTranslatedConfig() throws Exception {
    WeftTools tools = WeftTools.locate();
    Path envoy = tools.envoy();
    Path dir = Files.createDirectories(Path.of("target", "corpus"));
    MeshTranslator translator = new MeshTranslator();

    Map<String, String> bootstraps = new LinkedHashMap<>();
    Coverage coverage = new Coverage();
    int translationRejections = 0;
    Random random = new Random(SEED);
    for (int i = 0; i < STATES; i++) {
      Corpus corpus = new Corpus(random.nextLong());
      MeshState state = corpus.state();
      List<ProxyGroup> groups = corpus.groups(state);
      Translation translation = translator.translate(state, groups);
      translationRejections += translation.rejections().size();
      for (ProxyGroup group : groups) {
        coverage.add(translation.config(group));
        String name = "state-" + i + "-" + group.id().replaceAll("[^A-Za-z0-9.-]", "_");
        bootstraps.put(name, JsonFormat.printer().usingTypeRegistry(TYPES)
            .print(bootstrap(name, translation.config(group))));
      }
    }

    List<String> refused = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<String>> verdicts = new ArrayList<>();
      for (Map.Entry<String, String> entry : bootstraps.entrySet()) {
        verdicts.add(pool.submit(() -> validate(envoy, dir, entry.getKey(), entry.getValue())));
      }
      for (Future<String> verdict : verdicts) {
        String problem = verdict.get();
        if (problem != null) {
          refused.add(problem);
        }
      }
    } finally {
      pool.shutdownNow();
    }

    String version = EnvoyProcess.binaryVersion(tools).split("/")[1];
    System.out.println("corpus: " + bootstraps.size() + " configs loaded into Envoy " + version + ", "
        + refused.size() + " rejected");
    System.out.println("corpus: " + STATES + " mesh states; the translation left out " + translationRejections
        + " pieces of user config, each with a reason; the configs hold " + coverage);
    assertThat(refused).as("configs Envoy refused (bootstraps kept in %s)", dir.toAbsolutePath()).isEmpty();
    assertThat(bootstraps).hasSizeGreaterThanOrEqualTo(STATES * 3);
    // The corpus includes user mistakes; they must have been caught by the translation.
    assertThat(translationRejections).isPositive();
  }

  @Test
  void theHarnessSeesWhatEnvoyRefuses() throws Exception {
    // Without this, a harness that never reached Envoy's checks would pass the corpus vacuously.
    Corpus corpus = new Corpus(SEED);
    MeshState state = corpus.state();
    ProxyGroup group = new ProxyGroup(ProxyGroup.Kind.SIDECAR, "shop", "sa", "0.0.0.0", List.of(8080));
    ProxyConfig config = new MeshTranslator().translate(state, List.of(group)).config(group);
    RouteConfiguration routes = config.routes().get(0).toBuilder()
        .addVirtualHosts(VirtualHost.newBuilder()
            .setName("broken").addDomains("broken.example")
            .addRoutes(Route.newBuilder()
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRoute(RouteAction.newBuilder().setCluster("no-such-cluster"))))
        .build();
    ProxyConfig broken = new ProxyConfig(config.clusters(), "v", config.endpoints(), "v", config.listeners(), "v",
        List.of(routes), "v");
    Path dir = Files.createDirectories(Path.of("target", "corpus"));

    String problem = validate(WeftTools.locate().envoy(), dir, "control-broken",
        JsonFormat.printer().usingTypeRegistry(TYPES).print(bootstrap("control-broken", broken)));

    assertThat(problem).contains("no-such-cluster");
    Files.deleteIfExists(dir.resolve("control-broken.json"));
  }

  /** Null when Envoy accepts the bootstrap; else Envoy's reason. Accepted files are removed. */
  private static String validate(Path envoy, Path dir, String name, String json) throws IOException {
    Path file = dir.resolve(name + ".json");
    Files.writeString(file, json);
    CommandResult result = Command.run(List.of(envoy.toString(), "--mode", "validate", "-c", file.toString(),
        "--disable-hot-restart", "--concurrency", "1", "--log-level", "error"), Map.of(), null,
        Duration.ofSeconds(60));
    if (result.succeeded() && result.stdout().contains("OK")) {
      Files.delete(file);
      return null;
    }
    return file + ": " + (result.stdout() + result.stderr()).strip();
  }

  /** The config as Envoy would hold it after ADS delivered it, written as a static bootstrap. */
  static Bootstrap bootstrap(String name, ProxyConfig config) throws InvalidProtocolBufferException {
    Map<String, ClusterLoadAssignment> assignments = config.endpoints().stream()
        .collect(Collectors.toMap(ClusterLoadAssignment::getClusterName, Function.identity()));
    Map<String, RouteConfiguration> routes = config.routes().stream()
        .collect(Collectors.toMap(RouteConfiguration::getName, Function.identity()));
    Bootstrap.StaticResources.Builder resources = Bootstrap.StaticResources.newBuilder();
    for (Cluster cluster : config.clusters()) {
      if (cluster.getType() == Cluster.DiscoveryType.EDS) {
        ClusterLoadAssignment assignment = assignments.get(cluster.getEdsClusterConfig().getServiceName());
        assertThat(assignment).as("assignment of %s", cluster.getName()).isNotNull();
        cluster = cluster.toBuilder()
            .setType(Cluster.DiscoveryType.STATIC)
            .clearEdsClusterConfig()
            .setLoadAssignment(assignment)
            .build();
      }
      resources.addClusters(cluster);
    }
    int apiListenerPort = 20_000;
    for (Listener listener : config.listeners()) {
      if (listener.hasApiListener()) {
        HttpConnectionManager http = inlineRoutes(
            listener.getApiListener().getApiListener().unpack(HttpConnectionManager.class), routes);
        resources.addListeners(Listener.newBuilder()
            .setName(listener.getName())
            .setAddress(Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder()
                    .setAddress("127.0.0.1").setPortValue(apiListenerPort++)))
            .addFilterChains(FilterChain.newBuilder()
                .addFilters(Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")
                    .setTypedConfig(Any.pack(http)))));
        continue;
      }
      Listener.Builder copy = listener.toBuilder();
      for (FilterChain.Builder chain : copy.getFilterChainsBuilderList()) {
        for (Filter.Builder filter : chain.getFiltersBuilderList()) {
          if (filter.getTypedConfig().is(HttpConnectionManager.class)) {
            filter.setTypedConfig(Any.pack(inlineRoutes(
                filter.getTypedConfig().unpack(HttpConnectionManager.class), routes)));
          }
        }
      }
      resources.addListeners(copy);
    }
    return Bootstrap.newBuilder()
        .setNode(Node.newBuilder().setId(name).setCluster("corpus"))
        .setStaticResources(resources)
        .build();
  }

  private static HttpConnectionManager inlineRoutes(HttpConnectionManager http,
      Map<String, RouteConfiguration> routes) {
    RouteConfiguration config = routes.get(http.getRds().getRouteConfigName());
    assertThat(config).as("route configuration %s", http.getRds().getRouteConfigName()).isNotNull();
    return http.toBuilder().clearRds().setRouteConfig(config).build();
  }

  /** Counts what the corpus exercised, so a generator that stopped producing something shows. */
  static final class Coverage {

    private int routes;
    private int weighted;
    private int regexes;
    private int segmentPrefixes;
    private int retries;
    private int tcpChains;
    private int apiListeners;
    private int drainingEndpoints;

    void add(ProxyConfig config) {
      for (RouteConfiguration routeConfig : config.routes()) {
        for (VirtualHost host : routeConfig.getVirtualHostsList()) {
          for (Route route : host.getRoutesList()) {
            routes++;
            weighted += route.getRoute().hasWeightedClusters() ? 1 : 0;
            regexes += route.getMatch().hasSafeRegex() ? 1 : 0;
            segmentPrefixes += route.getMatch().hasPathSeparatedPrefix() ? 1 : 0;
            retries += route.getRoute().hasRetryPolicy() ? 1 : 0;
          }
        }
      }
      for (Listener listener : config.listeners()) {
        apiListeners += listener.hasApiListener() ? 1 : 0;
        tcpChains += (int) listener.getFilterChainsList().stream().filter(FilterChain::hasFilterChainMatch).count();
      }
      for (ClusterLoadAssignment assignment : config.endpoints()) {
        for (LocalityLbEndpoints locality : assignment.getEndpointsList()) {
          drainingEndpoints += (int) locality.getLbEndpointsList().stream()
              .filter(e -> e.getHealthStatus() == HealthStatus.DRAINING).count();
        }
      }
    }

    @Override
    public String toString() {
      return routes + " routes (" + weighted + " weighted, " + regexes + " regex paths, " + segmentPrefixes
          + " path prefixes, " + retries + " with retries), " + tcpChains + " TCP/inbound filter chains, "
          + apiListeners + " API listeners, " + drainingEndpoints + " draining endpoints";
    }
  }

  /**
   * Mesh states within the API's schema bounds (docs/api.md), drawn from a seeded {@link Random}:
   * Services with one to three ports of mixed protocols (some headless, some IPv6), endpoints in
   * every readiness state and zone, TrafficSplits (self-backends, zero weights, missing backends,
   * conflicts) and VirtualServices with every match kind, backends on explicit ports, timeouts and
   * retries. Per state three groups: an iptables sidecar, a local-mode sidecar and a proxyless client.
   */
  static final class Corpus {

    private static final List<String> NAMESPACES = List.of("shop", "web", "ops");
    private static final List<String> NAMES = List.of("payments", "payments-v1", "payments-v2", "cart", "db",
        "search", "a", "api-gateway", "grpc-echo", "cache", "x" + "y".repeat(61));
    private static final int[] PORTS = {80, 8080, 9090, 443, 5432, 6379, 3000, 15001, 50051};
    private static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
        "OPTIONS", "TRACE", "PATCH");
    private static final List<String> RETRY_ON = List.of("5xx", "gateway-error", "reset", "connect-failure",
        "retriable-4xx", "refused-stream");
    private static final List<String> REGEXES = List.of("/v[0-9]+/.*", "^/(foo|bar)/\\d+$", ".*",
        "(?i)/users/[a-z0-9-]{3,16}", "[^/]+", "/items/\\d{1,6}", "/a\\.b|/c\\?d", "(?P<id>[0-9a-f]{8})",
        "[[:alpha:]]+-[[:digit:]]*", "\\w+@\\w+\\.com", "/é/ü+", "prod|stage|dev", "\\A/x\\z", "(?s:.)+",
        "[\\x41-\\x5a]{2}", "/" + "z".repeat(90));
    private static final List<String> REGEX_ATOMS = List.of("a", "b", "/", "\\.", "\\d", "\\D", "\\w", "\\W",
        "\\s", "\\S", ".", "é", "[a-z]", "[a-z0-9_-]", "[^/]", "[^a-f0-9]", "[[:alpha:]]", "[[:punct:]]", "[\\w.]",
        "[é-ü]", "[^é]", "\\x41", "(?i)k", "x", "\\-", "[]a]", "(?s:.)");
    /** Outside what Weft accepts (some not RE2 at all); they must be rejected before Envoy sees them. */
    private static final List<String> BAD_REGEXES = List.of("(?=x)", "(a)\\1", "a{2000}", "[z-a]", "\\pL+",
        "/" + "x".repeat(150), "a**", "(unclosed");
    private static final List<String> PATHS = List.of("/", "/api", "/api/v1", "/a-b_c.d~e", "/%20x",
        "/with space", "/ünïcode", "/x:y", "/api/v1/items", "/" + "p".repeat(1000));
    /** Outside what Envoy can match; they must be rejected. */
    private static final List<String> BAD_PATHS = List.of("relative", "/trailing/", "/q?x=1", "/frag#x");
    private static final List<String> HEADERS = List.of("x-canary", "X-User", "user-agent", "x_weird~name",
        "accept", "host", "content-type", "x-b3-traceid", "h".repeat(256));
    private static final List<String> VALUES = List.of("true", "", "a b", "Mozilla/5.0", "\"quoted\"", "日本",
        "v".repeat(4096));

    private final Random random;
    private int addresses;

    Corpus(long seed) {
      this.random = new Random(seed);
    }

    MeshState state() {
      List<String> namespaces = pick(NAMESPACES, 1 + random.nextInt(3));
      Map<ServiceKey, MeshService> services = new LinkedHashMap<>();
      for (String namespace : namespaces) {
        // Versions of one app share their ports, which is what makes splits and rule backends resolve.
        List<ServicePort> shared = ports();
        for (String name : pick(NAMES, 1 + random.nextInt(6))) {
          ServiceKey key = new ServiceKey(namespace, name);
          services.put(key, service(key, random.nextInt(4) == 0 ? ports() : shared));
        }
      }
      List<TrafficSplitRule> splits = new ArrayList<>();
      List<HttpRouting> routings = new ArrayList<>();
      int n = 0;
      for (String namespace : namespaces) {
        List<MeshService> local = services.values().stream()
            .filter(s -> s.key().namespace().equals(namespace)).toList();
        for (int i = random.nextInt(4); i > 0; i--) {
          splits.add(split(namespace, local, n++));
        }
        for (int i = random.nextInt(4); i > 0; i--) {
          routings.add(routing(namespace, local, n++));
        }
      }
      return new MeshState(services, splits, routings);
    }

    /** An iptables sidecar, a local-mode sidecar and a proxyless client, each in a random namespace. */
    List<ProxyGroup> groups(MeshState state) {
      Set<String> namespaces = new LinkedHashSet<>();
      state.services().keySet().forEach(k -> namespaces.add(k.namespace()));
      namespaces.add("client-only");
      List<String> all = List.copyOf(namespaces);
      return List.of(
          new ProxyGroup(ProxyGroup.Kind.SIDECAR, any(all), "sa-iptables", "0.0.0.0", appPorts()),
          new ProxyGroup(ProxyGroup.Kind.SIDECAR, any(all), "sa-local", random.nextInt(10) == 0
              ? "fd00:1::" + Integer.toHexString(1 + random.nextInt(500))
              : "127.0.0." + (2 + random.nextInt(200)), appPorts()),
          new ProxyGroup(ProxyGroup.Kind.PROXYLESS_GRPC, any(all), "sa-grpc", null, List.of()));
    }

    private List<Integer> appPorts() {
      List<Integer> ports = new ArrayList<>();
      for (int i = random.nextInt(4); i > 0; i--) {
        ports.add(random.nextInt(10) == 0 ? 15001 : 1 + random.nextInt(65535));
      }
      return ports;
    }

    private MeshService service(ServiceKey key, List<ServicePort> ports) {
      int kind = random.nextInt(20);
      String clusterIp = kind < 3 ? "" : kind == 3 ? "fd00::" + Integer.toHexString(++addresses)
          : "10.96." + (addresses / 250) + "." + (1 + addresses++ % 250);
      List<Endpoint> endpoints = new ArrayList<>();
      for (ServicePort port : ports) {
        for (int i = random.nextInt(6); i > 0; i--) {
          Endpoint.Readiness readiness = Endpoint.Readiness.values()[random.nextInt(3)];
          String address = random.nextInt(15) == 0 ? "fd00:244::" + Integer.toHexString(random.nextInt(4000))
              : "10.244." + random.nextInt(4) + "." + (1 + random.nextInt(250));
          endpoints.add(new Endpoint(address, 1 + random.nextInt(65535), port.name(), readiness,
              List.of("", "zone-a", "zone-b", "us-east-1c").get(random.nextInt(4))));
        }
      }
      return new MeshService(key, clusterIp, ports, endpoints);
    }

    private List<ServicePort> ports() {
      List<ServicePort> ports = new ArrayList<>();
      Set<Integer> numbers = new LinkedHashSet<>();
      for (int i = 1 + random.nextInt(3); i > 0; i--) {
        numbers.add(random.nextInt(8) == 0 ? 1 + random.nextInt(65535) : PORTS[random.nextInt(PORTS.length)]);
      }
      for (int number : numbers) {
        Protocol protocol = Protocol.values()[random.nextInt(Protocol.values().length)];
        String name = numbers.size() == 1 && random.nextBoolean() ? "" : protocol.name().toLowerCase() + "-" + number;
        ports.add(new ServicePort(name, number, protocol));
      }
      return ports;
    }

    private TrafficSplitRule split(String namespace, List<MeshService> local, int n) {
      MeshService root = local.get(random.nextInt(local.size()));
      List<String> names = new ArrayList<>(local.stream().map(s -> s.key().name()).toList());
      if (random.nextInt(8) == 0) {
        names.add("missing-svc");
      }
      List<WeightedService> backends = new ArrayList<>();
      for (String name : pick(names, 1 + random.nextInt(Math.min(16, names.size())))) {
        backends.add(new WeightedService(name, weight()));
      }
      if (backends.stream().allMatch(b -> b.weight() == 0)) {
        WeightedService first = backends.remove(0);
        backends.add(0, new WeightedService(first.service(), 1 + random.nextInt(100)));
      }
      return new TrafficSplitRule(source("TrafficSplit", namespace, n), root.key(), backends);
    }

    private HttpRouting routing(String namespace, List<MeshService> local, int n) {
      MeshService service = local.get(random.nextInt(local.size()));
      int port = random.nextBoolean() ? 0 : service.ports().get(random.nextInt(service.ports().size())).port();
      List<HttpRouting.Rule> rules = new ArrayList<>();
      for (int i = 1 + random.nextInt(6); i > 0; i--) {
        rules.add(rule(local, i));
      }
      return new HttpRouting(source("VirtualService", namespace, n), service.key(), port, rules);
    }

    private HttpRouting.Rule rule(List<MeshService> local, int index) {
      List<HttpRouting.Match> matches = new ArrayList<>();
      for (int i = random.nextInt(5); i > 0; i--) {
        matches.add(match());
      }
      List<WeightedService> backends = new ArrayList<>();
      for (MeshService backend : pick(local, random.nextInt(Math.min(4, local.size()) + 1))) {
        int port = random.nextInt(3) == 0 ? backend.ports().get(random.nextInt(backend.ports().size())).port() : 0;
        backends.add(new WeightedService(backend.key().name(), port, random.nextInt(4) == 0 ? 1 : weight()));
      }
      Duration timeout = switch (random.nextInt(5)) {
        case 0 -> null;
        case 1 -> Duration.ZERO;
        case 2 -> Duration.ofHours(1 + random.nextInt(8760));
        default -> Duration.ofMillis(1 + random.nextInt(3_600_000));
      };
      HttpRouting.Retries retries = random.nextBoolean() ? null : new HttpRouting.Retries(random.nextInt(11),
          random.nextBoolean() ? null : Duration.ofMillis(random.nextInt(100_000)), pick(RETRY_ON, random.nextInt(4)));
      return new HttpRouting.Rule(random.nextBoolean() ? "rule-" + index : "", matches, backends, timeout, retries);
    }

    private HttpRouting.Match match() {
      HttpRouting.PathCondition path = switch (random.nextInt(5)) {
        case 0 -> null;
        case 1 -> new HttpRouting.PathCondition(HttpRouting.PathKind.EXACT, path());
        case 2 -> new HttpRouting.PathCondition(HttpRouting.PathKind.PREFIX, path());
        default -> new HttpRouting.PathCondition(HttpRouting.PathKind.REGEX, regex());
      };
      List<HttpRouting.HeaderCondition> headers = new ArrayList<>();
      for (String name : pick(HEADERS, random.nextInt(4))) {
        HttpRouting.HeaderKind kind = HttpRouting.HeaderKind.values()[random.nextInt(4)];
        String value = switch (kind) {
          case PRESENT -> null;
          case REGEX -> regex();
          default -> any(VALUES);
        };
        headers.add(new HttpRouting.HeaderCondition(name, kind, value));
      }
      return new HttpRouting.Match(path, headers, random.nextInt(3) == 0 ? any(METHODS) : null);
    }

    private String path() {
      return random.nextInt(30) == 0 ? any(BAD_PATHS) : any(PATHS);
    }

    private String regex() {
      int kind = random.nextInt(25);
      return kind == 0 ? any(BAD_REGEXES) : kind < 10 ? generatedRegex(0) : any(REGEXES);
    }

    /**
     * A random regex from the syntax Weft accepts; some come out above Envoy's program size limit
     * and must be rejected by the translation, the rest must load.
     */
    private String generatedRegex(int depth) {
      StringBuilder regex = new StringBuilder(random.nextInt(6) == 0 ? "^" : "");
      for (int i = 1 + random.nextInt(depth == 0 ? 8 : 3); i > 0; i--) {
        int kind = random.nextInt(10);
        if (depth < 2 && kind == 0) {
          regex.append('(').append(generatedRegex(depth + 1)).append(')');
        } else if (depth < 2 && kind == 1) {
          regex.append("(?:").append(generatedRegex(depth + 1)).append('|').append(generatedRegex(depth + 1))
              .append(')');
        } else if (depth < 2 && kind == 2) {
          regex.append("(?P<g").append(random.nextInt(100)).append('>').append(generatedRegex(depth + 1)).append(')');
        } else {
          regex.append(any(REGEX_ATOMS));
        }
        regex.append(switch (random.nextInt(12)) {
          case 0 -> "*";
          case 1 -> "+";
          case 2 -> "?";
          case 3 -> "*?";
          case 4 -> "{" + random.nextInt(6) + "}";
          case 5 -> {
            int min = random.nextInt(4);
            yield "{" + min + "," + (min + random.nextInt(6)) + "}";
          }
          case 6 -> "{" + random.nextInt(4) + ",}";
          default -> "";
        });
      }
      return regex.toString();
    }

    private int weight() {
      return switch (random.nextInt(4)) {
        case 0 -> 0;
        case 1 -> 10_000;
        default -> random.nextInt(101);
      };
    }

    private SourceRef source(String kind, String namespace, int n) {
      // Few distinct timestamps, so that conflicts are decided by age and by name.
      return new SourceRef(kind, namespace, kind.toLowerCase() + "-" + n, 1,
          "2026-01-0" + (1 + random.nextInt(3)) + "T00:00:00Z");
    }

    private <T> T any(List<T> values) {
      return values.get(random.nextInt(values.size()));
    }

    private <T> List<T> pick(List<T> values, int count) {
      List<T> pool = new ArrayList<>(values);
      List<T> picked = new ArrayList<>();
      for (int i = 0; i < count && !pool.isEmpty(); i++) {
        picked.add(pool.remove(random.nextInt(pool.size())));
      }
      return picked;
    }
  }
}
