package dev.weft.convert;

import static dev.weft.convert.ServiceConverterTest.service;
import static dev.weft.convert.ServiceConverterTest.slice;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import dev.weft.api.v1alpha1.TrafficSplitSpec;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class MeshStateBuilderTest {

  final List<String> problems = new ArrayList<>();

  static TrafficSplit split(String namespace, String name, String created, String root, TrafficSplitBackend... backends) {
    TrafficSplit split = new TrafficSplit();
    split.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).withGeneration(3L)
        .withCreationTimestamp(created).withResourceVersion("42").build());
    split.setSpec(new TrafficSplitSpec(root, List.of(backends)));
    return split;
  }

  MeshState build(List<Service> services, List<EndpointSlice> slices, List<TrafficSplit> splits) {
    return MeshStateBuilder.build(services, slices, splits, List.<VirtualService>of(), problems::add);
  }

  @Test
  void joinsEndpointSlicesToTheirService() {
    List<Service> services = List.of(service("shop", "payments"), service("shop", "orders"), service("other", "payments"));
    List<EndpointSlice> slices = List.of(
        slice("shop", "payments-1", "payments", "10.0.0.1").build(),
        slice("shop", "payments-2", "payments", "10.0.0.2").build(),
        slice("shop", "orders-1", "orders", "10.0.1.1").build(),
        slice("other", "payments-1", "payments", "10.0.2.1").build(),
        slice("shop", "gone-1", "gone", "10.0.3.1").build(),
        slice("shop", "manual", "payments", "10.0.4.1").editMetadata().withLabels(null).endMetadata().build());

    MeshState state = build(services, slices, List.of());

    assertThat(state.services()).containsOnlyKeys(
        new ServiceKey("shop", "payments"), new ServiceKey("shop", "orders"), new ServiceKey("other", "payments"));
    assertThat(state.service(new ServiceKey("shop", "payments")).orElseThrow().endpoints())
        .extracting(Endpoint::address).containsExactly("10.0.0.1", "10.0.0.2");
    assertThat(state.service(new ServiceKey("shop", "orders")).orElseThrow().endpoints())
        .extracting(Endpoint::address).containsExactly("10.0.1.1");
    assertThat(state.service(new ServiceKey("other", "payments")).orElseThrow().endpoints())
        .extracting(Endpoint::address).containsExactly("10.0.2.1");
    assertThat(problems).isEmpty();
  }

  @Test
  void keepsAServiceWithoutEndpoints() {
    MeshState state = build(List.of(service("shop", "payments")), List.of(), List.of());

    assertThat(state.service(new ServiceKey("shop", "payments")).orElseThrow().endpoints()).isEmpty();
  }

  @Test
  void mapsATrafficSplitToItsRule() {
    TrafficSplit canary = split("shop", "payments-canary", "2026-01-01T00:00:00Z", "payments",
        new TrafficSplitBackend("payments-v1", 90), new TrafficSplitBackend("payments-v2", 10));

    MeshState state = build(List.of(), List.of(), List.of(canary));

    assertThat(state.splits()).containsExactly(new TrafficSplitRule(
        new SourceRef("TrafficSplit", "shop", "payments-canary", 3, "2026-01-01T00:00:00Z"),
        new ServiceKey("shop", "payments"),
        List.of(new WeightedService("payments-v1", 90), new WeightedService("payments-v2", 10))));
  }

  @Test
  void ordersSplitsOldestFirst() {
    TrafficSplit newer = split("shop", "a", "2026-02-01T00:00:00Z", "payments", new TrafficSplitBackend("payments-v1", 1));
    TrafficSplit older = split("shop", "b", "2026-01-01T00:00:00Z", "payments", new TrafficSplitBackend("payments-v2", 1));

    MeshState state = build(List.of(), List.of(), List.of(newer, older));

    assertThat(state.splits()).extracting(s -> s.source().name()).containsExactly("b", "a");
  }

  @Test
  void buildsAnEqualStateWhateverTheInputOrder() {
    List<Service> services = new ArrayList<>(List.of(service("shop", "payments"), service("shop", "orders")));
    List<EndpointSlice> slices = new ArrayList<>(List.of(
        slice("shop", "payments-1", "payments", "10.0.0.9", "10.0.0.1").build(),
        slice("shop", "payments-2", "payments", "10.0.0.5").build(),
        slice("shop", "orders-1", "orders", "10.0.1.1").build()));
    List<TrafficSplit> splits = new ArrayList<>(List.of(
        split("shop", "a", "2026-01-01T00:00:00Z", "payments", new TrafficSplitBackend("payments", 1)),
        split("shop", "b", "2026-01-01T00:00:00Z", "orders", new TrafficSplitBackend("orders", 1))));
    MeshState first = build(services, slices, splits);

    Collections.reverse(services);
    Collections.reverse(slices);
    Collections.reverse(splits);

    assertThat(build(services, slices, splits)).isEqualTo(first);
  }

  @Test
  void leavesOutABrokenObjectAndReportsItWithTheField() {
    TrafficSplit broken = split("shop", "broken", "2026-01-01T00:00:00Z", "payments");
    broken.getSpec().setBackends(List.of(new TrafficSplitBackend()));
    TrafficSplit good = split("shop", "good", "2026-01-01T00:00:00Z", "orders", new TrafficSplitBackend("orders-v2", 1));

    MeshState state = build(List.of(service("shop", "orders")), List.of(), List.of(broken, good));

    assertThat(state.splits()).extracting(s -> s.source().name()).containsExactly("good");
    assertThat(state.services()).hasSize(1);
    assertThat(problems).containsExactly("TrafficSplit shop/broken (resourceVersion 42) is left out of the mesh:"
        + " spec.backends[0]: needs both service and weight");
  }

  @Test
  void namesExternalNameServicesAsAliasesOnly() {
    Service alias = new ServiceBuilder().withNewMetadata().withNamespace("shop").withName("stripe").endMetadata()
        .withNewSpec().withType("ExternalName").withExternalName("api.stripe.com").endSpec().build();

    MeshState state = build(List.of(alias, service("shop", "payments")), List.of(), List.of());

    assertThat(state.services()).containsOnlyKeys(new ServiceKey("shop", "payments"));
    assertThat(state.aliases()).containsExactly(new ServiceKey("shop", "stripe"));
  }

  @Test
  void aReusingBuilderConvertsOnlyReplacedObjectsAndBuildsWhatAFreshBuildDoes() {
    Service payments = service("shop", "payments");
    Service orders = service("shop", "orders");
    EndpointSlice paymentsSlice = slice("shop", "payments-1", "payments", "10.0.0.1").build();
    EndpointSlice ordersSlice = slice("shop", "orders-1", "orders", "10.0.1.1").build();
    TrafficSplit canary = split("shop", "canary", "2026-01-01T00:00:00Z", "payments",
        new TrafficSplitBackend("orders", 10));
    var pods = List.of(PodIdentitiesTest.pod("shop", "p-1", "payments-sa", true));
    var namespaces = List.of(PodIdentitiesTest.namespace("shop", java.util.Map.of()));
    MeshStateBuilder builder = new MeshStateBuilder();
    MeshState first = builder.next(List.of(payments, orders), List.of(paymentsSlice, ordersSlice), pods, namespaces,
        List.of(canary), List.of(), problems::add);

    // The informer cache replaced the orders slice and the split; everything else is the same objects.
    EndpointSlice ordersMoved = slice("shop", "orders-1", "orders", "10.0.1.2").build();
    TrafficSplit edited = split("shop", "canary", "2026-01-01T00:00:00Z", "payments",
        new TrafficSplitBackend("orders", 20));
    MeshState next = builder.next(List.of(orders, payments), List.of(ordersMoved, paymentsSlice), pods, namespaces,
        List.of(edited), List.of(), problems::add);

    ServiceKey paymentsKey = new ServiceKey("shop", "payments");
    ServiceKey ordersKey = new ServiceKey("shop", "orders");
    assertThat(next.services().get(paymentsKey)).isSameAs(first.services().get(paymentsKey));
    assertThat(next.services().get(ordersKey)).isNotSameAs(first.services().get(ordersKey));
    assertThat(next).isEqualTo(MeshStateBuilder.build(List.of(payments, orders), List.of(paymentsSlice, ordersMoved),
        pods, namespaces, List.of(edited), List.of(), problem -> { }));
    assertThat(next.splits()).extracting(rule -> rule.backends().get(0).weight()).containsExactly(20);
    assertThat(problems).isEmpty();
  }

  @Test
  void aReusingBuilderConvertsAgainWhenAPodsIdentityChanges() {
    Service payments = service("shop", "payments");
    EndpointSlice slice = PodIdentitiesTest.slice("shop", "p-1");
    var namespaces = List.of(PodIdentitiesTest.namespace("shop", java.util.Map.of()));
    MeshStateBuilder builder = new MeshStateBuilder();
    MeshState first = builder.next(List.of(payments), List.of(slice),
        List.of(PodIdentitiesTest.pod("shop", "p-1", "old-sa", true)), namespaces, List.of(), List.of(), problems::add);

    var pods = List.of(PodIdentitiesTest.pod("shop", "p-1", "new-sa", true));
    MeshState next = builder.next(List.of(payments), List.of(slice), pods, namespaces, List.of(), List.of(),
        problems::add);

    assertThat(next).isEqualTo(MeshStateBuilder.build(List.of(payments), List.of(slice), pods, namespaces, List.of(),
        List.of(), problem -> { }));
    assertThat(next.services().get(new ServiceKey("shop", "payments")).serviceAccounts()).containsExactly("new-sa");
    assertThat(first.services().get(new ServiceKey("shop", "payments")).serviceAccounts()).containsExactly("old-sa");
  }
}
