package dev.weft.convert;

import static dev.weft.convert.ServiceConverterTest.service;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServiceKey;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PodIdentitiesTest {

  final List<String> problems = new ArrayList<>();

  static Pod pod(String namespace, String name, String serviceAccount, boolean sidecar) {
    PodBuilder pod = new PodBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
        .withNewSpec().withServiceAccountName(serviceAccount)
        .addNewContainer().withName("app").endContainer().endSpec();
    if (sidecar) {
      pod.editSpec().addNewContainer().withName(MeshedPods.SIDECAR_CONTAINER).endContainer().endSpec();
    }
    return pod.build();
  }

  static Namespace namespace(String name, Map<String, String> labels) {
    return new NamespaceBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata().build();
  }

  /** A slice of payments whose endpoints target the named pods (null: no targetRef). */
  static EndpointSlice slice(String namespace, String... pods) {
    EndpointSliceBuilder slice = new EndpointSliceBuilder()
        .withNewMetadata().withNamespace(namespace).withName("payments-1")
        .addToLabels(MeshStateBuilder.SERVICE_NAME_LABEL, "payments").endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort();
    for (int i = 0; i < pods.length; i++) {
      var endpoint = slice.addNewEndpoint().withAddresses("10.0.0." + (i + 1)).withNewConditions().withReady(true)
          .endConditions();
      if (pods[i] != null) {
        endpoint.withNewTargetRef().withKind("Pod").withName(pods[i]).withNamespace(namespace).endTargetRef();
      }
      endpoint.endEndpoint();
    }
    return slice.build();
  }

  MeshService payments(MeshState state, String namespace) {
    return state.service(new ServiceKey(namespace, "payments")).orElseThrow();
  }

  @Test
  void anEndpointOfAMeshedPodCarriesItsServiceAccount() {
    MeshState state = MeshStateBuilder.build(List.of(service("shop", "payments")),
        List.of(slice("shop", "payments-1", "legacy-1", "unknown-1", null)),
        List.of(pod("shop", "payments-1", "payments", true), pod("shop", "legacy-1", "legacy", false)),
        List.of(namespace("shop", Map.of())), List.of(), List.of(), problems::add);

    assertThat(payments(state, "shop").endpoints()).extracting(Endpoint::address, Endpoint::serviceAccount)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("10.0.0.1", "payments"),
            org.assertj.core.groups.Tuple.tuple("10.0.0.2", ""),
            org.assertj.core.groups.Tuple.tuple("10.0.0.3", ""),
            org.assertj.core.groups.Tuple.tuple("10.0.0.4", ""));
    assertThat(payments(state, "shop").serviceAccounts()).containsExactly("payments");
    assertThat(problems).isEmpty();
  }

  @Test
  void aPodInAnInjectedNamespaceIsMeshedAndAPermissiveNamespaceIsNamed() {
    MeshState state = MeshStateBuilder.build(List.of(service("shop", "payments")),
        List.of(slice("shop", "payments-1")),
        List.of(pod("shop", "payments-1", null, false)),
        List.of(namespace("shop", Map.of("weft.dev/inject", "enabled", "weft.dev/mtls", "permissive")),
            namespace("strict", Map.of("weft.dev/mtls", "strict"))),
        List.of(), List.of(), problems::add);

    assertThat(payments(state, "shop").serviceAccounts()).containsExactly("default");
    assertThat(state.permissiveNamespaces()).containsExactly("shop");
    assertThat(state.isPermissive("strict")).isFalse();
  }

  @Test
  void aNamespaceScopesItsSidecarsToTheNamespacesItsAnnotationNames() {
    List<Namespace> namespaces = List.of(
        annotated("shop", " pay, ads ,"), annotated("pay", ""), annotated("ads", "*"), annotated("ops", "pay,Bad_Name"),
        namespace("web", Map.of()));

    MeshState state = MeshStateBuilder.build(List.of(), List.of(), List.of(), namespaces, List.of(), List.of(),
        problems::add);

    assertThat(state.outboundScope("shop")).contains(Set.of("shop", "pay", "ads"));
    assertThat(state.outboundScope("pay")).as("an empty list: its own namespace only").contains(Set.of("pay"));
    assertThat(state.outboundScope("ads")).as("*: the whole mesh").isEmpty();
    assertThat(state.outboundScope("web")).as("no annotation: the whole mesh").isEmpty();
    assertThat(state.outboundScope("ops")).as("a typo: the whole mesh, and a problem").isEmpty();
    assertThat(problems).containsExactly("Namespace ops: annotation weft.dev/outbound-namespaces names \"Bad_Name\", "
        + "which is not a namespace name; its sidecars route to the whole mesh until the annotation is a "
        + "comma-separated list of namespace names (or *)");
  }

  private static Namespace annotated(String name, String outboundNamespaces) {
    return new NamespaceBuilder().withNewMetadata().withName(name)
        .withAnnotations(Map.of(MeshStateBuilder.OUTBOUND_NAMESPACES_ANNOTATION, outboundNamespaces)).endMetadata().build();
  }
}
