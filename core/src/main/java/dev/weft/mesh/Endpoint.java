package dev.weft.mesh;

import java.util.Objects;

/**
 * One address:port that serves a Service port, from an EndpointSlice. {@code portName} ties it to
 * the {@link ServicePort} of the same name; {@code zone} may be empty. {@code serviceAccount} is the
 * ServiceAccount of the endpoint's pod when that pod is meshed (it has a Weft sidecar that takes
 * mTLS), and empty when it is not or its pod is unknown: a caller's sidecar speaks plaintext to it.
 */
public record Endpoint(String address, int port, String portName, Readiness readiness, String zone,
    String serviceAccount) {

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
    serviceAccount = serviceAccount == null ? "" : serviceAccount;
  }

  /** An endpoint outside the mesh (no sidecar known behind it). */
  public Endpoint(String address, int port, String portName, Readiness readiness, String zone) {
    this(address, port, portName, readiness, zone, "");
  }

  /** Whether a meshed sidecar stands in front of this endpoint, so callers reach it over mTLS. */
  public boolean isMeshed() {
    return !serviceAccount.isEmpty();
  }
}
