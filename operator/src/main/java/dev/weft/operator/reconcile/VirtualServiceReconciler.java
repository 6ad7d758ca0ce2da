package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.operator.OperatorMetrics;
import dev.weft.operator.sync.SyncReportSource;
import dev.weft.operator.validation.NamespaceView;
import dev.weft.operator.validation.References;
import dev.weft.operator.validation.Verdict;
import dev.weft.operator.validation.VirtualServiceValidator;
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

/** Validates VirtualServices against their namespace's Services, routes and splits; writes their conditions. */
public final class VirtualServiceReconciler implements Reconciler<VirtualService> {

  /** The controller's name: the kind, which is also the kind label of the operator's metrics. */
  public static final String NAME = "VirtualService";

  private final MeshSources<VirtualService> sources =
      MeshSources.servicesAndRoutes(VirtualService.class, References::servicesNamedBy)
          .siblingsDependOnServices();
  private final StatusWriter<VirtualService> status;
  private final SyncReportSource<VirtualService> reports;

  public VirtualServiceReconciler(EventRecorder events, OperatorMetrics metrics, Clock clock,
      Set<String> xdsNamespaces) {
    this.status = new StatusWriter<>(VirtualService::new, events, metrics, clock);
    this.reports = new SyncReportSource<>(VirtualService.class, NAME, xdsNamespaces, clock);
  }

  @Override
  public List<EventSource<?, VirtualService>> prepareEventSources(EventSourceContext<VirtualService> context) {
    List<EventSource<?, VirtualService>> all = new ArrayList<>(sources.prepare(context));
    all.add(reports.prepare(context));
    return all;
  }

  @Override
  public UpdateControl<VirtualService> reconcile(VirtualService resource, Context<VirtualService> context) {
    NamespaceView view = sources.view(resource.getMetadata().getNamespace());
    Verdict verdict = VirtualServiceValidator.validate(resource, view);
    UpdateControl<VirtualService> control = status.write(resource, verdict, Optional.of(
        reports.programmed(resource, verdict.accepted().passed(), verdict.resolvedRefs().passed())), context);
    return reports.recheckAfter(resource).map(control::rescheduleAfter).orElse(control);
  }
}
