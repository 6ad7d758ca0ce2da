package dev.weft.operator;

import dev.weft.operator.certificates.CertificateMetrics;
import dev.weft.operator.certificates.CertificatePlan;
import dev.weft.operator.certificates.CertificateSummary;
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
 *   <li>{@code weft_operator_leader}: 1 while this instance holds the Lease (or runs without leader election);</li>
 *   <li>{@code weft_operator_certificate_actions_total{action, cause}}: workload certificates issued
 *       (cause new, renewal, expired, root_changed, invalid), bundles rewritten, Secrets deleted;</li>
 *   <li>{@code weft_operator_certificates{state}}: certificates found by the last pass, issued and expiring
 *       (an alert on expiring &gt; 0 catches renewals that stopped);</li>
 *   <li>{@code weft_operator_ca_root_expiry_seconds}: seconds until the mesh root expires (rotate before 0),
 *       -1 while the CA is unusable.</li>
 * </ul>
 * JOSDK's own Micrometer integration lives in a separate artifact with per-resource labels; this
 * is the small part of it the operator needs.
 */
public final class OperatorMetrics implements Metrics, CertificateMetrics {

  private final MeterRegistry registry;
  private final java.time.Clock clock;
  private final AtomicInteger leader = new AtomicInteger();
  private final AtomicInteger certificatesIssued = new AtomicInteger();
  private final AtomicInteger certificatesExpiring = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicReference<java.time.Instant> rootExpiry =
      new java.util.concurrent.atomic.AtomicReference<>();

  public OperatorMetrics(MeterRegistry registry) {
    this(registry, java.time.Clock.systemUTC());
  }

  OperatorMetrics(MeterRegistry registry, java.time.Clock clock) {
    this.registry = registry;
    this.clock = clock;
    Gauge.builder("weft.operator.leader", leader, AtomicInteger::get)
        .description("1 while this instance is the leader and reconciles, else 0")
        .register(registry);
    Gauge.builder("weft.operator.certificates", certificatesIssued, AtomicInteger::get)
        .description("Workload certificates found by the last pass").tag("state", "issued").register(registry);
    Gauge.builder("weft.operator.certificates", certificatesExpiring, AtomicInteger::get)
        .description("Workload certificates found by the last pass").tag("state", "expiring").register(registry);
    Gauge.builder("weft.operator.ca.root.expiry", rootExpiry, r -> r.get() == null ? -1
            : java.time.Duration.between(clock.instant(), r.get()).toSeconds())
        .description("Seconds until the mesh root CA expires; -1 while the CA is unusable")
        .baseUnit("seconds").register(registry);
  }

  @Override
  public void applied(CertificatePlan.Action action) {
    Counter.builder("weft.operator.certificate.actions")
        .description("Workload certificates issued, trust bundles rewritten and certificate Secrets deleted")
        .tag("action", action.kind().name().toLowerCase(java.util.Locale.ROOT))
        .tag("cause", action.cause().label())
        .register(registry)
        .increment();
  }

  @Override
  public void summary(CertificateSummary summary) {
    certificatesIssued.set(summary.issued());
    certificatesExpiring.set(summary.expiring().size());
    rootExpiry.set(summary.caProblem().isPresent() ? null : summary.caExpiry().orElse(null));
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
