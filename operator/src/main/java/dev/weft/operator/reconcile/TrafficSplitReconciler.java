package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.operator.OperatorMetrics;
import dev.weft.operator.validation.NamespaceView;
import dev.weft.operator.validation.References;
import dev.weft.operator.validation.TrafficSplitValidator;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Clock;
import java.util.List;

/** Validates TrafficSplits against their namespace (Services, other splits) and writes Accepted and ResolvedRefs. */
public final class TrafficSplitReconciler implements Reconciler<TrafficSplit> {

  /** The controller's name: the kind, which is also the kind label of the operator's metrics. */
  public static final String NAME = "TrafficSplit";

  private final MeshSources<TrafficSplit> sources =
      MeshSources.servicesAndRoutes(TrafficSplit.class, References::servicesNamedBy);
  private final StatusWriter<TrafficSplit> status;

  public TrafficSplitReconciler(EventRecorder events, OperatorMetrics metrics, Clock clock) {
    this.status = new StatusWriter<>(TrafficSplit::new, events, metrics, clock);
  }

  @Override
  public List<EventSource<?, TrafficSplit>> prepareEventSources(EventSourceContext<TrafficSplit> context) {
    return sources.prepare(context);
  }

  @Override
  public UpdateControl<TrafficSplit> reconcile(TrafficSplit resource, Context<TrafficSplit> context) {
    NamespaceView view = sources.view(resource.getMetadata().getNamespace());
    return status.write(resource, TrafficSplitValidator.validate(resource, view), context);
  }
}
