package dev.weft.xds.translate;

import com.google.protobuf.UInt32Value;
import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServicePort;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * EDS: one endpoint assignment per Service port, named like its cluster, from the endpoints whose
 * port name matches (as EndpointSlices tie endpoints to Service ports).
 *
 * <ul>
 *   <li>READY endpoints are {@code HEALTHY} and get new requests.
 *   <li>DRAINING (terminating but still serving) endpoints are sent with health status
 *       {@code DRAINING}: Envoy treats them as unhealthy for load balancing, so they get no new
 *       requests, while requests and connections already on them finish. Envoy's panic threshold
 *       (50% by default) still applies: when fewer than half of a port's endpoints are ready,
 *       Envoy spreads requests over all of them, draining ones included, much as Kubernetes falls
 *       back to serving-but-terminating endpoints when no ready one is left.
 *   <li>NOT_READY endpoints, and endpoints whose address is not an IP literal, are left out.
 *   <li>In a Service with meshed endpoints (whose cluster speaks mTLS), an endpoint whose pod is
 *       not meshed carries {@code envoy.transport_socket_match} metadata that selects the cluster's
 *       plaintext transport socket ({@link ClusterTranslator#PLAINTEXT_MATCH}); meshed endpoints,
 *       the common case, carry nothing.
 * </ul>
 *
 * <p>Endpoints are grouped into one locality per zone (Envoy and gRPC both refuse a locality twice),
 * each with a load-balancing weight equal to its number of ready endpoints (at least 1): Envoy
 * ignores locality weights unless locality-weighted balancing is on, but proxyless gRPC clients
 * drop localities that have none. A port without endpoints still gets its (empty) assignment, so
 * its cluster is never left waiting for one.
 */
public final class EndpointTranslator {

  /** Envoy looks up an endpoint's transport socket match under this filter name. */
  static final String TRANSPORT_SOCKET_MATCH = "envoy.transport_socket_match";
  private static final Metadata PLAINTEXT = Metadata.newBuilder()
      .putFilterMetadata(TRANSPORT_SOCKET_MATCH, ClusterTranslator.PLAINTEXT_ENDPOINT_METADATA).build();

  /** The assignment of every port of every Service, sorted by name (the order of the clusters). */
  public List<ClusterLoadAssignment> translate(MeshState state) {
    List<ClusterLoadAssignment> assignments = new ArrayList<>();
    for (MeshService service : state.services().values()) {
      for (ServicePort port : service.ports()) {
        assignments.add(assignment(service, port));
      }
    }
    assignments.sort(Comparator.comparing(ClusterLoadAssignment::getClusterName));
    // List.copyOf, not Stream.toList(): ProxyConfig's List.copyOf keeps this very list (it copies a
    // Stream.toList() result), so every config holds the one list and the xds-server builds its
    // endpoints map once for all of them.
    return List.copyOf(assignments);
  }

  /**
   * The assignment of one Service port. It depends on the Service's endpoints and on whether it
   * has identities at all (its cluster speaks mTLS), not on which identities.
   */
  public ClusterLoadAssignment assignment(MeshService service, ServicePort port) {
    boolean mtlsCluster = !service.serviceAccounts().isEmpty();
    // One entry per address:port: two EndpointSlices may list the same endpoint during a handover;
    // the more ready state wins.
    Map<String, Endpoint> unique = new TreeMap<>();
    for (Endpoint endpoint : service.endpointsOf(port)) {
      if (endpoint.readiness() == Endpoint.Readiness.NOT_READY || !IpLiteral.isValid(endpoint.address())
          || endpoint.port() < 1 || endpoint.port() > 65535) {
        continue;
      }
      unique.merge(endpoint.address() + "|" + endpoint.port(), endpoint,
          (a, b) -> a.readiness().compareTo(b.readiness()) <= 0 ? a : b);
    }
    Map<String, List<Endpoint>> byZone = new TreeMap<>();
    for (Endpoint endpoint : unique.values()) {
      byZone.computeIfAbsent(endpoint.zone(), z -> new ArrayList<>()).add(endpoint);
    }
    ClusterLoadAssignment.Builder assignment = ClusterLoadAssignment.newBuilder()
        .setClusterName(ResourceNames.outboundCluster(service.key(), port.port()));
    for (Map.Entry<String, List<Endpoint>> zone : byZone.entrySet()) {
      LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder();
      if (!zone.getKey().isEmpty()) {
        locality.setLocality(Locality.newBuilder().setZone(zone.getKey()));
      }
      int ready = 0;
      for (Endpoint endpoint : zone.getValue()) {
        boolean isReady = endpoint.readiness() == Endpoint.Readiness.READY;
        ready += isReady ? 1 : 0;
        LbEndpoint.Builder lbEndpoint = LbEndpoint.newBuilder()
            .setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                .setAddress(socketAddress(endpoint.address(), endpoint.port())))
            .setHealthStatus(isReady ? HealthStatus.HEALTHY : HealthStatus.DRAINING);
        if (mtlsCluster && !endpoint.isMeshed()) {
          lbEndpoint.setMetadata(PLAINTEXT);
        }
        locality.addLbEndpoints(lbEndpoint);
      }
      locality.setLoadBalancingWeight(UInt32Value.of(Math.max(1, ready)));
      assignment.addEndpoints(locality);
    }
    return assignment.build();
  }

  /** An assignment with one address, for STATIC clusters. */
  static ClusterLoadAssignment singleAddress(String clusterName, String address, int port) {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(clusterName)
        .addEndpoints(LocalityLbEndpoints.newBuilder()
            .addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                    .setAddress(socketAddress(address, port)))))
        .build();
  }

  static Address socketAddress(String address, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(address).setPortValue(port))
        .build();
  }
}
