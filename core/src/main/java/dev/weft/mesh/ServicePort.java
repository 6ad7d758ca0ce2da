package dev.weft.mesh;

import java.util.Objects;

/** One port of a Service: its name (may be empty for a single-port Service), number and protocol. */
public record ServicePort(String name, int port, Protocol protocol) {

  public ServicePort {
    name = name == null ? "" : name;
    Objects.requireNonNull(protocol, "protocol");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }
}
