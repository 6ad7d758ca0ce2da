package dev.weft.operator.validation;

import dev.weft.mesh.Protocol;
import dev.weft.mesh.ServicePort;
import io.fabric8.kubernetes.api.model.Service;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A Service as validation sees it: its type and its TCP ports with the protocol each declares,
 * read the way the xds-server reads them (UDP and SCTP ports bypass the sidecar, so they do not count).
 */
public record ServiceView(String name, String type, List<ServicePort> ports) {

  public ServiceView {
    Objects.requireNonNull(name, "name");
    type = type == null ? "ClusterIP" : type;
    ports = ports.stream().sorted(Comparator.comparingInt(ServicePort::port)).toList();
  }

  /** The view of a Kubernetes Service. */
  public static ServiceView of(Service service) {
    List<ServicePort> ports = new ArrayList<>();
    if (service.getSpec() != null && service.getSpec().getPorts() != null) {
      for (io.fabric8.kubernetes.api.model.ServicePort port : service.getSpec().getPorts()) {
        String protocol = port.getProtocol();
        if (port.getPort() != null && (protocol == null || protocol.equals("TCP"))) {
          ports.add(new ServicePort(port.getName(), port.getPort(), Protocol.declaredBy(port.getAppProtocol(),
              port.getName())));
        }
      }
    }
    String type = service.getSpec() == null ? null : service.getSpec().getType();
    return new ServiceView(service.getMetadata().getName(), type, ports);
  }

  /** Whether the mesh routes to this Service; an ExternalName Service is a DNS alias with no endpoints. */
  public boolean routable() {
    return !type.equals("ExternalName");
  }

  public Optional<ServicePort> port(int number) {
    return ports.stream().filter(p -> p.port() == number).findFirst();
  }

  public List<ServicePort> httpPorts() {
    return ports.stream().filter(p -> p.protocol().isHttp()).toList();
  }

  /** The port numbers for a message, e.g. {@code [80, 8080]}. */
  public String portList() {
    return ports.stream().map(p -> String.valueOf(p.port())).collect(Collectors.joining(", ", "[", "]"));
  }
}
