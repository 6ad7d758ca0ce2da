package dev.weft.xds.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import dev.weft.api.v1alpha1.TrafficSplitSpec;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import dev.weft.xds.server.ConnectedProxies;
import dev.weft.xds.server.NodeGroups;
import dev.weft.xds.server.SnapshotPublisher;
import dev.weft.xds.translate.MeshTranslator;
import dev.weft.xds.translate.ProxyConfig;
import dev.weft.xds.translate.Translation;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class NackInjectorTest {

  static final Node WEB_1 = sidecarNode("web-1.shop", "web", "8080");
  static final Node API_1 = sidecarNode("api-1.shop", "api", "9090");
  static final ProxyGroup WEB = NodeGroups.groupOf(WEB_1);
  static final ProxyGroup API = NodeGroups.groupOf(API_1);
  static final ServiceKey PAYMENTS = new ServiceKey("shop", "payments");
  static final String PAYMENTS_HOST = "payments.shop.svc.cluster.local:80";
  static final SourceRef CANARY = new SourceRef("TrafficSplit", "shop", "payments-canary", 1, "2024-01-01T00:00:00Z");
  static final NackInjector.Target TARGET = new NackInjector.Target("shop", "payments-canary", PAYMENTS,
      Set.of("web-1.shop"));

  KubernetesMockServer server;
  KubernetesClient client;

  private final AtomicInteger republished = new AtomicInteger();
  private final ConnectedProxies proxies = new ConnectedProxies(Clock.systemUTC(), new SimpleMeterRegistry());
  private NackInjector injector;

  @BeforeEach
  void registerCrds() {
    server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(TrafficSplit.class));
  }

  @AfterEach
  void stop() {
    if (injector != null) {
      injector.close();
    }
  }

  static Node sidecarNode(String id, String serviceAccount, String appPorts) {
    return Node.newBuilder().setId(id).setMetadata(Struct.newBuilder()
        .putFields(NodeGroups.NAMESPACE, Value.newBuilder().setStringValue("shop").build())
        .putFields(NodeGroups.SERVICE_ACCOUNT, Value.newBuilder().setStringValue(serviceAccount).build())
        .putFields(NodeGroups.APP_PORTS, Value.newBuilder().setStringValue(appPorts).build()))
        .build();
  }

  static Translation translate(ProxyGroup... groups) {
    return new MeshTranslator().translate(state(), List.of(groups));
  }

  /** Services payments, payments-v2 and ledger in shop, and the 90/10 canary of payments. */
  static MeshState state() {
    ServicePort http = new ServicePort("http", 80, Protocol.HTTP);
    return new MeshState(Map.of(
        PAYMENTS, new MeshService(PAYMENTS, "10.0.0.1", List.of(http), List.of()),
        PAYMENTS.sibling("payments-v2"), new MeshService(PAYMENTS.sibling("payments-v2"), "10.0.0.2", List.of(http),
            List.of()),
        PAYMENTS.sibling("ledger"), new MeshService(PAYMENTS.sibling("ledger"), "10.0.0.3", List.of(http), List.of())),
        List.of(new TrafficSplitRule(CANARY, PAYMENTS,
            List.of(new WeightedService("payments", 90), new WeightedService("payments-v2", 10)))),
        List.of());
  }

  static VirtualHost host(ProxyConfig config, String name) {
    return config.routes().stream().flatMap(r -> r.getVirtualHostsList().stream())
        .filter(h -> h.getName().equals(name)).findFirst().orElseThrow();
  }

  static TrafficSplit split(String annotation) {
    TrafficSplit split = new TrafficSplit();
    ObjectMetaBuilder meta = new ObjectMetaBuilder().withNamespace("shop").withName("payments-canary");
    if (annotation != null) {
      meta.addToAnnotations(NackInjector.ANNOTATION, annotation);
    }
    split.setMetadata(meta.build());
    split.setSpec(new TrafficSplitSpec("payments",
        List.of(new TrafficSplitBackend("payments", 90), new TrafficSplitBackend("payments-v2", 10))));
    return split;
  }

  static ConditionFactory await(String what) {
    return Awaitility.await(what).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10));
  }

  private NackInjector started() {
    injector = new NackInjector(client, Set.of());
    injector.start(proxies, republished::incrementAndGet);
    return injector;
  }

  private static DiscoveryRequest firstRequest(Node node) {
    return DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(Translation.CLUSTER_TYPE_URL).build();
  }

  private void connect(long streamId, Node node) throws Exception {
    proxies.onStreamOpen(streamId, "");
    proxies.onV3StreamRequest(streamId, firstRequest(node));
  }

  /** A started hook, the canary annotated with {@code annotation} (null: none), web-1.shop connected on stream 1. */
  private NackInjector startedWithWeb1Connected(String annotation) throws Exception {
    client.resources(TrafficSplit.class).inNamespace("shop").resource(split(annotation)).create();
    NackInjector hook = started();
    connect(1, WEB_1);
    if (annotation != null) {
      await("the hook to see the annotated split").until(() -> !hook.targets().isEmpty());
    }
    return hook;
  }

  @Test
  void putsARouteEnvoyRefusesFirstInTheSplitRootsVirtualHosts() {
    ProxyConfig config = translate(WEB).config(WEB);

    ProxyConfig rejected = NackInjector.withRejectedRoutes(config, List.of(TARGET));

    Route bad = host(rejected, PAYMENTS_HOST).getRoutes(0);
    assertThat(bad.getName()).isEqualTo(NackInjector.ROUTE_NAME);
    // An unclosed group: RE2 refuses it, so Envoy refuses the whole route configuration.
    assertThat(bad.getMatch().getSafeRegex().getRegex())
        .isEqualTo("(weft.dev/test-reject-on TrafficSplit shop/payments-canary");
    assertThat(bad.hasDirectResponse()).as("names no cluster, so our consistency check passes").isTrue();
    List<Route> after = host(rejected, PAYMENTS_HOST).getRoutesList();
    assertThat(after.subList(1, after.size())).isEqualTo(host(config, PAYMENTS_HOST).getRoutesList());
    String ledger = "ledger.shop.svc.cluster.local:80";
    assertThat(host(rejected, ledger)).isEqualTo(host(config, ledger));
    assertThat(rejected.routesVersion()).isNotBlank().isNotEqualTo(config.routesVersion());
    assertThat(List.of(rejected.clustersVersion(), rejected.endpointsVersion(), rejected.listenersVersion()))
        .containsExactly(config.clustersVersion(), config.endpointsVersion(), config.listenersVersion());
    assertThat(NackInjector.withRejectedRoutes(config, List.of(TARGET)).routesVersion())
        .as("content-derived: every replica computes the same").isEqualTo(rejected.routesVersion());
  }

  @Test
  void leavesAConfigWithoutTheRootAlone() {
    ProxyConfig config = translate(WEB).config(WEB);
    NackInjector.Target elsewhere = new NackInjector.Target("shop", "x", new ServiceKey("shop", "missing"),
        Set.of("web-1.shop"));

    assertThat(NackInjector.withRejectedRoutes(config, List.of(elsewhere))).isSameAs(config);
  }

  @Test
  void rejectedConfigPassesTheServersOwnConsistencyCheck() throws Exception {
    SnapshotPublisher publisher = new SnapshotPublisher(() -> groups -> Map.of(WEB,
        NackInjector.withRejectedRoutes(translate(WEB).config(WEB), List.of(TARGET))),
        proxies, Clock.systemUTC(), new SimpleMeterRegistry());
    connect(1, WEB_1);

    publisher.publish();

    assertThat(publisher.groups()).singleElement().satisfies(group -> {
      assertThat(group.lastError()).isNull();
      assertThat(group.versions().get(Translation.ROUTE_TYPE_URL)).startsWith("reject-");
    });
  }

  @Test
  void sendsBadRoutesToTheAnnotatedProxysGroupOnlyWhileTheAnnotationStays() throws Exception {
    NackInjector hook = startedWithWeb1Connected("web-1.shop, other.shop");
    connect(2, API_1);
    Translation translation = translate(WEB, API);

    Map<ProxyGroup, ProxyConfig> served = hook.apply(translation.configs());

    assertThat(hook.targets()).singleElement().satisfies(target -> {
      assertThat(target.root()).isEqualTo(PAYMENTS);
      assertThat(target.nodeIds()).containsExactlyInAnyOrder("web-1.shop", "other.shop");
    });
    assertThat(host(served.get(WEB), PAYMENTS_HOST).getRoutes(0).getName()).isEqualTo(NackInjector.ROUTE_NAME);
    assertThat(served.get(API)).isSameAs(translation.config(API));
    await("a republish for the new target").until(() -> republished.get() >= 1);

    int before = republished.get();
    client.resources(TrafficSplit.class).inNamespace("shop").withName("payments-canary")
        .edit(ts -> {
          ts.getMetadata().getAnnotations().remove(NackInjector.ANNOTATION);
          return ts;
        });
    await("the hook to drop the target").until(() -> hook.targets().isEmpty());

    assertThat(hook.apply(translation.configs())).isEqualTo(translation.configs());
    await("a republish restoring the real config").until(() -> republished.get() > before);
  }

  @Test
  void wrapsTheServersTranslatorKeepingTheSourcesOfWhatItRewrote() throws Exception {
    NackInjector hook = startedWithWeb1Connected("web-1.shop");

    Translation translation = hook.around(new MeshTranslator()).translate(state(), List.of(WEB, API));

    assertThat(host(translation.config(WEB), PAYMENTS_HOST).getRoutes(0).getName())
        .isEqualTo(NackInjector.ROUTE_NAME);
    assertThat(translation.config(API)).isEqualTo(translate(API).config(API));
    // The rejected routes version is traced to the split, so the NACK shows on its status.
    assertThat(translation.sources(WEB, Translation.ROUTE_TYPE_URL)).contains(CANARY);
  }

  @Test
  void aProxyThatLeftTakesItsGroupOutOfTheHook() throws Exception {
    NackInjector hook = startedWithWeb1Connected("web-1.shop");
    int before = republished.get();

    proxies.onStreamClose(1, "");

    Translation translation = translate(WEB);
    assertThat(hook.apply(translation.configs()).get(WEB)).isSameAs(translation.config(WEB));
    await("a republish restoring the real config").until(() -> republished.get() > before);
  }

  @Test
  void ignoresSplitsWithoutTheAnnotation() throws Exception {
    NackInjector hook = startedWithWeb1Connected(null);
    Translation translation = translate(WEB);

    await("the hook to list splits").during(Duration.ofMillis(200)).until(() -> hook.targets().isEmpty());
    assertThat(hook.apply(translation.configs())).isSameAs(translation.configs());
    assertThat(republished.get()).isZero();
  }
}
