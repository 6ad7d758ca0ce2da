package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.ResourceStatus;
import dev.weft.operator.OperatorMetrics;
import dev.weft.operator.sync.SyncReportSource;
import dev.weft.operator.validation.ConditionType;
import dev.weft.operator.validation.NamespaceView;
import dev.weft.operator.validation.Verdict;
import io.fabric8.kubernetes.client.CustomResource;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * The reconciler of a kind the proxies serve (TrafficSplit, VirtualService): validates it against
 * its namespace, writes Accepted and ResolvedRefs, and Programmed from the xds-servers' sync reports.
 */
abstract class ServedResourceReconciler<P extends CustomResource<?, ResourceStatus>> implements Reconciler<P> {

  private final MeshSources<P> sources;
  private final BiFunction<P, NamespaceView, Verdict> validator;
  private final StatusWriter<P> status;
  private final SyncReportSource<P> reports;

  ServedResourceReconciler(Class<P> kind, String name, Supplier<P> emptyResource, MeshSources<P> sources,
      BiFunction<P, NamespaceView, Verdict> validator, EventRecorder events, OperatorMetrics metrics, Clock clock,
      Set<String> xdsNamespaces) {
    this.sources = sources;
    this.validator = validator;
    this.status = new StatusWriter<>(emptyResource, events, metrics, clock);
    this.reports = new SyncReportSource<>(kind, name, xdsNamespaces, clock);
  }

  @Override
  public final List<EventSource<?, P>> prepareEventSources(EventSourceContext<P> context) {
    List<EventSource<?, P>> all = new ArrayList<>(sources.prepare(context));
    all.add(reports.prepare(context));
    return all;
  }

  @Override
  public final UpdateControl<P> reconcile(P resource, Context<P> context) {
    Verdict verdict = validator.apply(resource, sources.view(resource.getMetadata().getNamespace()));
    UpdateControl<P> control = status.write(resource, verdict, Map.of(ConditionType.PROGRAMMED,
        reports.programmed(resource, verdict.accepted().passed(), verdict.resolvedRefs().passed())), context);
    // A replica that dies sends no event: look again when its report would count as dead.
    return reports.recheckAfter(resource).map(control::rescheduleAfter).orElse(control);
  }
}
