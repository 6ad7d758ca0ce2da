package dev.weft.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The operator's Prometheus metrics, fed by JOSDK through its {@link Metrics} hook and by the
 * reconcilers. Labels are bounded (kind, outcome, condition, reason), never per resource:
 * <ul>
 *   <li>{@code weft_operator_reconcile_duration_seconds{kind, operation, outcome}}: each reconciliation,
 *       outcome success or failure;</li>
 *   <li>{@code weft_operator_reconcile_errors_total{kind}}: reconciliations that threw (JOSDK retries them);</li>
 *   <li>{@code weft_operator_validation_failures_total{kind, condition, reason}}: conditions that turned False;</li>
 *   <li>{@code weft_operator_leader}: 1 while this instance holds the Lease (or runs without leader election).</li>
 * </ul>
 * JOSDK's own Micrometer integration lives in a separate artifact with per-resource labels; this
 * is the small part of it the operator needs.
 */
public final class OperatorMetrics implements Metrics {

  private final MeterRegistry registry;
  private final AtomicInteger leader = new AtomicInteger();

  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("weft.operator.leader", leader, AtomicInteger::get)
        .description("1 while this instance is the leader and reconciles, else 0")
        .register(registry);
  }

  @Override
  public <T> T timeControllerExecution(ControllerExecution<T> execution) throws Exception {
    Timer.Sample sample = Timer.start(registry);
    String outcome = "failure";
    try {
      T result = execution.execute();
      outcome = "success";
      return result;
    } finally {
      sample.stop(Timer.builder("weft.operator.reconcile.duration")
          .description("Time spent in one reconciliation, including the status write")
          .tag("kind", execution.controllerName())
          .tag("operation", execution.name())
          .tag("outcome", outcome)
          .register(registry));
    }
  }

  @Override
  public void failedReconciliation(HasMetadata resource, Exception exception, Map<String, Object> metadata) {
    Counter.builder("weft.operator.reconcile.errors")
        .description("Reconciliations that failed with an exception; JOSDK retries them with backoff")
        .tag("kind", resource.getKind())
        .register(registry)
        .increment();
  }

  /** A condition of a resource of {@code kind} turned False for {@code reason}. */
  public void validationFailure(String kind, String condition, String reason) {
    Counter.builder("weft.operator.validation.failures")
        .description("Conditions that turned False, by kind, condition type and reason")
        .tag("kind", kind)
        .tag("condition", condition)
        .tag("reason", reason)
        .register(registry)
        .increment();
  }

  void leader(boolean leading) {
    leader.set(leading ? 1 : 0);
  }
}
