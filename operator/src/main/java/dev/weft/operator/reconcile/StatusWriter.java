package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.ResourceStatus;
import dev.weft.operator.OperatorMetrics;
import dev.weft.operator.status.ConditionChange;
import dev.weft.operator.status.ConditionState;
import dev.weft.operator.status.StatusConditions;
import dev.weft.operator.validation.Verdict;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a verdict on a resource: computes the next conditions, and only when they differ from what
 * is stored, applies the status (server-side apply of a fresh object that holds nothing but the
 * status, so the spec is never written), records an Event per changed condition, logs one line
 * and counts validation failures.
 *
 * <p>The patch goes through JOSDK's {@link PrimaryUpdateAndCacheUtils}, which also puts the result
 * into the reconciler's cache. {@code UpdateControl.patchStatus} would not: a reconciliation queued
 * right behind this one (a burst of changes) would read the old status from the informer, stamp a
 * new lastTransitionTime and record every Event twice.
 */
final class StatusWriter<P extends CustomResource<?, ResourceStatus>> {

  private static final Logger LOG = LoggerFactory.getLogger(StatusWriter.class);

  private final Supplier<P> blank;
  private final EventRecorder events;
  private final OperatorMetrics metrics;
  private final Clock clock;

  StatusWriter(Supplier<P> blank, EventRecorder events, OperatorMetrics metrics, Clock clock) {
    this.blank = blank;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** Writes Accepted and ResolvedRefs from {@code verdict}, and {@code more}: the kind's other conditions, by type. */
  UpdateControl<P> write(P resource, Verdict verdict, Map<String, ConditionState> more, Context<P> context) {
    long generation = resource.getMetadata().getGeneration() == null ? 0 : resource.getMetadata().getGeneration();
    StatusConditions.Update update = StatusConditions.next(resource.getStatus(), verdict, more, generation,
        clock.instant());
    if (!update.changed()) {
      return UpdateControl.noUpdate();
    }
    P fresh = blank.get();
    fresh.setMetadata(new ObjectMetaBuilder()
        .withName(resource.getMetadata().getName())
        .withNamespace(resource.getMetadata().getNamespace())
        .build());
    fresh.setSpec(null);
    fresh.setStatus(update.status());
    PrimaryUpdateAndCacheUtils.ssaPatchStatusAndCacheResource(resource, fresh, context);
    log(resource, update);
    for (ConditionChange change : update.changes()) {
      events.record(resource, change);
      if (change.isWarning()) {
        metrics.validationFailure(resource.getKind(), change.type(), change.current().getReason());
      }
    }
    return UpdateControl.noUpdate();
  }

  private void log(P resource, StatusConditions.Update update) {
    StringBuilder line = new StringBuilder("status written kind=").append(resource.getKind())
        .append(" namespace=").append(resource.getMetadata().getNamespace())
        .append(" name=").append(resource.getMetadata().getName())
        .append(" generation=").append(update.status().getObservedGeneration());
    boolean healthy = true;
    for (Condition condition : update.status().getConditions()) {
      line.append(' ').append(condition.getType()).append('=').append(condition.getStatus())
          .append('/').append(condition.getReason());
      // Unknown (Programmed while proxies catch up) is no reason to warn.
      healthy &= condition.getStatus() != Condition.Status.False;
    }
    for (Condition condition : update.status().getConditions()) {
      if (condition.getStatus() != Condition.Status.True) {
        // Quoted, with inner quotes escaped, so the line stays one parseable record.
        line.append(' ').append(condition.getType()).append("Message=\"")
            .append(condition.getMessage().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
      }
    }
    if (healthy) {
      LOG.info("{}", line);
    } else {
      LOG.warn("{}", line);
    }
  }
}
