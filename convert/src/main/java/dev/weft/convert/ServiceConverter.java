package dev.weft.convert;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a Service and the EndpointSlices that belong to it into the core's {@link MeshService}: the
 * one reading of a Service that the xds-server translates and the operator validates.
 */
public final class ServiceConverter {

  /** Orders endpoints so that equal cluster states give equal (record-equal) mesh states. */
  static final Comparator<Endpoint> ENDPOINT_ORDER = Comparator.comparing(Endpoint::portName)
      .thenComparingInt(Endpoint::port)
      .thenComparing(Endpoint::address);

  private ServiceConverter() {}

  /** Whether the mesh routes to this Service; ExternalName Services are DNS aliases with nothing to balance. */
  public static boolean isMeshed(Service service) {
    ServiceSpec spec = service.getSpec();
    return spec != null && !isAlias(service);
  }

  /** Whether the Service is only a DNS alias (type ExternalName). */
  public static boolean isAlias(Service service) {
    ServiceSpec spec = service.getSpec();
    return spec != null && "ExternalName".equals(spec.getType());
  }

  /** The Service's key: its namespace and name. */
  public static ServiceKey keyOf(Service service) {
    return new ServiceKey(service.getMetadata().getNamespace(), service.getMetadata().getName());
  }

  /** The Service with its TCP ports and the endpoints of {@code slices}, which must be its own; no identities. */
  public static MeshService toMeshService(Service service, Collection<EndpointSlice> slices) {
    return toMeshService(service, slices, PodIdentities.NONE);
  }

  /**
   * The Service with its TCP ports and the endpoints of {@code slices}, which must be its own, each
   * with the ServiceAccount of its pod when {@code identities} knows it as meshed.
   */
  public static MeshService toMeshService(Service service, Collection<EndpointSlice> slices,
      PodIdentities identities) {
    return new MeshService(keyOf(service), service.getSpec().getClusterIP(), ports(service),
        endpointsOf(slices, identities));
  }

  /**
   * The ports the mesh proxies, by number, with the protocol each declares: TCP only, since UDP and
   * SCTP ports bypass the sidecar.
   */
  public static List<ServicePort> ports(Service service) {
    ServiceSpec spec = service.getSpec();
    List<ServicePort> ports = new ArrayList<>();
    if (spec != null && spec.getPorts() != null) {
      for (io.fabric8.kubernetes.api.model.ServicePort port : spec.getPorts()) {
        if (isTcp(port.getProtocol()) && port.getPort() != null) {
          Protocol protocol = Protocol.declaredBy(port.getAppProtocol(), port.getName());
          ports.add(new ServicePort(port.getName(), port.getPort(), protocol));
        }
      }
    }
    ports.sort(Comparator.comparingInt(ServicePort::port));
    return ports;
  }

  /**
   * Every endpoint of the slices, one per address and slice port. While a slice is being split or
   * merged the same endpoint can show up in two slices; it is kept once, in its readiest state.
   */
  static List<Endpoint> endpointsOf(Collection<EndpointSlice> slices) {
    return endpointsOf(slices, PodIdentities.NONE);
  }

  static List<Endpoint> endpointsOf(Collection<EndpointSlice> slices, PodIdentities identities) {
    Map<List<Object>, Endpoint> unique = new LinkedHashMap<>();
    for (EndpointSlice slice : slices) {
      for (Endpoint endpoint : toEndpoints(slice, identities)) {
        unique.merge(List.of(endpoint.address(), endpoint.port(), endpoint.portName()), endpoint,
            (a, b) -> a.readiness().compareTo(b.readiness()) <= 0 ? a : b);
      }
    }
    List<Endpoint> endpoints = new ArrayList<>(unique.values());
    endpoints.sort(ENDPOINT_ORDER);
    return endpoints;
  }

  /**
   * The endpoints of one slice. FQDN slices count only with addresses that are IPv4 literals: the
   * apiserver refuses loopback IPs in IPv4 slices, and local pods (the demo, the end-to-end suite)
   * live on loopback addresses. Host names in FQDN slices are left out, as kube-proxy does; the
   * xDS server resolves no DNS.
   */
  static List<Endpoint> toEndpoints(EndpointSlice slice) {
    return toEndpoints(slice, PodIdentities.NONE);
  }

  static List<Endpoint> toEndpoints(EndpointSlice slice, PodIdentities identities) {
    boolean fqdn = "FQDN".equals(slice.getAddressType());
    if (!fqdn && !"IPv4".equals(slice.getAddressType()) && !"IPv6".equals(slice.getAddressType())) {
      return List.of();
    }
    if (slice.getEndpoints() == null || slice.getPorts() == null) {
      return List.of();
    }
    List<Endpoint> endpoints = new ArrayList<>();
    for (io.fabric8.kubernetes.api.model.discovery.v1.Endpoint endpoint : slice.getEndpoints()) {
      if (endpoint.getAddresses() == null) {
        continue;
      }
      Endpoint.Readiness readiness = readinessOf(endpoint.getConditions());
      String serviceAccount = identities.serviceAccountOf(slice.getMetadata().getNamespace(), endpoint.getTargetRef());
      for (EndpointPort port : slice.getPorts()) {
        // A port without a number means "all ports" (a headless Service without ports): nothing to dial.
        if (port.getPort() == null || !isTcp(port.getProtocol())) {
          continue;
        }
        for (String address : endpoint.getAddresses()) {
          if (fqdn && !isIpv4Literal(address)) {
            continue;
          }
          endpoints.add(new Endpoint(address, port.getPort(), port.getName(), readiness, endpoint.getZone(),
              serviceAccount));
        }
      }
    }
    return endpoints;
  }

  /**
   * Folds the slice conditions as the EndpointSlice API defines them: an unknown {@code ready}
   * counts as ready and an unknown {@code serving} defers to {@code ready}. {@code ready} is true
   * for a terminating endpoint only when the Service publishes not-ready addresses, and then the
   * user asked for it to get traffic.
   */
  static Endpoint.Readiness readinessOf(EndpointConditions conditions) {
    Boolean ready = conditions == null ? null : conditions.getReady();
    Boolean serving = conditions == null ? null : conditions.getServing();
    boolean terminating = conditions != null && Boolean.TRUE.equals(conditions.getTerminating());
    if (Boolean.TRUE.equals(ready) || (ready == null && !terminating)) {
      return Endpoint.Readiness.READY;
    }
    if (terminating && Boolean.TRUE.equals(serving == null ? ready : serving)) {
      return Endpoint.Readiness.DRAINING;
    }
    return Endpoint.Readiness.NOT_READY;
  }

  static boolean isIpv4Literal(String address) {
    String[] octets = address.split("\\.", -1);
    if (octets.length != 4) {
      return false;
    }
    for (String octet : octets) {
      if (!octet.matches("[0-9]{1,3}") || Integer.parseInt(octet) > 255) {
        return false;
      }
    }
    return true;
  }

  private static boolean isTcp(String protocol) {
    // The API defaults protocol to TCP; an object that skipped defaulting means the same.
    return protocol == null || protocol.equals("TCP");
  }
}
