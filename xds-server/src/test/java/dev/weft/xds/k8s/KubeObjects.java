package dev.weft.xds.k8s;

import dev.weft.convert.MeshStateBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;

/** Services and EndpointSlices for the watcher's tests. */
final class KubeObjects {

  private KubeObjects() {}

  /** A ClusterIP Service with one HTTP port 80. */
  static Service service(String namespace, String name) {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
        .withNewSpec()
        .withClusterIP("10.96.0.10")
        .addNewPort().withName("http").withPort(80).withProtocol("TCP").endPort()
        .endSpec()
        .build();
  }

  /** A slice of {@code service} with one port {@code http}/8080 and one ready endpoint per address. */
  static EndpointSliceBuilder slice(String namespace, String name, String service, String... addresses) {
    EndpointSliceBuilder slice = new EndpointSliceBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name)
        .addToLabels(MeshStateBuilder.SERVICE_NAME_LABEL, service).endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort();
    for (String address : addresses) {
      slice.addNewEndpoint().withAddresses(address).withNewConditions().withReady(true).endConditions().endEndpoint();
    }
    return slice;
  }
}
