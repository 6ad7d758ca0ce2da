package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.operator.OperatorMetrics;
import dev.weft.operator.sync.SyncReportSource;
import dev.weft.operator.validation.NamespaceView;
import dev.weft.operator.validation.References;
import dev.weft.operator.validation.Verdict;
import dev.weft.operator.validation.TrafficSplitValidator;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Validates TrafficSplits against their namespace (Services, other splits) and writes Accepted and
 * ResolvedRefs, and Programmed from the proxies' sync reports.
 */
public final class TrafficSplitReconciler implements Reconciler<TrafficSplit> {

  /** The controller's name: the kind, which is also the kind label of the operator's metrics. */
  public static final String NAME = "TrafficSplit";

  private final MeshSources<TrafficSplit> sources =
      MeshSources.servicesAndRoutes(TrafficSplit.class, References::servicesNamedBy);
  private final StatusWriter<TrafficSplit> status;
  private final SyncReportSource<TrafficSplit> reports;

  public TrafficSplitReconciler(EventRecorder events, OperatorMetrics metrics, Clock clock,
      Set<String> xdsNamespaces) {
    this.status = new StatusWriter<>(TrafficSplit::new, events, metrics, clock);
    this.reports = new SyncReportSource<>(TrafficSplit.class, NAME, xdsNamespaces, clock);
  }

  @Override
  public List<EventSource<?, TrafficSplit>> prepareEventSources(EventSourceContext<TrafficSplit> context) {
    List<EventSource<?, TrafficSplit>> all = new ArrayList<>(sources.prepare(context));
    all.add(reports.prepare(context));
    return all;
  }

  @Override
  public UpdateControl<TrafficSplit> reconcile(TrafficSplit resource, Context<TrafficSplit> context) {
    NamespaceView view = sources.view(resource.getMetadata().getNamespace());
    Verdict verdict = TrafficSplitValidator.validate(resource, view);
    UpdateControl<TrafficSplit> control = status.write(resource, verdict, Optional.of(
        reports.programmed(resource, verdict.accepted().passed(), verdict.resolvedRefs().passed())), context);
    return reports.recheckAfter(resource).map(control::rescheduleAfter).orElse(control);
  }
}
