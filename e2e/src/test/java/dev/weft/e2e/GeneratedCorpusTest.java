package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.weft.mesh.MeshState;
import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.xds.bootstrap.SidecarBootstrap;
import dev.weft.mesh.ProxyGroup;
import dev.weft.testsupport.Command;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.WeftTools;
import dev.weft.xds.translate.MeshTranslator;
import dev.weft.xds.translate.ProxyConfig;
import dev.weft.xds.translate.RandomMeshes;
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
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Never push what Envoy would reject: a corpus of generated mesh states, valid by the API's schema
 * (and with the mistakes users make: missing backends, conflicting splits, regexes RE2 or Envoy
 * refuse), goes through the translation, and every resulting {@link ProxyConfig} is loaded into the
 * real Envoy with {@code envoy --mode validate}. None may be refused. The regexes span RE2's syntax
 * (Unicode classes, quotes, both named-group forms, lazy repetitions) and many are grown to just
 * under Envoy's program size limit, so this is also the proof that Weft's bound of that size holds.
 *
 * <p>Envoy validates a bootstrap, not an xDS stream, so each config is carried statically: EDS
 * clusters become STATIC clusters with their assignment inline, and each HTTP connection manager
 * gets its RDS route configuration inline (which also makes Envoy check that every cluster a route
 * names exists). The official Envoy build has no API-listener extension ("missing the API listener
 * extension"), so a proxyless gRPC client's API listener is validated as the same HTTP connection
 * manager in an ordinary listener on a loopback port; what gRPC alone requires of it is covered by
 * the core's unit tests, except its regexes, which are compiled here with RE2/J as grpc-java does.
 */
class GeneratedCorpusTest {

  private static final int STATES = 320;
  private static final long SEED = 20260101L;
  /** Every typed config a translated config holds, for printing it as JSON. */
  static final TypeRegistry TYPES = TypeRegistry.newBuilder()
      .add(HttpConnectionManager.getDescriptor())
      .add(Router.getDescriptor())
      .add(TcpProxy.getDescriptor())
      .add(OriginalDst.getDescriptor())
      .add(HttpProtocolOptions.getDescriptor())
      .add(UpstreamTlsContext.getDescriptor())
      .add(DownstreamTlsContext.getDescriptor())
      .add(RawBuffer.getDescriptor())
      .add(TlsInspector.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.network.direct_response.v3.Config.getDescriptor())
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
    int withIdentity = 0;
    String sds = sdsDirectory(dir);
    Random random = new Random(SEED);
    for (int i = 0; i < STATES; i++) {
      RandomMeshes corpus = new RandomMeshes(random.nextLong());
      MeshState state = corpus.state();
      List<ProxyGroup> groups = corpus.sampleGroups(state);
      // Every other state's sidecars have an identity: mTLS clusters and strict or permissive inbound.
      if (i % 2 == 1) {
        groups = RandomMeshes.withIdentity(groups, sds);
        withIdentity += (int) groups.stream().filter(ProxyGroup::hasIdentity).count();
      }
      Translation translation = translator.translate(state, groups);
      translationRejections += translation.rejections().size();
      for (ProxyGroup group : groups) {
        coverage.add(translation.config(group), group.kind() == ProxyGroup.Kind.PROXYLESS_GRPC);
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
        + " pieces of user config, each with a reason; the configs hold " + coverage + "; " + withIdentity
        + " sidecar configs with mTLS");
    assertThat(refused).as("configs Envoy refused (bootstraps kept in %s)", dir.toAbsolutePath()).isEmpty();
    assertThat(coverage.regexesGrpcRefused).as("regexes grpc-java's RE2/J refuses").isEmpty();
    // A generator that stopped producing these would let the bound or the syntax check go untested.
    assertThat(coverage.regexesNearTheLimit).isPositive();
    assertThat(coverage.regexesBeyondTheOldSubset).isPositive();
    assertThat(bootstraps).hasSizeGreaterThanOrEqualTo(STATES * 3);
    // The corpus includes user mistakes; they must have been caught by the translation.
    assertThat(translationRejections).isPositive();
  }

  /**
   * A real SDS directory for the corpus's sidecars with an identity: Envoy refuses a TLS context
   * whose SDS file does not exist, so the files and the certificate they name are written, from the
   * mesh CA code, as a pod would have them mounted.
   */
  private static String sdsDirectory(Path dir) throws IOException {
    Path identity = dir.resolve("identity").toAbsolutePath();
    Path sds = dir.resolve("sds").toAbsolutePath();
    Files.createDirectories(identity);
    Files.createDirectories(sds);
    IdentitySettings settings = IdentitySettings.defaults();
    CertificateAuthority ca = CertificateAuthority.selfSigned(settings, Instant.now(), new SecureRandom());
    CertifiedKey leaf = ca.issue(settings.identity("shop", "sa-local"), KeyAlgorithm.ECDSA_P256,
        Duration.ofHours(1), Instant.now());
    Files.writeString(identity.resolve("tls.crt"), leaf.certificatePem());
    Files.writeString(identity.resolve("tls.key"), leaf.privateKeyPem());
    Files.writeString(identity.resolve("ca.crt"), ca.root().certificatePem());
    for (Map.Entry<String, String> file : SidecarBootstrap.sdsFiles(identity.toString()).entrySet()) {
      Files.writeString(sds.resolve(file.getKey()), file.getValue());
    }
    return sds.toString();
  }

  /** The Host-header route configuration of the shop namespace's sidecars. */
  private static RouteConfiguration hostRoutes(ProxyConfig config) {
    return config.routes().stream().filter(r -> r.getName().equals("outbound|shop")).findFirst().orElseThrow();
  }

  /** The config's route configurations with {@code routes} in place of the one of its name. */
  private static List<RouteConfiguration> withHostRoutes(ProxyConfig config, RouteConfiguration routes) {
    return config.routes().stream().map(r -> r.getName().equals(routes.getName()) ? routes : r).toList();
  }

  @Test
  void theHarnessSeesWhatEnvoyRefuses() throws Exception {
    // Without this, a harness that never reached Envoy's checks would pass the corpus vacuously.
    RandomMeshes corpus = new RandomMeshes(SEED);
    MeshState state = corpus.state();
    ProxyGroup group = new ProxyGroup(ProxyGroup.Kind.SIDECAR, "shop", "sa", "0.0.0.0", List.of(8080));
    ProxyConfig config = new MeshTranslator().translate(state, List.of(group)).config(group);
    RouteConfiguration routes = hostRoutes(config).toBuilder()
        .addVirtualHosts(VirtualHost.newBuilder()
            .setName("broken").addDomains("broken.example")
            .addRoutes(Route.newBuilder()
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRoute(RouteAction.newBuilder().setCluster("no-such-cluster"))))
        .build();
    ProxyConfig broken = new ProxyConfig(config.clusters(), "v", config.endpoints(), "v", config.listeners(), "v",
        withHostRoutes(config, routes), "v");
    Path dir = Files.createDirectories(Path.of("target", "corpus"));

    String problem = validate(WeftTools.locate().envoy(), dir, "control-broken",
        JsonFormat.printer().usingTypeRegistry(TYPES).print(bootstrap("control-broken", broken)));

    assertThat(problem).contains("no-such-cluster");
    Files.deleteIfExists(dir.resolve("control-broken.json"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '\t', textBlock = """
      \\x{100}	invalid escape sequence
      /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa	RE2 program size of 101 > max program size of 100
      """)
  void theHarnessSeesARegexEnvoyRefuses(String regex, String envoySays) throws Exception {
    // What Weft refuses for Envoy's sake and RE2/J would take: Envoy must be seen refusing it, or the
    // corpus would prove nothing about regexes.
    RandomMeshes corpus = new RandomMeshes(SEED);
    MeshState state = corpus.state();
    ProxyGroup group = new ProxyGroup(ProxyGroup.Kind.SIDECAR, "shop", "sa", "0.0.0.0", List.of(8080));
    ProxyConfig config = new MeshTranslator().translate(state, List.of(group)).config(group);
    String cluster = config.clusters().get(0).getName();
    RouteConfiguration routes = hostRoutes(config).toBuilder()
        .addVirtualHosts(VirtualHost.newBuilder()
            .setName("regex").addDomains("regex.example")
            .addRoutes(Route.newBuilder()
                .setMatch(RouteMatch.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(regex)))
                .setRoute(RouteAction.newBuilder().setCluster(cluster))))
        .build();
    ProxyConfig broken = new ProxyConfig(config.clusters(), "v", config.endpoints(), "v", config.listeners(), "v",
        withHostRoutes(config, routes), "v");
    Path dir = Files.createDirectories(Path.of("target", "corpus"));

    String problem = validate(WeftTools.locate().envoy(), dir, "control-regex",
        JsonFormat.printer().usingTypeRegistry(TYPES).print(bootstrap("control-regex", broken)));

    assertThat(problem).contains(envoySays);
    Files.deleteIfExists(dir.resolve("control-regex.json"));
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

    /** Unicode classes, quotes, (?<name>...) and \x{...}: RE2 that Weft's own parser used to refuse. */
    private static final Pattern OLD_SUBSET_REFUSED = Pattern.compile("\\\\[pPQ]|\\(\\?<[A-Za-z]|\\\\x\\{");

    private int routes;
    private int weighted;
    private int regexes;
    private int proxylessRegexes;
    private int regexesNearTheLimit;
    private int regexesBeyondTheOldSubset;
    private final List<String> regexesGrpcRefused = new ArrayList<>();
    private int segmentPrefixes;
    private int retries;
    private int tcpChains;
    private int apiListeners;
    private int drainingEndpoints;

    void add(ProxyConfig config, boolean proxyless) {
      for (RouteConfiguration routeConfig : config.routes()) {
        for (VirtualHost host : routeConfig.getVirtualHostsList()) {
          for (Route route : host.getRoutesList()) {
            routes++;
            weighted += route.getRoute().hasWeightedClusters() ? 1 : 0;
            regexes(route.getMatch()).forEach(regex -> addRegex(regex, proxyless));
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

    private static List<String> regexes(RouteMatch match) {
      List<String> regexes = new ArrayList<>();
      if (match.hasSafeRegex()) {
        regexes.add(match.getSafeRegex().getRegex());
      }
      for (HeaderMatcher header : match.getHeadersList()) {
        if (header.getStringMatch().hasSafeRegex()) {
          regexes.add(header.getStringMatch().getSafeRegex().getRegex());
        }
      }
      return regexes;
    }

    private void addRegex(String regex, boolean proxyless) {
      regexes++;
      regexesNearTheLimit += RandomMeshes.nearEnvoysRegexLimit(regex) ? 1 : 0;
      regexesBeyondTheOldSubset += OLD_SUBSET_REFUSED.matcher(regex).find() ? 1 : 0;
      if (proxyless) {
        proxylessRegexes++;
        try {
          // What grpc-java does with a route's or header's safe_regex; it refuses the update if this throws.
          Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
          regexesGrpcRefused.add(regex + ": " + e.getMessage());
        }
      }
    }

    @Override
    public String toString() {
      return routes + " routes (" + weighted + " weighted, " + regexes + " regexes in paths and headers, "
          + regexesNearTheLimit + " of them near Envoy's program size limit, " + regexesBeyondTheOldSubset
          + " beyond the RE2 subset Weft used to accept, " + proxylessRegexes + " for proxyless gRPC, " + segmentPrefixes
          + " path prefixes, " + retries + " with retries), " + tcpChains + " TCP/inbound filter chains, "
          + apiListeners + " API listeners, " + drainingEndpoints + " draining endpoints";
    }
  }
}
