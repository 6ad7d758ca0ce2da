package dev.weft.xds.translate;

import static dev.weft.xds.translate.Meshes.endpoint;
import static dev.weft.xds.translate.Meshes.http;
import static dev.weft.xds.translate.Meshes.key;
import static dev.weft.xds.translate.Meshes.service;
import static dev.weft.xds.translate.Meshes.state;
import static dev.weft.xds.translate.Meshes.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.Endpoint.Readiness;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.ServicePort;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.List;
import org.junit.jupiter.api.Test;

class EndpointTranslatorTest {

  private static final ServicePort HTTP = http(80);

  private final EndpointTranslator translator = new EndpointTranslator();

  private ClusterLoadAssignment assignment(Endpoint... endpoints) {
    MeshService service = service(key("payments"), "10.0.0.1", List.of(HTTP), List.of(endpoints));
    return translator.assignment(service, HTTP);
  }

  @Test
  void sendsReadyEndpointsAsHealthyInTheirZone() {
    ClusterLoadAssignment assignment = assignment(endpoint("10.1.0.1", HTTP, Readiness.READY, "eu-1a"));

    assertThat(assignment).isEqualTo(TextProtos.parse("""
        cluster_name: "outbound|80|payments.shop.svc.cluster.local"
        endpoints {
          locality { zone: "eu-1a" }
          lb_endpoints {
            endpoint { address { socket_address { address: "10.1.0.1" port_value: 1080 } } }
            health_status: HEALTHY
          }
          load_balancing_weight { value: 1 }
        }
        """, ClusterLoadAssignment.getDefaultInstance()));
  }

  @Test
  void drainsTerminatingEndpointsAndLeavesOutUnreadyOnes() {
    ClusterLoadAssignment assignment = assignment(
        endpoint("10.1.0.1", HTTP, Readiness.READY, ""),
        endpoint("10.1.0.2", HTTP, Readiness.DRAINING, ""),
        endpoint("10.1.0.3", HTTP, Readiness.NOT_READY, ""));

    List<LbEndpoint> endpoints = assignment.getEndpoints(0).getLbEndpointsList();
    assertThat(endpoints).extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress())
        .containsExactly("10.1.0.1", "10.1.0.2");
    assertThat(endpoints).extracting(LbEndpoint::getHealthStatus)
        .containsExactly(HealthStatus.HEALTHY, HealthStatus.DRAINING);
  }

  @Test
  void groupsEndpointsByZoneWeightedByReadyEndpoints() {
    ClusterLoadAssignment assignment = assignment(
        endpoint("10.1.0.3", HTTP, Readiness.READY, "b"),
        endpoint("10.1.0.1", HTTP, Readiness.READY, "a"),
        endpoint("10.1.0.2", HTTP, Readiness.READY, "a"),
        endpoint("10.1.0.4", HTTP, Readiness.DRAINING, "c"));

    assertThat(assignment.getEndpointsList()).extracting(l -> l.getLocality().getZone()).containsExactly("a", "b", "c");
    assertThat(assignment.getEndpointsList()).extracting(l -> l.getLoadBalancingWeight().getValue())
        .containsExactly(2, 1, 1);
    assertThat(assignment.getEndpoints(0).getLbEndpointsCount()).isEqualTo(2);
  }

  @Test
  void keepsAnEmptyAssignmentForAPortWithoutEndpoints() {
    ClusterLoadAssignment assignment = assignment(endpoint("10.1.0.3", HTTP, Readiness.NOT_READY, ""));

    assertThat(assignment.getClusterName()).isEqualTo("outbound|80|payments.shop.svc.cluster.local");
    assertThat(assignment.getEndpointsList()).isEmpty();
  }

  @Test
  void tiesEndpointsToServicePortsByPortName() {
    ServicePort db = tcp(5432);
    MeshService service = service(key("mixed"), "10.0.0.9", List.of(HTTP, db), List.of(
        endpoint("10.1.0.1", HTTP, Readiness.READY, ""),
        endpoint("10.1.0.1", db, Readiness.READY, "")));

    List<ClusterLoadAssignment> assignments = translator.translate(state(service));

    assertThat(assignments).extracting(ClusterLoadAssignment::getClusterName)
        .containsExactly("outbound|5432|mixed.shop.svc.cluster.local", "outbound|80|mixed.shop.svc.cluster.local");
    assertThat(assignments).extracting(a -> a.getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress()
        .getSocketAddress().getPortValue()).containsExactly(6432, 1080);
  }

  @Test
  void listsAnEndpointOnceWhenTwoSlicesCarryIt() {
    ClusterLoadAssignment assignment = assignment(
        endpoint("10.1.0.1", HTTP, Readiness.DRAINING, ""),
        endpoint("10.1.0.1", HTTP, Readiness.READY, ""));

    assertThat(assignment.getEndpointsList()).flatExtracting(LocalityLbEndpoints::getLbEndpointsList)
        .extracting(LbEndpoint::getHealthStatus).containsExactly(HealthStatus.HEALTHY);
  }

  @Test
  void leavesOutAddressesThatAreNotIpLiterals() {
    ClusterLoadAssignment assignment = assignment(
        endpoint("pod.example", HTTP, Readiness.READY, ""),
        endpoint("fd00::12", HTTP, Readiness.READY, ""));

    assertThat(assignment.getEndpointsList()).flatExtracting(LocalityLbEndpoints::getLbEndpointsList)
        .extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress()).containsExactly("fd00::12");
  }
}
