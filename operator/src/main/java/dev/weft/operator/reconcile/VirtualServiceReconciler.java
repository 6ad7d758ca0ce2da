package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.operator.OperatorMetrics;
import dev.weft.operator.validation.References;
import dev.weft.operator.validation.VirtualServiceValidator;
import java.time.Clock;
import java.util.Set;

/** Validates VirtualServices against their namespace's Services, routes and splits; writes their conditions. */
public final class VirtualServiceReconciler extends ServedResourceReconciler<VirtualService> {

  /** The controller's name: the kind, which is also the kind label of the operator's metrics. */
  public static final String NAME = "VirtualService";

  public VirtualServiceReconciler(EventRecorder events, OperatorMetrics metrics, Clock clock,
      Set<String> xdsNamespaces) {
    super(VirtualService.class, NAME, VirtualService::new,
        // A VirtualService's verdict depends on its siblings' Services too (which one owns a port).
        MeshSources.servicesAndRoutes(VirtualService.class, References::servicesNamedBy).siblingsDependOnServices(),
        VirtualServiceValidator::validate, events, metrics, clock, xdsNamespaces);
  }
}
