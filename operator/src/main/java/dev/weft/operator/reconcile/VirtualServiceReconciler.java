package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.operator.OperatorMetrics;
import dev.weft.operator.validation.NamespaceView;
import dev.weft.operator.validation.References;
import dev.weft.operator.validation.VirtualServiceValidator;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Clock;
import java.util.List;

/** Validates VirtualServices against their namespace's Services, routes and splits; writes their conditions. */
public final class VirtualServiceReconciler implements Reconciler<VirtualService> {

  /** The controller's name: the kind, which is also the kind label of the operator's metrics. */
  public static final String NAME = "VirtualService";

  private final MeshSources<VirtualService> sources =
      MeshSources.servicesAndRoutes(VirtualService.class, References::servicesNamedBy)
          .siblingsDependOnServices();
  private final StatusWriter<VirtualService> status;

  public VirtualServiceReconciler(EventRecorder events, OperatorMetrics metrics, Clock clock) {
    this.status = new StatusWriter<>(VirtualService::new, events, metrics, clock);
  }

  @Override
  public List<EventSource<?, VirtualService>> prepareEventSources(EventSourceContext<VirtualService> context) {
    return sources.prepare(context);
  }

  @Override
  public UpdateControl<VirtualService> reconcile(VirtualService resource, Context<VirtualService> context) {
    NamespaceView view = sources.view(resource.getMetadata().getNamespace());
    return status.write(resource, VirtualServiceValidator.validate(resource, view), context);
  }
}
