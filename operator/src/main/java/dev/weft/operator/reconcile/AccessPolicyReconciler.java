package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.AccessPolicy;
import dev.weft.api.v1alpha1.Condition;
import dev.weft.operator.OperatorMetrics;
import dev.weft.operator.status.ConditionState;
import dev.weft.operator.validation.AccessPolicyValidator;
import dev.weft.operator.validation.ConditionType;
import dev.weft.operator.validation.NamespaceView;
import dev.weft.operator.validation.Reason;
import dev.weft.operator.validation.References;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * Validates AccessPolicies against their namespace's Services and writes Accepted and ResolvedRefs,
 * and Enforced=False until the sidecars enforce policies.
 */
public final class AccessPolicyReconciler implements Reconciler<AccessPolicy> {

  /** The controller's name: the kind, which is also the kind label of the operator's metrics. */
  public static final String NAME = "AccessPolicy";

  /**
   * Enforced on every AccessPolicy while no sidecar enforces one, so that Accepted=True (the policy
   * is valid) is not read as "callers are being checked".
   */
  static final ConditionState NOT_ENFORCED = new ConditionState(Condition.Status.False, Reason.NOT_IMPLEMENTED,
      "the policy is validated (see Accepted and ResolvedRefs) but not enforced: the sidecars do not enforce "
          + "AccessPolicy yet, so it neither lets callers through nor refuses them; enforcement is planned as "
          + "Envoy RBAC on the Service's inbound side");

  /** The conditions an AccessPolicy has beyond Accepted and ResolvedRefs. */
  static final Map<String, ConditionState> MORE_CONDITIONS = Map.of(ConditionType.ENFORCED, NOT_ENFORCED);

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
    return status.write(resource, AccessPolicyValidator.validate(resource, view), MORE_CONDITIONS, context);
  }
}
