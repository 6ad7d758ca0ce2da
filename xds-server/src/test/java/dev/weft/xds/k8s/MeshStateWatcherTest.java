package dev.weft.xds.k8s;

import static dev.weft.xds.k8s.KubeObjects.service;
import static dev.weft.xds.k8s.KubeObjects.slice;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import dev.weft.api.v1alpha1.TrafficSplitSpec;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.WeightedService;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The watcher against the fabric8 mock server in CRUD mode (a fresh server per test). */
@EnableKubernetesMockClient(crud = true)
class MeshStateWatcherTest {

  static final Path EXAMPLES = Path.of(System.getProperty("weft.repo.root", "..")).resolve("docs/examples/valid");

  static final Duration BOUND = Duration.ofSeconds(5);
  /** Every informer lists and watches before the first state: on a loaded 2-core machine that took over 5 s. */
  static final Duration START_BOUND = Duration.ofSeconds(30);
  static final ServiceKey PAYMENTS = new ServiceKey("shop", "payments");

  KubernetesMockServer server;
  KubernetesClient client;

  final List<MeshState> published = new CopyOnWriteArrayList<>();
  MeshStateWatcher watcher;

  @BeforeEach
  void registerCrds() {
    // The CRUD mock server must be told which custom resources exist and that they are namespaced.
    server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(TrafficSplit.class));
    server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(VirtualService.class));
  }

  @AfterEach
  void stop() {
    if (watcher != null) {
      watcher.close();
    }
  }

  MeshState start(MeshStateWatcher.Options options) throws Exception {
    watcher = new MeshStateWatcher(client, options, published::add);
    return watcher.start().get(START_BOUND.toMillis(), TimeUnit.MILLISECONDS);
  }

  static ConditionFactory await(String what) {
    // Polling often: Awaitility's default of 100 ms would be most of each test's run time.
    return Awaitility.await(what).atMost(BOUND).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5));
  }

  MeshState latest() {
    return published.get(published.size() - 1);
  }

  static TrafficSplit canary() {
    TrafficSplit split = new TrafficSplit();
    split.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("payments-canary").build());
    split.setSpec(new TrafficSplitSpec("payments",
        List.of(new TrafficSplitBackend("payments-v1", 90), new TrafficSplitBackend("payments-v2", 10))));
    return split;
  }

  void createPaymentsWithEndpointsAndCanary() {
    client.resource(service("shop", "payments")).create();
    client.resource(slice("shop", "payments-abc", "payments", "10.0.0.1", "10.0.0.2").build()).create();
    client.resource(canary()).create();
  }

  static boolean hasPaymentsWithEndpointsAndCanary(MeshState state) {
    return state.service(PAYMENTS).map(s -> s.endpoints().size() == 2).orElse(false)
        && state.splits().stream().anyMatch(s -> s.root().equals(PAYMENTS)
            && s.backends().contains(new WeightedService("payments-v2", 10)));
  }

  @Test
  void followsWhichEndpointsAreMeshedAndWhichNamespacesArePermissive() throws Exception {
    client.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName("shop")
        .endMetadata().build()).create();
    client.resource(service("shop", "payments")).create();
    client.resource(slice("shop", "payments-abc", "payments", "10.0.0.1").editFirstEndpoint()
        .withNewTargetRef().withKind("Pod").withName("payments-1").withNamespace("shop").endTargetRef()
        .endEndpoint().build()).create();
    start(MeshStateWatcher.Options.defaults());
    assertThat(latest().service(PAYMENTS).orElseThrow().serviceAccounts()).isEmpty();

    client.resource(new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withNamespace("shop")
        .withName("payments-1").endMetadata().withNewSpec().withServiceAccountName("payments")
        .addNewContainer().withName("weft-proxy").endContainer().endSpec().build()).create();
    await("the endpoint of a pod with a sidecar is meshed")
        .until(() -> latest().service(PAYMENTS).orElseThrow().serviceAccounts().contains("payments"));
    client.namespaces().withName("shop").edit(ns -> new io.fabric8.kubernetes.api.model.NamespaceBuilder(ns)
        .editMetadata().addToLabels("weft.dev/mtls", "permissive").endMetadata().build());
    await("the namespace label makes it permissive").until(() -> latest().isPermissive("shop"));
  }

  @Test
  void publishesWhatExistedBeforeStartOnceTheInformersHaveSynced() throws Exception {
    createPaymentsWithEndpointsAndCanary();

    MeshState first = start(MeshStateWatcher.Options.defaults());

    assertThat(hasPaymentsWithEndpointsAndCanary(first)).as("first state %s", first).isTrue();
    assertThat(published).first().isEqualTo(first);
    assertThat(watcher.current()).isEqualTo(first);
  }

  @Test
  void publishesCreatedObjectsAndTheRemovalOfATrafficSplit() throws Exception {
    MeshState first = start(MeshStateWatcher.Options.defaults());
    assertThat(first).as("an empty cluster still gets a first state").isEqualTo(MeshState.EMPTY);

    createPaymentsWithEndpointsAndCanary();
    await("a state with payments, its endpoints and its canary split")
        .until(() -> hasPaymentsWithEndpointsAndCanary(latest()));

    File example = EXAMPLES.resolve("virtualservice.yaml").toFile();
    client.resources(VirtualService.class).load(example).create();
    await("a state with the documented VirtualService")
        .until(() -> latest().routings().size() == 1 && latest().routings().get(0).rules().size() == 2);

    client.resource(canary()).delete();
    await("a state without the deleted TrafficSplit")
        .until(() -> latest().splits().isEmpty() && latest().service(PAYMENTS).isPresent());
    assertThat(latest().routings()).hasSize(1);
  }

  @Test
  void publishesAnEndpointThatStartsTerminatingAsDraining() throws Exception {
    createPaymentsWithEndpointsAndCanary();
    start(MeshStateWatcher.Options.defaults());

    EndpointSlice slice = client.resources(EndpointSlice.class).inNamespace("shop").withName("payments-abc").get();
    slice.getEndpoints().get(0).getConditions().setReady(false);
    slice.getEndpoints().get(0).getConditions().setServing(true);
    slice.getEndpoints().get(0).getConditions().setTerminating(true);
    client.resource(slice).update();

    await("10.0.0.1 draining")
        .until(() -> latest().service(PAYMENTS).orElseThrow().endpoints().stream()
            .anyMatch(e -> e.address().equals("10.0.0.1") && e.readiness() == Endpoint.Readiness.DRAINING));
  }

  @Test
  void watchesOnlyTheConfiguredNamespaces() throws Exception {
    start(MeshStateWatcher.Options.defaults().inNamespaces(Set.of("shop", "billing")));

    client.resource(service("elsewhere", "payments")).create();
    client.resource(service("billing", "invoices")).create();
    client.resource(service("shop", "payments")).create();

    await("the Services of both watched namespaces")
        .until(() -> latest().services().size() == 2);
    assertThat(latest().services()).containsOnlyKeys(PAYMENTS, new ServiceKey("billing", "invoices"));
  }

  @Test
  void coalescesARolloutIntoAFewPublishes() throws Exception {
    // A quiet period far above one mock request, so the test does not depend on the machine's speed.
    start(MeshStateWatcher.Options.defaults().debounce(Duration.ofMillis(200), Duration.ofSeconds(2)));
    client.resource(service("shop", "payments")).create();
    int before = published.size();

    for (int pod = 1; pod <= 30; pod++) {
      client.resource(slice("shop", "payments-" + pod, "payments", "10.0.1." + pod).build()).create();
    }

    await("all 30 endpoints")
        .until(() -> latest().service(PAYMENTS).map(s -> s.endpoints().size() == 30).orElse(false));
    assertThat(published.size() - before).as("publishes for 31 changes").isBetween(1, 3);
  }

  @Test
  void failsToStartWithAnActionableMessageWhenAListIsRefused() {
    server.expect().get().withPath("/apis/weft.dev/v1alpha1/trafficsplits?resourceVersion=0")
        .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden").build()).always();
    watcher = new MeshStateWatcher(client, MeshStateWatcher.Options.defaults(), published::add);

    assertThat(watcher.start())
        .failsWithin(BOUND)
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .withMessageContaining("Could not list TrafficSplit objects")
        .withMessageContaining("CRDs are installed");
    assertThat(published).isEmpty();
  }

  @Test
  void doesNotPublishAStateEqualToTheLastOne() throws Exception {
    createPaymentsWithEndpointsAndCanary();
    start(MeshStateWatcher.Options.defaults());
    long rebuilds = watcher.rebuilds();

    // A label the mesh does not read: the objects change, the mesh state does not.
    client.services().inNamespace("shop").withName("payments").edit(s -> {
      s.getMetadata().getLabels().put("team", "payments");
      return s;
    });

    await("a rebuild after the label change").until(() -> watcher.rebuilds() > rebuilds);
    assertThat(published).hasSize(1);
  }
}
