package dev.weft.convert;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.Endpoint.Readiness;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditionsBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ServiceConverterTest {

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

  @Test
  void mapsServicePortsWithTheirDeclaredProtocol() {
    Service service = new ServiceBuilder(service("shop", "payments"))
        .editSpec()
        .withPorts()
        .addNewPort().withName("grpc-api").withPort(9090).endPort()
        .addNewPort().withName("web").withAppProtocol("kubernetes.io/h2c").withPort(8443).withProtocol("TCP").endPort()
        .addNewPort().withName("db").withPort(5432).withProtocol("TCP").endPort()
        .addNewPort().withName("http").withPort(80).withProtocol("TCP").endPort()
        .addNewPort().withName("dns").withPort(53).withProtocol("UDP").endPort()
        .endSpec()
        .build();

    MeshService meshService = ServiceConverter.toMeshService(service, List.of());

    assertThat(meshService.key()).isEqualTo(new ServiceKey("shop", "payments"));
    assertThat(meshService.clusterIp()).isEqualTo("10.96.0.10");
    assertThat(meshService.ports()).containsExactly(
        new ServicePort("http", 80, Protocol.HTTP),
        new ServicePort("db", 5432, Protocol.TCP),
        new ServicePort("web", 8443, Protocol.HTTP2),
        new ServicePort("grpc-api", 9090, Protocol.GRPC));
  }

  @Test
  void keepsAHeadlessServiceWithoutClusterIp() {
    Service headless = new ServiceBuilder(service("shop", "db")).editSpec().withClusterIP("None").endSpec().build();

    assertThat(ServiceConverter.toMeshService(headless, List.of()).clusterIp()).isEmpty();
  }

  @Test
  void makesOneEndpointPerAddressAndSlicePort() {
    EndpointSlice slice = slice("shop", "payments-abc", "payments")
        .addNewPort().withName("metrics").withPort(9102).endPort()
        .addNewEndpoint().withAddresses("10.0.0.1", "10.0.0.2").withZone("zone-a")
        .withNewConditions().withReady(true).endConditions().endEndpoint()
        .build();

    assertThat(ServiceConverter.toEndpoints(slice)).containsExactlyInAnyOrder(
        new Endpoint("10.0.0.1", 8080, "http", Readiness.READY, "zone-a"),
        new Endpoint("10.0.0.2", 8080, "http", Readiness.READY, "zone-a"),
        new Endpoint("10.0.0.1", 9102, "metrics", Readiness.READY, "zone-a"),
        new Endpoint("10.0.0.2", 9102, "metrics", Readiness.READY, "zone-a"));
  }

  @Test
  void takesIpv6SlicesAndLeavesFqdnHostNamesOut() {
    EndpointSlice ipv6 = slice("shop", "payments-v6", "payments", "fd00::1").withAddressType("IPv6").build();
    EndpointSlice fqdn = slice("shop", "payments-dns", "payments", "payments.example.com").withAddressType("FQDN").build();

    assertThat(ServiceConverter.toEndpoints(ipv6)).extracting(Endpoint::address).containsExactly("fd00::1");
    assertThat(ServiceConverter.toEndpoints(fqdn)).isEmpty();
  }

  @Test
  void takesIpv4LiteralsFromFqdnSlicesForLocalPods() {
    EndpointSlice local = slice("shop", "payments-local", "payments", "127.0.10.11").withAddressType("FQDN").build();
    EndpointSlice almost = slice("shop", "payments-odd", "payments", "127.0.10.256").withAddressType("FQDN").build();

    assertThat(ServiceConverter.toEndpoints(local)).extracting(Endpoint::address).containsExactly("127.0.10.11");
    assertThat(ServiceConverter.toEndpoints(almost)).isEmpty();
  }

  @Test
  void leavesOutPortsWithoutNumberAndNonTcpPorts() {
    EndpointSlice slice = slice("shop", "payments-abc", "payments", "10.0.0.1")
        .withPorts()
        .addNewPort().withName("all").endPort()
        .addNewPort().withName("dns").withPort(53).withProtocol("UDP").endPort()
        .addNewPort().withName("http").withPort(8080).endPort()
        .build();

    assertThat(ServiceConverter.toEndpoints(slice)).extracting(Endpoint::portName).containsExactly("http");
  }

  @Test
  void mapsTerminatingServingEndpointToDraining() {
    EndpointConditions conditions =
        new EndpointConditionsBuilder().withReady(false).withServing(true).withTerminating(true).build();

    assertThat(ServiceConverter.readinessOf(conditions)).isEqualTo(Readiness.DRAINING);
  }

  @ParameterizedTest(name = "ready={0} serving={1} terminating={2} -> {3}")
  @CsvSource(nullValues = "null", value = {
      "true, true, false, READY",
      "null, null, null, READY",
      "true, null, null, READY",
      // publishNotReadyAddresses: the user wants terminating pods to keep getting traffic.
      "true, true, true, READY",
      "false, true, true, DRAINING",
      "null, true, true, DRAINING",
      "false, false, true, NOT_READY",
      "false, null, true, NOT_READY",
      "null, null, true, NOT_READY",
      "false, false, false, NOT_READY",
      "false, null, null, NOT_READY",
      // Not terminating but serving without being ready cannot happen in practice; not ready wins.
      "false, true, false, NOT_READY",
  })
  void foldsEndpointConditionsIntoReadiness(Boolean ready, Boolean serving, Boolean terminating, Readiness expected) {
    EndpointConditions conditions =
        new EndpointConditionsBuilder().withReady(ready).withServing(serving).withTerminating(terminating).build();

    assertThat(ServiceConverter.readinessOf(conditions)).isEqualTo(expected);
  }

  @Test
  void treatsMissingConditionsAsReady() {
    assertThat(ServiceConverter.readinessOf(null)).isEqualTo(Readiness.READY);
  }

  @Test
  void keepsAnEndpointListedInTwoSlicesOnceInItsReadiestState() {
    EndpointSlice old = slice("shop", "payments-old", "payments").addNewEndpoint().withAddresses("10.0.0.1")
        .withNewConditions().withReady(false).withServing(true).withTerminating(true).endConditions().endEndpoint()
        .build();
    EndpointSlice moved = slice("shop", "payments-new", "payments", "10.0.0.1", "10.0.0.2").build();

    assertThat(ServiceConverter.endpointsOf(List.of(old, moved))).containsExactly(
        new Endpoint("10.0.0.1", 8080, "http", Readiness.READY, ""),
        new Endpoint("10.0.0.2", 8080, "http", Readiness.READY, ""));
  }

  @Test
  void leavesOutExternalNameServicesAsAliases() {
    Service alias = new ServiceBuilder().withNewMetadata().withNamespace("shop").withName("stripe").endMetadata()
        .withNewSpec().withType("ExternalName").withExternalName("api.stripe.com").endSpec().build();

    assertThat(ServiceConverter.isMeshed(alias)).isFalse();
    assertThat(ServiceConverter.isAlias(alias)).isTrue();
    assertThat(ServiceConverter.isMeshed(service("shop", "payments"))).isTrue();
    assertThat(ServiceConverter.isAlias(service("shop", "payments"))).isFalse();
  }

  @Test
  void readsPortsWithoutProtocolAsTcpAndNamesOrAppProtocolAsHttp() {
    Service service = new ServiceBuilder().withNewMetadata().withName("payments").withNamespace("shop").endMetadata()
        .withNewSpec()
          .addNewPort().withName("http-web").withPort(8080).endPort()
          .addNewPort().withName("metrics").withPort(9090).withAppProtocol("http").endPort()
          .addNewPort().withName("db").withPort(5432).endPort()
        .endSpec().build();

    assertThat(ServiceConverter.ports(service)).containsExactly(
        new ServicePort("db", 5432, Protocol.TCP),
        new ServicePort("http-web", 8080, Protocol.HTTP),
        new ServicePort("metrics", 9090, Protocol.HTTP));
  }
}
