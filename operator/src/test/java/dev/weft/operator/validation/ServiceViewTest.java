package dev.weft.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.Protocol;
import dev.weft.mesh.ServicePort;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import org.junit.jupiter.api.Test;

class ServiceViewTest {

  @Test
  void readsTcpPortsWithTheirDeclaredProtocolAsTheXdsServerDoes() {
    Service service = new ServiceBuilder().withNewMetadata().withName("payments").withNamespace("shop").endMetadata()
        .withNewSpec()
          .addNewPort().withName("http-web").withPort(8080).endPort()
          .addNewPort().withName("metrics").withPort(9090).withAppProtocol("http").endPort()
          .addNewPort().withName("grpc").withPort(50051).withProtocol("TCP").endPort()
          .addNewPort().withName("db").withPort(5432).endPort()
          .addNewPort().withName("dns").withPort(53).withProtocol("UDP").endPort()
        .endSpec().build();

    ServiceView view = ServiceView.of(service);

    assertThat(view.ports()).containsExactly(
        new ServicePort("db", 5432, Protocol.TCP),
        new ServicePort("http-web", 8080, Protocol.HTTP),
        new ServicePort("metrics", 9090, Protocol.HTTP),
        new ServicePort("grpc", 50051, Protocol.GRPC));
    assertThat(view.httpPorts()).extracting(ServicePort::port).containsExactly(8080, 9090, 50051);
    assertThat(view.portList()).isEqualTo("[5432, 8080, 9090, 50051]");
    assertThat(view.routable()).isTrue();
  }

  @Test
  void anExternalNameServiceIsNotRoutable() {
    Service service = new ServiceBuilder().withNewMetadata().withName("legacy").endMetadata()
        .withNewSpec().withType("ExternalName").withExternalName("legacy.example.com").endSpec().build();

    assertThat(ServiceView.of(service).routable()).isFalse();
  }
}
