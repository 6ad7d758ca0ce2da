package dev.weft.xds.sync;

import dev.weft.sync.report.SyncReport;
import dev.weft.sync.report.SyncReportJson;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this replica's {@link SyncReport} in one ConfigMap in the replica's own namespace, named
 * {@value SyncReport#CONFIG_MAP_PREFIX}{@code <pod name>}, labelled {@value #PART_OF_LABEL}={@value #PART_OF}
 * and {@value SyncReport#LABEL}={@value SyncReport#LABEL_VALUE}, owned by the replica's Pod when the
 * Pod can be read (so it goes when the Pod goes), with the JSON ({@link SyncReportJson}) in the key
 * {@value SyncReport#DATA_KEY}.
 *
 * <p>Writes are batched, never one per request or push: the report is rebuilt every
 * {@link Settings#checkPeriod() check period} (250 ms, or the interval if shorter) and written when
 * its content changed, but at most once per {@code interval} (2 s by default); so a change after a
 * quiet spell reaches the operator within a check period, and a burst costs one write per
 * interval. At least every {@code heartbeat} (10 s) it is written even if nothing changed, with a
 * new {@code updated} time, so the operator can tell a dead replica (its {@code updated} gets old)
 * from a quiet one. Writes are at most {@code heartbeat + checkPeriod} apart while the API answers.
 *
 * <p>Each write is one server-side apply (field manager {@value #FIELD_MANAGER}, conflicts forced):
 * it creates the ConfigMap or replaces what this replica wrote, whatever happened to the object in
 * between, with no read first and no resourceVersion to go stale. Forcing is right because the
 * report is this replica's alone; fields others add (an annotation, a label) stay. A failed write
 * is logged and retried an interval later. {@link #close()} deletes the ConfigMap: a replica that
 * stops cleanly has handed its proxies to the others and has nothing to report.
 */
public final class SyncReportPublisher implements AutoCloseable {

  public static final String PART_OF_LABEL = "app.kubernetes.io/part-of";
  public static final String PART_OF = "weft";
  /** Who owns the report's fields, for server-side apply. */
  public static final String FIELD_MANAGER = "weft-xds-sync-report";

  private static final Logger LOG = LoggerFactory.getLogger(SyncReportPublisher.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  /**
   * Where and how often to report: the replica's namespace and Pod name, the batching interval
   * and the heartbeat. A blank namespace means the Kubernetes client's namespace.
   */
  public record Settings(String namespace, String podName, Duration interval, Duration heartbeat,
      SyncReportBuilder.Limits limits) {

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
    public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(10);
    /** Checking more often than writing: the first change after a quiet spell goes out at once. */
    static final Duration MAX_CHECK_PERIOD = Duration.ofMillis(250);

    public Settings {
      namespace = namespace == null ? "" : namespace.strip();
      Objects.requireNonNull(podName, "podName");
      if (podName.isBlank()) {
        throw new IllegalArgumentException("podName is blank; set WEFT_POD_NAME");
      }
      if (interval.isNegative() || interval.isZero() || heartbeat.compareTo(interval) < 0) {
        throw new IllegalArgumentException("the sync report needs 0 < interval <= heartbeat, not " + interval
            + " and " + heartbeat);
      }
      Objects.requireNonNull(limits, "limits");
    }

    /** The defaults: every 2 s when changed, every 10 s regardless, {@link SyncReportBuilder.Limits#DEFAULT}. */
    public static Settings of(String namespace, String podName) {
      return new Settings(namespace, podName, DEFAULT_INTERVAL, DEFAULT_HEARTBEAT,
          SyncReportBuilder.Limits.DEFAULT);
    }

    public Settings withTimings(Duration newInterval, Duration newHeartbeat) {
      return new Settings(namespace, podName, newInterval, newHeartbeat, limits);
    }

    /** How often the report is rebuilt to see whether it changed: 250 ms, or the interval if shorter. */
    public Duration checkPeriod() {
      return interval.compareTo(MAX_CHECK_PERIOD) < 0 ? interval : MAX_CHECK_PERIOD;
    }

    /** The same, in {@code fallback} when no namespace was given. */
    public Settings orInNamespace(String fallback) {
      return namespace.isEmpty() ? new Settings(fallback, podName, interval, heartbeat, limits) : this;
    }

    /** The ConfigMap's name: the prefix and the pod name, made a valid object name. */
    public String configMapName() {
      String name = (SyncReport.CONFIG_MAP_PREFIX + podName.toLowerCase(Locale.ROOT))
          .replaceAll("[^a-z0-9.-]", "-");
      name = name.length() > 253 ? name.substring(0, 253) : name;
      return name.replaceAll("[.-]+$", "");
    }
  }

  private final KubernetesClient client;
  private final Settings settings;
  private final Clock clock;
  private final Supplier<SyncReport> reports;
  private final String name;
  private final ScheduledThreadPoolExecutor scheduler;

  // Confined to tick(), which runs on the scheduler thread (or a test's thread), one at a time.
  private SyncReport lastContent;
  private Instant lastWriteAt;
  private Instant lastFailureAt;
  private OwnerReference owner;
  private boolean ownerSettled;
  private String lastFailure;
  private long writes;

  /** A publisher that does nothing until {@link #start()}; {@code settings} must name the namespace. */
  public SyncReportPublisher(KubernetesClient client, Settings settings, Clock clock, Supplier<SyncReport> reports) {
    this.client = Objects.requireNonNull(client, "client");
    this.settings = Objects.requireNonNull(settings, "settings");
    if (settings.namespace().isEmpty()) {
      throw new IllegalArgumentException("the sync report needs the replica's namespace; set WEFT_POD_NAMESPACE");
    }
    this.clock = Objects.requireNonNull(clock, "clock");
    this.reports = Objects.requireNonNull(reports, "reports");
    this.name = settings.configMapName();
    this.scheduler = new ScheduledThreadPoolExecutor(1, runnable -> {
      Thread thread = new Thread(runnable, "weft-sync-report");
      thread.setDaemon(true);
      return thread;
    });
  }

  /** Writes the first report now, then checks every check period. */
  public void start() {
    LOG.info("Reporting proxy sync state in ConfigMap {}/{} (when changed, at most every {}; heartbeat {})",
        settings.namespace(), name, settings.interval(), settings.heartbeat());
    scheduler.scheduleWithFixedDelay(this::tick, 0, settings.checkPeriod().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The ConfigMap's namespace and name. */
  public String namespace() {
    return settings.namespace();
  }

  public String configMapName() {
    return name;
  }

  /** How many writes succeeded; for tests and logs. */
  synchronized long writes() {
    return writes;
  }

  /**
   * One round: rebuilds the report and writes it if it changed and the last write is at least an
   * interval old, or if the last write is a heartbeat old; after a failed write, not again within
   * an interval. Never throws.
   */
  synchronized void tick() {
    try {
      Instant now = clock.instant();
      if (lastFailureAt != null && Duration.between(lastFailureAt, now).compareTo(settings.interval()) < 0) {
        return;
      }
      SyncReport report = reports.get();
      Duration sinceWrite = lastWriteAt == null ? null : Duration.between(lastWriteAt, now);
      boolean changed = !report.equals(lastContent);
      boolean heartbeatDue = sinceWrite == null || sinceWrite.compareTo(settings.heartbeat()) >= 0;
      boolean intervalPassed = sinceWrite == null || sinceWrite.compareTo(settings.interval()) >= 0;
      if (!heartbeatDue && !(changed && intervalPassed)) {
        return;
      }
      write(report.stamped(settings.podName(), now, settings.heartbeat()));
      lastContent = report;
      lastWriteAt = now;
      lastFailureAt = null;
      writes++;
      if (lastFailure != null) {
        LOG.info("Sync report written again to ConfigMap {}/{}", settings.namespace(), name);
        lastFailure = null;
      }
    } catch (RuntimeException e) {
      lastFailureAt = clock.instant();
      String failure = String.valueOf(e.getMessage());
      if (!failure.equals(lastFailure)) {
        LOG.warn("Could not write the sync report to ConfigMap {}/{}; retrying every {}: {}",
            settings.namespace(), name, settings.interval(), failure, e);
      }
      lastFailure = failure;
    }
  }

  /** Stops reporting and deletes the ConfigMap (best effort). */
  @Override
  public void close() {
    scheduler.shutdownNow();
    try {
      if (!scheduler.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("A sync report write was still running {} after close", CLOSE_TIMEOUT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      client.configMaps().inNamespace(settings.namespace()).withName(name).delete();
    } catch (KubernetesClientException e) {
      LOG.warn("Could not delete the sync report ConfigMap {}/{}: {}", settings.namespace(), name, e.getMessage());
    }
  }

  private void write(SyncReport report) {
    ConfigMapBuilder desired = new ConfigMapBuilder()
        .withNewMetadata()
        .withNamespace(settings.namespace())
        .withName(name)
        .withLabels(Map.of(PART_OF_LABEL, PART_OF, SyncReport.LABEL, SyncReport.LABEL_VALUE))
        .endMetadata()
        .withData(Map.of(SyncReport.DATA_KEY, SyncReportJson.write(report)));
    OwnerReference pod = ownerReference();
    if (pod != null) {
      desired.editMetadata().withOwnerReferences(pod).endMetadata();
    }
    client.configMaps().inNamespace(settings.namespace()).resource(desired.build())
        .fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
  }

  /** The replica's Pod as owner, or null where it cannot be read (a local run, or no RBAC to get pods). */
  private OwnerReference ownerReference() {
    if (ownerSettled) {
      return owner;
    }
    try {
      Pod pod = client.pods().inNamespace(settings.namespace()).withName(settings.podName()).get();
      if (pod == null) {
        LOG.info("No Pod {}/{}: the sync report ConfigMap gets no owner, so only a clean stop removes it",
            settings.namespace(), settings.podName());
      } else {
        // Not a controller and no blockOwnerDeletion: that would need rights on the Pod's finalizers.
        owner = new OwnerReferenceBuilder()
            .withApiVersion("v1")
            .withKind("Pod")
            .withName(pod.getMetadata().getName())
            .withUid(pod.getMetadata().getUid())
            .build();
      }
      ownerSettled = true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_FORBIDDEN) {
        LOG.info("May not read Pod {}/{}: the sync report ConfigMap gets no owner, so only a clean stop removes it",
            settings.namespace(), settings.podName());
        ownerSettled = true;
      } else {
        // Transient: write without an owner now, try again on the next write.
        LOG.debug("Could not read Pod {}/{} yet: {}", settings.namespace(), settings.podName(), e.getMessage());
      }
    }
    return owner;
  }
}
