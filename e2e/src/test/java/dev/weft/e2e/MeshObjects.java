package dev.weft.e2e;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes what the Service and EndpointSlice controllers would write for local pods: there is no
 * controller-manager in the test cluster, so the test lists the endpoints itself.
 */
final class MeshObjects {

  static final String HTTP = "http";
  static final String SERVICE_NAME = "kubernetes.io/service-name";

  private final KubernetesClient client;
  private final String namespace;

  MeshObjects(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  void createNamespace() {
    Namespace ns = new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build();
    client.namespaces().resource(ns).serverSideApply();
  }

  /** A Service with one HTTP port whose target is the port its pods' apps serve on. */
  Service service(String name, int port) {
    Service service = new ServiceBuilder()
        .withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
        .withNewSpec()
        .addNewPort().withName(HTTP).withPort(port).withNewTargetPort(HTTP).withProtocol("TCP").endPort()
        .withSelector(Map.of("app", name))
        .endSpec()
        .build();
    return client.services().resource(service).serverSideApply();
  }

  /**
   * The Service's endpoints: every pod, ready or draining, one slice per app port (as the
   * EndpointSlice controller splits them). The apiserver refuses loopback IPs in IPv4 slices, so
   * local pods are listed in FQDN slices by their address literal. Slices of ports no pod serves
   * any more are deleted.
   */
  void endpoints(String service, List<LocalPod> ready, List<LocalPod> draining) {
    Map<Integer, EndpointSliceBuilder> slices = new TreeMap<>();
    for (LocalPod pod : ready) {
      slice(slices, service, pod.appPort()).addToEndpoints(endpoint(pod, true));
    }
    for (LocalPod pod : draining) {
      slice(slices, service, pod.appPort()).addToEndpoints(endpoint(pod, false));
    }
    List<String> wanted = new ArrayList<>();
    for (EndpointSliceBuilder slice : slices.values()) {
      EndpointSlice applied = client.discovery().v1().endpointSlices().resource(slice.build()).serverSideApply();
      wanted.add(applied.getMetadata().getName());
    }
    client.discovery().v1().endpointSlices().inNamespace(namespace)
        .withLabel(SERVICE_NAME, service).list().getItems().stream()
        .filter(s -> !wanted.contains(s.getMetadata().getName()))
        .forEach(s -> client.resource(s).delete());
  }

  private EndpointSliceBuilder slice(Map<Integer, EndpointSliceBuilder> slices, String service, int port) {
    return slices.computeIfAbsent(port, p -> new EndpointSliceBuilder()
        .withNewMetadata()
        .withName(service + "-" + p)
        .withNamespace(namespace)
        .addToLabels(SERVICE_NAME, service)
        .addToLabels("endpointslice.kubernetes.io/managed-by", "weft-e2e")
        .endMetadata()
        .withAddressType("FQDN")
        .addNewPort().withName(HTTP).withPort(p).withProtocol("TCP").endPort());
  }

  private static Endpoint endpoint(LocalPod pod, boolean ready) {
    // A draining pod is terminating but still serving: no new requests, in-flight ones finish.
    return new EndpointBuilder().withAddresses(pod.address())
        .withNewConditions().withReady(ready).withServing(true).withTerminating(!ready).endConditions()
        .build();
  }
}
