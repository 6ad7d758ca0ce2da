package dev.weft.operator;

import dev.weft.runtime.MonitoringEndpoint;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The operator's HTTP side for the kubelet and Prometheus: {@code /healthz} (200 while the process
 * serves), {@code /readyz} (200 once the operator started and its informers are synced, else 503
 * with the reason; a standby that does not hold the Lease is ready too), {@code /metrics}.
 */
public final class OperatorEndpoint implements AutoCloseable {

  public static final int DEFAULT_PORT = 8080;

  private final MonitoringEndpoint endpoint;

  private OperatorEndpoint(MonitoringEndpoint endpoint) {
    this.endpoint = endpoint;
  }

  /**
   * Starts serving on {@code address} (port 0 picks a free one). {@code notReadyBecause} says why
   * the operator is not ready yet, or nothing once it is.
   */
  public static OperatorEndpoint start(InetSocketAddress address, Supplier<Optional<String>> notReadyBecause,
      PrometheusMeterRegistry registry) throws IOException {
    return new OperatorEndpoint(MonitoringEndpoint.start("operator", address, notReadyBecause, registry, Map.of()));
  }

  public int port() {
    return endpoint.port();
  }

  @Override
  public void close() {
    endpoint.close();
  }
}
