package dev.weft.mesh;

import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A Service of the mesh with its ports and the endpoints behind them. {@code clusterIp} is empty
 * for a headless Service. {@code serviceAccounts} are the identities behind it: the ServiceAccounts
 * of its meshed endpoints' pods, sorted; a caller's sidecar accepts only these SPIFFE IDs from it.
 * It is kept apart from the endpoints so that pods coming and going under the same identities
 * change the endpoints alone.
 */
public record MeshService(ServiceKey key, String clusterIp, List<ServicePort> ports, List<Endpoint> endpoints,
    Set<String> serviceAccounts) {

  public MeshService {
    clusterIp = clusterIp == null || clusterIp.equals("None") ? "" : clusterIp;
    ports = List.copyOf(ports);
    endpoints = List.copyOf(endpoints);
    serviceAccounts = Collections.unmodifiableSet(new TreeSet<>(serviceAccounts));
  }

  /** A Service whose identities are those of its meshed endpoints. */
  public MeshService(ServiceKey key, String clusterIp, List<ServicePort> ports, List<Endpoint> endpoints) {
    this(key, clusterIp, ports, endpoints, serviceAccountsOf(endpoints));
  }

  /** The port with this number, if the Service exposes it. */
  public Optional<ServicePort> port(int number) {
    // A loop, not a stream: the translation asks this for every port of every Service on each change.
    for (ServicePort port : ports) {
      if (port.port() == number) {
        return Optional.of(port);
      }
    }
    return Optional.empty();
  }

  /** Endpoints serving the given port (matched by port name, as EndpointSlices do). */
  public List<Endpoint> endpointsOf(ServicePort port) {
    return endpoints.stream().filter(e -> e.portName().equals(port.name())).toList();
  }

  /** The same Service without endpoints, keeping its identities. */
  public MeshService withoutEndpoints() {
    return new MeshService(key, clusterIp, ports, List.of(), serviceAccounts);
  }

  private static Set<String> serviceAccountsOf(List<Endpoint> endpoints) {
    Set<String> accounts = new TreeSet<>();
    for (Endpoint endpoint : endpoints) {
      if (endpoint.isMeshed()) {
        accounts.add(endpoint.serviceAccount());
      }
    }
    return accounts;
  }
}
