package dev.weft.mesh;

import java.util.Locale;

/** What a Service port speaks, which decides between HTTP routing and a plain TCP proxy. */
public enum Protocol {
  HTTP,
  HTTP2,
  GRPC,
  TCP;

  /**
   * The protocol a port declares: its {@code appProtocol} first, else its name's prefix
   * ({@code http}, {@code http-web}, {@code grpc-api}, ...), as Istio and Linkerd users are used to.
   * Anything undeclared is TCP: proxying it byte for byte is always safe, parsing it as HTTP is not.
   */
  public static Protocol declaredBy(String appProtocol, String portName) {
    Protocol fromAppProtocol = fromName(appProtocol);
    if (fromAppProtocol != null) {
      return fromAppProtocol;
    }
    if (portName != null) {
      Protocol fromPortName = fromName(portName.split("-", 2)[0]);
      if (fromPortName != null) {
        return fromPortName;
      }
    }
    return TCP;
  }

  private static Protocol fromName(String name) {
    if (name == null || name.isBlank()) {
      return null;
    }
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "http", "http/1.1", "kubernetes.io/http" -> HTTP;
      case "http2", "h2c", "kubernetes.io/h2c" -> HTTP2;
      case "grpc" -> GRPC;
      case "tcp" -> TCP;
      default -> null;
    };
  }

  /** Whether requests on this port are parsed as HTTP, so routes, retries and timeouts apply. */
  public boolean isHttp() {
    return this != TCP;
  }
}
