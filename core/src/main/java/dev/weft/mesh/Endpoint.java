package dev.weft.mesh;

import java.util.Objects;

/**
 * One address:port that serves a Service port, from an EndpointSlice. {@code portName} ties it to
 * the {@link ServicePort} of the same name; {@code zone} may be empty.
 */
public record Endpoint(String address, int port, String portName, Readiness readiness, String zone) {

  /** EndpointSlice conditions folded into what the proxy does with the endpoint. */
  public enum Readiness {
    /** Ready: receives new requests. */
    READY,
    /** Terminating but still serving: gets no new requests, existing ones drain. */
    DRAINING,
    /** Not ready: left out. */
    NOT_READY
  }

  public Endpoint {
    Objects.requireNonNull(address, "address");
    portName = portName == null ? "" : portName;
    Objects.requireNonNull(readiness, "readiness");
    zone = zone == null ? "" : zone;
  }
}
