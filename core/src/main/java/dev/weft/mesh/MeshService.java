package dev.weft.mesh;

import java.util.List;
import java.util.Optional;

/**
 * A Service of the mesh with its ports and the endpoints behind them. {@code clusterIp} is empty
 * for a headless Service.
 */
public record MeshService(ServiceKey key, String clusterIp, List<ServicePort> ports, List<Endpoint> endpoints) {

  public MeshService {
    clusterIp = clusterIp == null || clusterIp.equals("None") ? "" : clusterIp;
    ports = List.copyOf(ports);
    endpoints = List.copyOf(endpoints);
  }

  /** The port with this number, if the Service exposes it. */
  public Optional<ServicePort> port(int number) {
    return ports.stream().filter(p -> p.port() == number).findFirst();
  }

  /** Endpoints serving the given port (matched by port name, as EndpointSlices do). */
  public List<Endpoint> endpointsOf(ServicePort port) {
    return endpoints.stream().filter(e -> e.portName().equals(port.name())).toList();
  }
}
