package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.operator.OperatorMetrics;
import dev.weft.operator.validation.References;
import dev.weft.operator.validation.TrafficSplitValidator;
import java.time.Clock;
import java.util.Set;

/**
 * Validates TrafficSplits against their namespace (Services, other splits) and writes Accepted and
 * ResolvedRefs, and Programmed from the proxies' sync reports.
 */
public final class TrafficSplitReconciler extends ServedResourceReconciler<TrafficSplit> {

  /** The controller's name: the kind, which is also the kind label of the operator's metrics. */
  public static final String NAME = "TrafficSplit";

  public TrafficSplitReconciler(EventRecorder events, OperatorMetrics metrics, Clock clock,
      Set<String> xdsNamespaces) {
    super(TrafficSplit.class, NAME, TrafficSplit::new,
        MeshSources.servicesAndRoutes(TrafficSplit.class, References::servicesNamedBy),
        TrafficSplitValidator::validate, events, metrics, clock, xdsNamespaces);
  }
}
