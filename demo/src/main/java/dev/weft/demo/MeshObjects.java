package dev.weft.demo;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes what the Service and EndpointSlice controllers would write for local pods: there is no
 * controller-manager in the test cluster, so the test lists the endpoints itself.
 */
public final class MeshObjects {

  public static final String HTTP = "http";
  public static final String SERVICE_NAME = "kubernetes.io/service-name";

  private final KubernetesClient client;
  private final String namespace;

  public MeshObjects(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  public void createNamespace() {
    Namespace ns = new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build();
    client.namespaces().resource(ns).serverSideApply();
  }

  /** A Service with one HTTP port whose target is the port its pods' apps serve on. */
  public Service service(String name, int port) {
    return service(name, port, HTTP);
  }

  /**
   * A Service with one port named {@code portName}; the name's prefix declares the protocol
   * ({@code grpc} makes an HTTP/2 port that proxyless gRPC clients get listeners for).
   */
  public Service service(String name, int port, String portName) {
    Service service = new ServiceBuilder()
        .withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
        .withNewSpec()
        .addNewPort().withName(portName).withPort(port).withNewTargetPort(portName).withProtocol("TCP").endPort()
        .withSelector(Map.of("app", name))
        .endSpec()
        .build();
    return client.services().resource(service).serverSideApply();
  }

  /** The Service's endpoints: every local pod, ready or draining (terminating but still serving). */
  public void endpoints(String service, List<LocalPod> ready, List<LocalPod> draining) {
    List<Member> members = new ArrayList<>();
    ready.forEach(pod -> members.add(new Member(pod.address(), pod.appPort(), true, pod.name())));
    draining.forEach(pod -> members.add(new Member(pod.address(), pod.appPort(), false, pod.name())));
    writeSlices(service, HTTP, members);
  }

  /**
   * The Service's endpoints when its pods have no sidecar (proxyless gRPC servers): every ready
   * address:port as it is, under the Service port {@code portName}.
   */
  public void endpoints(String service, String portName, List<InetSocketAddress> ready) {
    writeSlices(service, portName, ready.stream()
        .map(a -> new Member(a.getAddress().getHostAddress(), a.getPort(), true, null)).toList());
  }

  /**
   * One endpoint of a slice; not ready means draining: no new requests, in-flight ones finish.
   * {@code pod} names the Pod behind it (the slice's targetRef), null for none.
   */
  private record Member(String address, int port, boolean ready, String pod) {}

  private EndpointBuilder endpointBuilder(Member member) {
    return new EndpointBuilder().withAddresses(member.address())
        .withNewConditions()
        .withReady(member.ready()).withServing(true).withTerminating(!member.ready())
        .endConditions();
  }

  /** The endpoint as the EndpointSlice controller lists a pod: with a targetRef to it, which says who is behind it. */
  private io.fabric8.kubernetes.api.model.discovery.v1.Endpoint endpoint(Member member) {
    EndpointBuilder endpoint = endpointBuilder(member);
    if (member.pod() != null) {
      endpoint.withNewTargetRef().withKind("Pod").withNamespace(namespace).withName(member.pod()).endTargetRef();
    }
    return endpoint.build();
  }

  /**
   * One slice per port (as the EndpointSlice controller splits them). The apiserver refuses
   * loopback IPs in IPv4 slices, so local pods are listed in FQDN slices by their address literal.
   * Slices of ports no longer listed are deleted.
   */
  private void writeSlices(String service, String portName, List<Member> members) {
    Map<Integer, EndpointSliceBuilder> slices = new TreeMap<>();
    for (Member member : members) {
      slices.computeIfAbsent(member.port(), p -> new EndpointSliceBuilder()
              .withNewMetadata()
              .withName(service + "-" + p)
              .withNamespace(namespace)
              .addToLabels(SERVICE_NAME, service)
              .addToLabels("endpointslice.kubernetes.io/managed-by", "weft-local-pods")
              .endMetadata()
              .withAddressType("FQDN")
              .addNewPort().withName(portName).withPort(p).withProtocol("TCP").endPort())
          .addToEndpoints(endpoint(member));
    }
    List<String> wanted = new ArrayList<>();
    for (EndpointSliceBuilder slice : slices.values()) {
      wanted.add(client.discovery().v1().endpointSlices().resource(slice.build()).serverSideApply()
          .getMetadata().getName());
    }
    client.discovery().v1().endpointSlices().inNamespace(namespace)
        .withLabel(SERVICE_NAME, service).list().getItems().stream()
        .filter(s -> !wanted.contains(s.getMetadata().getName()))
        .forEach(s -> client.resource(s).delete());
  }
}
