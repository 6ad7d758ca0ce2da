package dev.weft.operator.sync;

import dev.weft.operator.status.ConditionState;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The xds-server sync reports as an event source of one reconciler: a report change re-checks the
 * resources of the reconciler's kind that the report lists now or listed before (a resource that
 * left every proxy's config must lose its Programmed too), and {@link #programmed} reads the live
 * reports from the same cache.
 */
public final class SyncReportSource<P extends HasMetadata> {

  private static final Logger LOG = LoggerFactory.getLogger(SyncReportSource.class);
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
        .withLabelSelector(SyncReportDocument.LABEL + "=" + SyncReportDocument.LABEL_VALUE)
        .withSecondaryToPrimaryMapper(this::resourcesListedBy)
        .build(), context);
    return reports;
  }

  /** Programmed for the resource at its current generation, from the live reports. */
  public ConditionState programmed(P resource, boolean valid) {
    List<SyncReportDocument> live = live();
    Long generation = resource.getMetadata().getGeneration();
    return ProgrammedAggregator.programmed(kind, resource.getMetadata().getNamespace(),
        resource.getMetadata().getName(), generation == null ? 0 : generation, valid, live);
  }

  /**
   * When to look again without an event: just after the first live report listing the resource
   * would count as dead. A replica that crashes leaves its ConfigMap behind and sends no event.
   */
  public Optional<Duration> recheckAfter(P resource) {
    Instant now = clock.instant();
    return live().stream()
        .filter(r -> r.lists(kind, resource.getMetadata().getNamespace(), resource.getMetadata().getName()))
        .map(SyncReportDocument::deadAfter).flatMap(Optional::stream).min(Instant::compareTo)
        .map(dead -> Duration.between(now, dead).plus(RECHECK_MARGIN));
  }

  private List<SyncReportDocument> live() {
    Instant now = clock.instant();
    return reports.list(map -> true).map(SyncReportSource::read).flatMap(Optional::stream)
        .filter(r -> r.isLiveAt(now)).toList();
  }

  /** The report in a ConfigMap, or empty (logged) when it holds none. */
  public static Optional<SyncReportDocument> read(ConfigMap map) {
    String json = map.getData() == null ? null : map.getData().get(SyncReportDocument.DATA_KEY);
    Optional<SyncReportDocument> report = SyncReportDocument.parse(json);
    if (report.isEmpty()) {
      LOG.debug("ConfigMap {}/{} holds no readable sync report; ignored", map.getMetadata().getNamespace(),
          map.getMetadata().getName());
    }
    return report;
  }

  private Set<ResourceID> resourcesListedBy(ConfigMap map) {
    Set<ResourceID> now = read(map).map(r -> r.resources().stream()
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
