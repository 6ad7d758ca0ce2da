package dev.weft.xds.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.translate.Translation;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole replica on the fabric8 mock server: a TrafficSplit's programmed-ness and a forced
 * NACK travel from an ADS client through the tracker and the provenance into the ConfigMap. The
 * client plays Envoy: it acks everything except a route configuration with the test hook's route,
 * which it rejects the way Envoy does (the real Envoy's rejection is the e2e suite's business).
 * The mock server emulates the server-side apply the report is written with.
 */
class ReplicaSyncReportTest {

  private static final String REPORT_NAMESPACE = "weft-system";
  private static final ObjectMapper JSON = new ObjectMapper();

  private ApplyingMockServer mock;
  private KubernetesMockServer server;
  private KubernetesClient client;

  private NackInjector nackHook;
  private XdsServerApp app;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    mock = ApplyingMockServer.start();
    server = mock.server();
    client = server.createClient();
    server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(TrafficSplit.class));
    server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(VirtualService.class));
    for (String name : List.of("payments", "payments-v2")) {
      client.services().inNamespace("shop").resource(new ServiceBuilder()
          .withNewMetadata().withNamespace("shop").withName(name).endMetadata()
          .withNewSpec().withClusterIP(name.equals("payments") ? "10.96.0.10" : "10.96.0.11")
          .addNewPort().withName("http").withPort(80).withProtocol("TCP").endPort().endSpec()
          .build()).create();
    }
    client.resources(TrafficSplit.class).inNamespace("shop").resource(NackInjectorTest.split(null)).create();
    nackHook = new NackInjector(client, Set.of("shop"));
    app = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of("shop"))
        .withSyncReport(SyncReportPublisher.Settings.of(REPORT_NAMESPACE, "xds-0")
            .withTimings(Duration.ofMillis(50), Duration.ofSeconds(1))), nackHook::around);
    nackHook.start(app);
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", app.xdsPort(), InsecureChannelCredentials.create())
        .build();
  }

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (app != null) {
      app.close();
    }
    if (nackHook != null) {
      nackHook.close();
    }
    client.close();
    mock.close();
  }

  static ConditionFactory await(String what) {
    return Awaitility.await(what).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(25));
  }

  private Optional<JsonNode> report() throws Exception {
    ConfigMap map = client.configMaps().inNamespace(REPORT_NAMESPACE).withName("weft-xds-sync-xds-0").get();
    return map == null ? Optional.empty() : Optional.of(JSON.readTree(map.getData().get("report.json")));
  }

  private Optional<JsonNode> canary() throws Exception {
    return report().flatMap(doc -> {
      for (JsonNode resource : doc.get("resources")) {
        if (resource.get("name").asText().equals("payments-canary")) {
          return Optional.of(resource);
        }
      }
      return Optional.empty();
    });
  }

  @Test
  void reportsAcceptedAndRejectedConfigPerTrafficSplit() throws Exception {
    new PretendEnvoy(channel).connect();

    await("the proxy to be synced and the split programmed on it").until(() -> canary()
        .filter(c -> c.get("proxies").asInt() == 1 && c.get("acked").asInt() == 1 && c.get("nacked").isEmpty())
        .isPresent() && report().orElseThrow().get("proxies").get(0).get("synced").asBoolean());
    assertThat(report().orElseThrow().get("proxies").findValuesAsText("id")).containsExactly("web-1.shop");
    assertThat(report().orElseThrow().get("namespaces").toString())
        .as("the namespaces this replica watches, so the operator waits on it only for those")
        .isEqualTo("[\"shop\"]");

    client.resources(TrafficSplit.class).inNamespace("shop").withName("payments-canary")
        .edit(ts -> {
          ts.getMetadata().getAnnotations().put(NackInjector.ANNOTATION, "web-1.shop");
          return ts;
        });

    await("the rejection to show on the split").until(() -> canary()
        .filter(c -> c.get("nacked").size() == 1).isPresent());
    JsonNode rejected = canary().orElseThrow();
    assertThat(rejected.get("acked").asInt()).isZero();
    assertThat(rejected.get("nacked").get(0).get("proxy").asText()).isEqualTo("web-1.shop");
    assertThat(rejected.get("nacked").get(0).get("message").asText())
        .isEqualTo("Invalid regex '(weft.dev/test-reject-on TrafficSplit shop/payments-canary': missing )");
    JsonNode proxy = report().orElseThrow().get("proxies").get(0);
    assertThat(proxy.get("synced").asBoolean()).isFalse();
    assertThat(proxy.get("nack").get("type").asText()).isEqualTo("rds");

    client.resources(TrafficSplit.class).inNamespace("shop").withName("payments-canary")
        .edit(ts -> {
          ts.getMetadata().getAnnotations().remove(NackInjector.ANNOTATION);
          return ts;
        });

    await("the split to be programmed again").until(() -> canary()
        .filter(c -> c.get("acked").asInt() == 1 && c.get("nacked").isEmpty()).isPresent());
    assertThat(report().orElseThrow().get("proxies").get(0).has("nack")).isFalse();

    app.close();
    app = null;
    assertThat(report()).as("a replica that stops cleanly takes its report along").isEmpty();
  }

  /** An ADS client that subscribes like Envoy and rejects what Envoy would reject of the hook's doing. */
  private static final class PretendEnvoy implements StreamObserver<DiscoveryResponse> {

    private final ManagedChannel channel;
    private final Set<String> subscribed = new HashSet<>();
    private StreamObserver<DiscoveryRequest> requests;
    private List<String> clusters = List.of();
    private List<String> routeNames = List.of();

    PretendEnvoy(ManagedChannel channel) {
      this.channel = channel;
    }

    synchronized void connect() {
      requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(this);
      requests.onNext(DiscoveryRequest.newBuilder()
          .setNode(NackInjectorTest.sidecarNode("web-1.shop", "web", "8080"))
          .setTypeUrl(Translation.CLUSTER_TYPE_URL)
          .build());
      requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(Translation.LISTENER_TYPE_URL).build());
    }

    @Override
    public synchronized void onNext(DiscoveryResponse response) {
      String type = response.getTypeUrl();
      List<String> names = List.of();
      if (type.equals(Translation.CLUSTER_TYPE_URL)) {
        // Envoy asks for the assignments of its EDS clusters only.
        clusters = response.getResourcesList().stream().map(r -> unpack(r, Cluster.class))
            .filter(c -> c.getType() == Cluster.DiscoveryType.EDS).map(Cluster::getName).toList();
      } else if (type.equals(Translation.ENDPOINT_TYPE_URL)) {
        names = clusters;
      } else if (type.equals(Translation.LISTENER_TYPE_URL)) {
        // Envoy asks for the route configurations its listeners' connection managers name.
        routeNames = response.getResourcesList().stream().map(r -> unpack(r, Listener.class))
            .flatMap(l -> l.getFilterChainsList().stream()).flatMap(c -> c.getFiltersList().stream())
            .filter(f -> f.getTypedConfig().is(HttpConnectionManager.class))
            .map(f -> unpack(f.getTypedConfig(), HttpConnectionManager.class).getRds().getRouteConfigName())
            .distinct().toList();
      } else if (type.equals(Translation.ROUTE_TYPE_URL)) {
        names = routeNames;
        for (Any resource : response.getResourcesList()) {
          String problem = problem(unpack(resource, RouteConfiguration.class));
          if (problem != null) {
            requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(type).addAllResourceNames(names)
                .setResponseNonce(response.getNonce())
                .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage(problem))
                .build());
            return;
          }
        }
      }
      requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(type).addAllResourceNames(names)
          .setVersionInfo(response.getVersionInfo()).setResponseNonce(response.getNonce()).build());
      if (type.equals(Translation.CLUSTER_TYPE_URL) && subscribed.add(Translation.ENDPOINT_TYPE_URL)) {
        requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(Translation.ENDPOINT_TYPE_URL)
            .addAllResourceNames(clusters).build());
      }
      if (type.equals(Translation.LISTENER_TYPE_URL) && subscribed.add(Translation.ROUTE_TYPE_URL)) {
        requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(Translation.ROUTE_TYPE_URL)
            .addAllResourceNames(routeNames).build());
      }
    }

    /** What Envoy says about a route whose regex does not compile (RE2: an unclosed group). */
    private static String problem(RouteConfiguration routes) {
      for (VirtualHost host : routes.getVirtualHostsList()) {
        for (Route route : host.getRoutesList()) {
          String regex = route.getMatch().getSafeRegex().getRegex();
          if (regex.startsWith("(") && !regex.contains(")")) {
            return "Invalid regex '" + regex + "': missing )";
          }
        }
      }
      return null;
    }

    private static <T extends Message> T unpack(Any any, Class<T> type) {
      try {
        return any.unpack(type);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("the server sent a resource that is not a " + type.getSimpleName(), e);
      }
    }

    @Override
    public void onError(Throwable t) {
      // the server went away: the test is over
    }

    @Override
    public void onCompleted() {
      // the server went away: the test is over
    }
  }
}
