package dev.weft.xds.translate;

import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServiceKey;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How a resource's reference to a Service resolves in a mesh state, in one wording wherever it is
 * checked: the translation's {@link TrafficPlan} and the operator's checks of kinds the translation
 * does not read yet (AccessPolicy).
 */
public final class ServiceRefs {

  private ServiceRefs() {}

  /**
   * The error when {@code key} is not a Service the mesh routes to: it does not exist, or it is a DNS
   * alias; the fix offered is to create (or replace) it, or {@code otherFix}.
   */
  public static Optional<FieldError> unresolved(MeshState state, ServiceKey key, String path, String otherFix) {
    if (state.service(key).isPresent()) {
      return Optional.empty();
    }
    String message = state.aliases().contains(key)
        ? "Service " + key + " is of type ExternalName, a DNS alias the mesh does not route; make it a Service "
            + "with endpoints or " + otherFix
        : "Service " + key + " does not exist; create it or " + otherFix;
    return Optional.of(new FieldError(path, FieldError.Reason.SERVICE_NOT_FOUND, message));
  }

  /** The error when {@code service} has no port {@code port}: names its ports, then {@code fix}. */
  public static Optional<FieldError> missingPort(MeshService service, int port, String path, String fix) {
    if (service.port(port).isPresent()) {
      return Optional.empty();
    }
    return Optional.of(new FieldError(path, FieldError.Reason.PORT_MISMATCH, "Service " + service.key()
        + " has no port " + port + "; its ports are " + portList(service) + "; " + fix));
  }

  /** The port numbers of a Service for a message, e.g. {@code [80, 8080]}. */
  public static String portList(MeshService service) {
    return service.ports().stream().map(p -> String.valueOf(p.port())).collect(Collectors.joining(", ", "[", "]"));
  }
}
