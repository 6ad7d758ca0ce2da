package dev.weft.xds.translate;

import static dev.weft.xds.translate.Meshes.SHOP;
import static dev.weft.xds.translate.Meshes.cluster;
import static dev.weft.xds.translate.Meshes.grpc;
import static dev.weft.xds.translate.Meshes.header;
import static dev.weft.xds.translate.Meshes.http;
import static dev.weft.xds.translate.Meshes.method;
import static dev.weft.xds.translate.Meshes.path;
import static dev.weft.xds.translate.Meshes.routing;
import static dev.weft.xds.translate.Meshes.rule;
import static dev.weft.xds.translate.Meshes.service;
import static dev.weft.xds.translate.Meshes.split;
import static dev.weft.xds.translate.Meshes.state;
import static dev.weft.xds.translate.Meshes.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.HttpRouting.HeaderKind;
import dev.weft.mesh.HttpRouting.PathKind;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RouteTranslatorTest {

  private static final MeshService PAYMENTS = service("payments", "10.0.0.1", http(80), http(8080), tcp(5432));
  private static final MeshService V1 = service("payments-v1", "10.0.0.2", http(80), http(8080));
  private static final MeshService V2 = service("payments-v2", "10.0.0.3", http(80), http(8080));

  private static RouteTranslator translator(MeshState state) {
    return new RouteTranslator(state, TrafficPlan.of(state));
  }

  private static VirtualHost host(RouteConfiguration routes, String name) {
    return routes.getVirtualHostsList().stream().filter(h -> h.getName().equals(name)).findFirst().orElseThrow();
  }

  private static List<Route> routesOf(MeshState state, int port) {
    return host(translator(state).outbound(SHOP), "payments.shop.svc.cluster.local:" + port).getRoutesList();
  }

  private static MeshState withRouting(HttpRouting routing, TrafficSplitRule... splits) {
    return state(List.of(PAYMENTS, V1, V2), List.of(splits), List.of(routing));
  }

  @Test
  void answersEveryNameAClientInTheSameNamespaceUses() {
    RouteConfiguration routes = translator(state(PAYMENTS)).outbound(SHOP);

    assertThat(routes.getName()).isEqualTo("outbound|shop");
    assertThat(routes.getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("payments.shop.svc.cluster.local:80", "payments.shop.svc.cluster.local:8080");
    assertThat(routes.getVirtualHosts(0).getDomainsList()).containsExactly(
        "payments", "payments:80", "payments.shop", "payments.shop:80", "payments.shop.svc", "payments.shop.svc:80",
        "payments.shop.svc.cluster.local", "payments.shop.svc.cluster.local:80", "10.0.0.1", "10.0.0.1:80");
    assertThat(routes.getVirtualHosts(1).getDomainsList()).containsExactly(
        "payments:8080", "payments.shop:8080", "payments.shop.svc:8080", "payments.shop.svc.cluster.local:8080",
        "10.0.0.1:8080");
  }

  @Test
  void givesEachCapturedPortARouteConfigurationOfItsOwnAndLeavesItOutOfTheHostRoutes() {
    RouteTranslator translator = translator(state(PAYMENTS));
    Set<String> captured = Set.of("payments.shop.svc.cluster.local:8080");

    List<RouteConfiguration> byService = translator.byService(captured);
    RouteConfiguration byHost = translator.outbound(SHOP, captured);

    assertThat(byService).singleElement().satisfies(routes -> {
      assertThat(routes.getName()).isEqualTo("payments.shop.svc.cluster.local:8080");
      // The destination address already chose the Service: any Host header will do.
      assertThat(routes.getVirtualHostsList()).singleElement().satisfies(h -> {
        assertThat(h.getDomainsList()).containsExactly("*");
        assertThat(h.getRoutesList()).isEqualTo(routesOf(state(PAYMENTS), 8080));
      });
    });
    assertThat(byHost.getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("payments.shop.svc.cluster.local:80");
  }

  @Test
  void sendsEveryOtherHostOnToTheOriginalDestinationInCaptureMode() {
    RouteTranslator translator = translator(state(PAYMENTS));
    Set<String> captured = Set.of("payments.shop.svc.cluster.local:8080");

    RouteConfiguration routes = translator.outboundWithPassthrough(SHOP, captured);

    assertThat(routes.getName()).isEqualTo("outbound|shop");
    assertThat(routes.getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("payments.shop.svc.cluster.local:80", "passthrough");
    assertThat(routes.getVirtualHosts(1)).isEqualTo(TextProtos.parse("""
        name: "passthrough"
        domains: "*"
        routes {
          name: "passthrough"
          match { prefix: "/" }
          route { cluster: "passthrough" timeout {} }
        }
        """, VirtualHost.getDefaultInstance()));
  }

  @Test
  void leavesTheShortNameToClientsInTheServicesNamespace() {
    RouteConfiguration routes = translator(state(PAYMENTS)).outbound("web");

    assertThat(routes.getName()).isEqualTo("outbound|web");
    assertThat(routes.getVirtualHosts(0).getDomainsList()).doesNotContain("payments", "payments:80")
        .contains("payments.shop", "payments.shop:80");
  }

  @Test
  void givesBareNamesToTheLowestHttpPortWithoutPort80() {
    MeshService api = service("api", "", tcp(80), grpc(9090), http(8080));

    RouteConfiguration routes = translator(state(api)).outbound(SHOP);

    assertThat(routes.getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("api.shop.svc.cluster.local:9090", "api.shop.svc.cluster.local:8080");
    assertThat(host(routes, "api.shop.svc.cluster.local:8080").getDomainsList()).contains("api", "api.shop");
    assertThat(host(routes, "api.shop.svc.cluster.local:9090").getDomainsList()).containsExactly(
        "api:9090", "api.shop:9090", "api.shop.svc:9090", "api.shop.svc.cluster.local:9090");
  }

  @Test
  void routesToTheServicesOwnClusterWithoutSplitOrRules() {
    assertThat(routesOf(state(PAYMENTS), 8080)).containsExactly(TextProtos.parse("""
        name: "default"
        match { prefix: "/" }
        route { cluster: "outbound|8080|payments.shop.svc.cluster.local" timeout { } }
        """, Route.getDefaultInstance()));
  }

  @Test
  void splitsTrafficByWeight() {
    MeshState state = state(List.of(PAYMENTS, V1, V2), List.of(split("canary", "2026-01-01T00:00:00Z", "payments",
        new WeightedService("payments-v1", 90), new WeightedService("payments-v2", 10))), List.of());

    assertThat(routesOf(state, 80)).containsExactly(TextProtos.parse("""
        name: "default"
        match { prefix: "/" }
        route {
          weighted_clusters {
            clusters { name: "outbound|80|payments-v1.shop.svc.cluster.local" weight { value: 90 } }
            clusters { name: "outbound|80|payments-v2.shop.svc.cluster.local" weight { value: 10 } }
          }
          timeout { }
        }
        """, Route.getDefaultInstance()));
  }

  @Test
  void dropsZeroWeightBackendsAndKeepsTheRootAsABackend() {
    MeshState state = state(List.of(PAYMENTS, V1, V2), List.of(split("canary", "2026-01-01T00:00:00Z", "payments",
        new WeightedService("payments", 3), new WeightedService("payments-v1", 0),
        new WeightedService("payments-v2", 1))), List.of());

    assertThat(routesOf(state, 8080).get(0).getRoute().getWeightedClusters().getClustersList())
        .extracting(c -> c.getName() + "=" + c.getWeight().getValue())
        .containsExactly(cluster("payments", 8080) + "=3", cluster("payments-v2", 8080) + "=1");
  }

  @Test
  void routesAllTrafficToTheOnlyBackendWithWeight() {
    MeshState state = state(List.of(PAYMENTS, V1, V2), List.of(split("cutover", "2026-01-01T00:00:00Z", "payments",
        new WeightedService("payments-v1", 0), new WeightedService("payments-v2", 100))), List.of());

    assertThat(routesOf(state, 80).get(0).getRoute().getCluster()).isEqualTo(cluster("payments-v2", 80));
  }

  @Test
  void appliesRulesInDeclaredOrderThenTheCatchAll() {
    HttpRouting routing = routing("routes", "2026-01-01T00:00:00Z", "payments", 0,
        rule("canary", List.of(header("x-canary", HeaderKind.EXACT, "true")),
            List.of(new WeightedService("payments-v2", 1))),
        rule("", List.of(path(PathKind.PREFIX, "/api"), path(PathKind.EXACT, "/health")),
            List.of(new WeightedService("payments-v1", 1))));

    List<Route> routes = routesOf(withRouting(routing), 80);

    assertThat(routes).extracting(Route::getName)
        .containsExactly("shop/routes/canary", "shop/routes/rules[1]", "shop/routes/rules[1]", "default");
    assertThat(routes).extracting(r -> r.getRoute().getCluster()).containsExactly(
        cluster("payments-v2", 80), cluster("payments-v1", 80), cluster("payments-v1", 80), cluster("payments", 80));
    assertThat(routes.get(1).getMatch().getPathSeparatedPrefix()).isEqualTo("/api");
    assertThat(routes.get(2).getMatch().getPath()).isEqualTo("/health");
  }

  @Test
  void matchesPathsHeadersAndMethod() {
    HttpRouting routing = routing("routes", "2026-01-01T00:00:00Z", "payments", 80,
        rule("all", List.of(
            new HttpRouting.Match(new HttpRouting.PathCondition(PathKind.REGEX, "/v[0-9]+/.*"), List.of(
                new HttpRouting.HeaderCondition("X-User", HeaderKind.PREFIX, "admin-"),
                new HttpRouting.HeaderCondition("x-trace", HeaderKind.PRESENT, null),
                new HttpRouting.HeaderCondition("x-env", HeaderKind.REGEX, "prod|stage")), "POST"),
            path(PathKind.PREFIX, "/"),
            header("x-empty", HeaderKind.PREFIX, "")), List.of()));

    List<Route> routes = routesOf(withRouting(routing), 80);

    assertThat(routes.get(0).getMatch()).isEqualTo(TextProtos.parse("""
        safe_regex { regex: "/v[0-9]+/.*" }
        headers { name: "x-user" string_match { prefix: "admin-" } }
        headers { name: "x-trace" present_match: true }
        headers { name: "x-env" string_match { safe_regex { regex: "prod|stage" } } }
        headers { name: ":method" string_match { exact: "POST" } }
        """, RouteMatch.getDefaultInstance()));
    assertThat(routes.get(1).getMatch()).isEqualTo(RouteMatch.newBuilder().setPrefix("/").build());
    assertThat(routes.get(2).getMatch()).isEqualTo(TextProtos.parse("""
        prefix: "/"
        headers { name: "x-empty" present_match: true }
        """, RouteMatch.getDefaultInstance()));
    assertThat(routes.get(0).getRoute().getCluster()).isEqualTo(cluster("payments", 80));
  }

  @Test
  void sendsRulesWithoutBackendsThroughTheSplit() {
    HttpRouting routing = routing("routes", "2026-01-01T00:00:00Z", "payments", 0,
        rule("reads", List.of(method("GET")), List.of(), Duration.ofSeconds(2), null));
    TrafficSplitRule split = split("canary", "2026-01-01T00:00:00Z", "payments",
        new WeightedService("payments-v1", 9), new WeightedService("payments-v2", 1));

    List<Route> routes = routesOf(withRouting(routing, split), 80);

    assertThat(routes).hasSize(2);
    assertThat(routes.get(0).getRoute().getWeightedClusters())
        .isEqualTo(routes.get(1).getRoute().getWeightedClusters());
    assertThat(routes.get(0).getRoute().getTimeout().getSeconds()).isEqualTo(2);
    // No timeout asked for: none at all (0s), not Envoy's default 15 s.
    assertThat(routes.get(1).getRoute().getTimeout()).isEqualTo(com.google.protobuf.Duration.getDefaultInstance());
    assertThat(routes.get(1).getRoute().hasTimeout()).isTrue();
  }

  @Test
  void setsTimeoutAndRetries() {
    HttpRouting routing = routing("routes", "2026-01-01T00:00:00Z", "payments", 80,
        rule("a", List.of(path(PathKind.EXACT, "/a")), List.of(), Duration.ofMillis(1500),
            new HttpRouting.Retries(3, Duration.ofMillis(500), List.of("5xx", "reset"))),
        rule("b", List.of(path(PathKind.EXACT, "/b")), List.of(), Duration.ZERO,
            new HttpRouting.Retries(2, null, List.of())),
        rule("c", List.of(path(PathKind.EXACT, "/c")), List.of(), null,
            new HttpRouting.Retries(0, null, List.of())));

    List<Route> routes = routesOf(withRouting(routing), 80);

    assertThat(routes.get(0).getRoute()).isEqualTo(TextProtos.parse("""
        cluster: "outbound|80|payments.shop.svc.cluster.local"
        timeout { seconds: 1 nanos: 500000000 }
        retry_policy { retry_on: "5xx,reset" num_retries { value: 3 } per_try_timeout { nanos: 500000000 } }
        """, io.envoyproxy.envoy.config.route.v3.RouteAction.getDefaultInstance()));
    // 0s turns the timeout off; retries without conditions get the mesh default.
    assertThat(routes.get(1).getRoute().hasTimeout()).isTrue();
    assertThat(routes.get(1).getRoute().getTimeout().getSeconds()).isZero();
    assertThat(routes.get(1).getRoute().getRetryPolicy().getRetryOn())
        .isEqualTo("connect-failure,refused-stream,reset,gateway-error");
    assertThat(routes.get(2).getRoute().hasRetryPolicy()).isFalse();
  }

  @Test
  void sendsRuleBackendsToAnExplicitPort() {
    HttpRouting routing = routing("routes", "2026-01-01T00:00:00Z", "payments", 80,
        rule("legacy", List.of(path(PathKind.PREFIX, "/legacy")),
            List.of(new WeightedService("payments-v1", 8080, 1))));

    assertThat(routesOf(withRouting(routing), 80).get(0).getRoute().getCluster())
        .isEqualTo(cluster("payments-v1", 8080));
  }

  @Test
  void writesPathPrefixesAsExactPlusPrefixForGrpc() {
    HttpRouting routing = routing("routes", "2026-01-01T00:00:00Z", "payments", 80,
        rule("pkg", List.of(path(PathKind.PREFIX, "/shop.Payments")), List.of(new WeightedService("payments-v2", 1))));

    List<RouteConfiguration> configs = translator(withRouting(routing)).proxyless();

    RouteConfiguration payments80 = configs.stream()
        .filter(c -> c.getName().equals("payments.shop.svc.cluster.local:80")).findFirst().orElseThrow();
    assertThat(payments80.getVirtualHostsList()).hasSize(1);
    assertThat(payments80.getVirtualHosts(0).getDomainsList())
        .containsExactly("payments.shop.svc.cluster.local:80", "*");
    assertThat(payments80.getVirtualHosts(0).getRoutesList()).extracting(Route::getMatch).containsExactly(
        RouteMatch.newBuilder().setPath("/shop.Payments").build(),
        RouteMatch.newBuilder().setPrefix("/shop.Payments/").build(),
        RouteMatch.newBuilder().setPrefix("/").build());
  }

  @Test
  void buildsOneProxylessRouteConfigurationPerHttpServicePort() {
    assertThat(translator(state(PAYMENTS, V1)).proxyless()).extracting(RouteConfiguration::getName).containsExactly(
        "payments-v1.shop.svc.cluster.local:80", "payments-v1.shop.svc.cluster.local:8080",
        "payments.shop.svc.cluster.local:80", "payments.shop.svc.cluster.local:8080");
  }

  @Test
  void givesGrpcClientsTheRuleTimeoutAsMaxStreamDuration() {
    HttpRouting routing = routing("routes", "2026-01-01T00:00:00Z", "payments", 80,
        rule("slow", List.of(), List.of(), Duration.ofMillis(300), null),
        rule("unlimited", List.of(path(PathKind.EXACT, "/x")), List.of(), Duration.ZERO, null));

    List<Route> routes = proxylessRoutes(withRouting(routing));

    assertThat(routes.get(0).getRoute().getMaxStreamDuration().getMaxStreamDuration())
        .isEqualTo(com.google.protobuf.Duration.newBuilder().setNanos(300_000_000).build());
    // 0s means no limit, which gRPC reads from an unset max_stream_duration.
    assertThat(routes.get(1).getRoute().hasMaxStreamDuration()).isFalse();
    // Envoy sidecars keep using the route timeout only.
    assertThat(routesOf(withRouting(routing), 80).get(0).getRoute().hasMaxStreamDuration()).isFalse();
  }

  @Test
  void dropsMethodConditionsGrpcCallsCannotMatchAndTheOnesTheyAlwaysMatch() {
    HttpRouting routing = routing("routes", "2026-01-01T00:00:00Z", "payments", 80,
        rule("reads", List.of(new HttpRouting.Match(null, List.of(), "GET")),
            List.of(new WeightedService("payments-v1", 1))),
        rule("calls", List.of(new HttpRouting.Match(null, List.of(), "POST")),
            List.of(new WeightedService("payments-v2", 1))));

    List<Route> grpc = proxylessRoutes(withRouting(routing));
    List<Route> envoy = routesOf(withRouting(routing), 80);

    // gRPC: no route for GET, the POST rule without a :method condition, then the default.
    assertThat(grpc).extracting(Route::getName).containsExactly("shop/routes/calls", "default");
    assertThat(grpc.get(0).getMatch().getHeadersList()).isEmpty();
    assertThat(grpc.get(0).getRoute().getCluster()).isEqualTo(cluster("payments-v2", 80));
    // Envoy: both, each on :method.
    assertThat(envoy).extracting(Route::getName).containsExactly("shop/routes/reads", "shop/routes/calls", "default");
    assertThat(envoy.get(0).getMatch().getHeaders(0).getName()).isEqualTo(":method");
  }

  @Test
  void givesGrpcClientsRetriesOnTheStatusCodesThatMeanTheSame() {
    HttpRouting routing = routing("routes", "2026-01-01T00:00:00Z", "payments", 80,
        rule("default-conditions", List.of(path(PathKind.EXACT, "/a")), List.of(), null,
            new HttpRouting.Retries(3, Duration.ofMillis(200), List.of())),
        rule("server-errors", List.of(path(PathKind.EXACT, "/b")), List.of(), null,
            new HttpRouting.Retries(2, null, List.of("5xx"))),
        rule("conflicts", List.of(path(PathKind.EXACT, "/c")), List.of(), null,
            new HttpRouting.Retries(2, null, List.of("retriable-4xx"))));

    List<Route> grpc = proxylessRoutes(withRouting(routing));

    assertThat(grpc.get(0).getRoute().getRetryPolicy().getRetryOn()).isEqualTo("unavailable");
    assertThat(grpc.get(0).getRoute().getRetryPolicy().getNumRetries().getValue()).isEqualTo(3);
    assertThat(grpc.get(0).getRoute().getRetryPolicy().hasPerTryTimeout()).isFalse();
    assertThat(grpc.get(1).getRoute().getRetryPolicy().getRetryOn()).isEqualTo("internal,unavailable");
    assertThat(grpc.get(2).getRoute().hasRetryPolicy()).isFalse();
    // Envoy keeps the HTTP conditions as written.
    assertThat(routesOf(withRouting(routing), 80).get(0).getRoute().getRetryPolicy().getRetryOn())
        .isEqualTo(RouteTranslator.DEFAULT_RETRY_ON);
  }

  private static List<Route> proxylessRoutes(MeshState state) {
    return translator(state).proxyless().stream()
        .filter(c -> c.getName().equals("payments.shop.svc.cluster.local:80")).findFirst().orElseThrow()
        .getVirtualHosts(0).getRoutesList();
  }
}
