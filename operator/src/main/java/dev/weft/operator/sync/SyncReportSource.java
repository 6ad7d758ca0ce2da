package dev.weft.operator.sync;

import dev.weft.operator.status.ConditionState;
import dev.weft.sync.report.SyncReport;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The xds-server sync reports as an event source of one reconciler: a report change re-checks the
 * resources of the reconciler's kind that the report lists now or listed before (a resource that
 * left every proxy's config must lose its Programmed too), and {@link #programmed} reads the live
 * reports from the same cache.
 */
public final class SyncReportSource<P extends HasMetadata> {

  /** Past the deadline, so the report is already dead when the reconciliation reads it. */
  private static final Duration RECHECK_MARGIN = Duration.ofSeconds(1);

  private final Class<P> primary;
  private final String kind;
  private final Set<String> xdsNamespaces;
  private final Clock clock;
  /** What each report listed last time, by ConfigMap namespace/name. */
  private final Map<String, Set<ResourceID>> listed = new ConcurrentHashMap<>();
  private volatile InformerEventSource<ConfigMap, P> reports;

  public SyncReportSource(Class<P> primary, String kind, Set<String> xdsNamespaces, Clock clock) {
    this.primary = primary;
    this.kind = kind;
    this.xdsNamespaces = Set.copyOf(xdsNamespaces);
    this.clock = clock;
  }

  /** The event source to register with the reconciler's others. */
  public InformerEventSource<ConfigMap, P> prepare(EventSourceContext<P> context) {
    reports = new InformerEventSource<>(InformerEventSourceConfiguration.from(ConfigMap.class, primary)
        .withName("sync-reports")
        .withNamespaces(xdsNamespaces)
        .withLabelSelector(SyncReport.LABEL + "=" + SyncReport.LABEL_VALUE)
        .withSecondaryToPrimaryMapper(this::resourcesListedBy)
        .build(), context);
    return reports;
  }

  /**
   * Programmed for the resource at its current generation, from the live reports, given whether
   * its Accepted and ResolvedRefs conditions are True.
   */
  public ConditionState programmed(P resource, boolean accepted, boolean refsResolved) {
    List<SyncReport> live = live();
    Long generation = resource.getMetadata().getGeneration();
    return ProgrammedAggregator.programmed(kind, resource.getMetadata().getNamespace(),
        resource.getMetadata().getName(), generation == null ? 0 : generation, accepted, refsResolved, live);
  }

  /**
   * When to look again without an event: just after the first live report that counts in the
   * resource's Programmed would count as dead. A replica that crashes leaves its ConfigMap behind
   * and sends no event; nor does a report that counts only by not listing the resource.
   */
  public Optional<Duration> recheckAfter(P resource) {
    Instant now = clock.instant();
    return live().stream()
        .filter(r -> ProgrammedAggregator.countsIn(r, kind, resource.getMetadata().getNamespace(),
            resource.getMetadata().getName()))
        .map(SyncReport::deadAfter).flatMap(Optional::stream).min(Instant::compareTo)
        .map(dead -> Duration.between(now, dead).plus(RECHECK_MARGIN));
  }

  private List<SyncReport> live() {
    Instant now = clock.instant();
    return reports.list(map -> true).map(SyncReportReader::report).flatMap(Optional::stream)
        .filter(r -> r.isLiveAt(now)).toList();
  }

  private Set<ResourceID> resourcesListedBy(ConfigMap map) {
    Set<ResourceID> now = SyncReportReader.report(map).map(r -> r.resources().stream()
        .filter(e -> kind.equals(e.kind()))
        .map(e -> new ResourceID(e.name(), e.namespace()))
        .collect(Collectors.toSet())).orElse(Set.of());
    String key = map.getMetadata().getNamespace() + "/" + map.getMetadata().getName();
    Set<ResourceID> before = listed.put(key, now);
    Set<ResourceID> affected = new HashSet<>(now);
    if (before != null) {
      affected.addAll(before);
    }
    return affected;
  }
}
