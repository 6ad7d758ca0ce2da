package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.AccessPolicy;
import dev.weft.operator.OperatorMetrics;
import dev.weft.operator.validation.AccessPolicyValidator;
import dev.weft.operator.validation.NamespaceView;
import dev.weft.operator.validation.References;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Clock;
import java.util.List;

/** Validates AccessPolicies against their namespace's Services and writes Accepted and ResolvedRefs. */
public final class AccessPolicyReconciler implements Reconciler<AccessPolicy> {

  /** The controller's name: the kind, which is also the kind label of the operator's metrics. */
  public static final String NAME = "AccessPolicy";

  private final MeshSources<AccessPolicy> sources =
      MeshSources.services(AccessPolicy.class, References::servicesNamedBy);
  private final StatusWriter<AccessPolicy> status;

  public AccessPolicyReconciler(EventRecorder events, OperatorMetrics metrics, Clock clock) {
    this.status = new StatusWriter<>(AccessPolicy::new, events, metrics, clock);
  }

  @Override
  public List<EventSource<?, AccessPolicy>> prepareEventSources(EventSourceContext<AccessPolicy> context) {
    return sources.prepare(context);
  }

  @Override
  public UpdateControl<AccessPolicy> reconcile(AccessPolicy resource, Context<AccessPolicy> context) {
    NamespaceView view = sources.view(resource.getMetadata().getNamespace());
    return status.write(resource, AccessPolicyValidator.validate(resource, view), context);
  }
}
