package dev.weft.operator.sync;

import dev.weft.api.v1alpha1.MeshStatus;
import dev.weft.api.v1alpha1.MeshStatusStatus;
import dev.weft.sync.report.SyncReport;
import dev.weft.sync.report.SyncReportJson;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps MeshStatus {@code mesh} up to date from the xds-server replicas' sync reports: an informer
 * on the report ConfigMaps, and a timer that recomputes the status (a replica that stops writing
 * is noticed by the clock, not by an event) and writes it, while this instance leads, at most every
 * {@link #MIN_WRITE_INTERVAL} and only when it changed. Creates the object when it is missing.
 */
public final class MeshStatusKeeper implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MeshStatusKeeper.class);
  static final Duration MIN_WRITE_INTERVAL = Duration.ofSeconds(2);
  private static final Duration TICK = Duration.ofMillis(500);

  private final KubernetesClient client;
  private final BooleanSupplier leading;
  private final Clock clock;
  private final Supplier<MeshStatusAggregator.Certificates> certificates;
  private final List<SharedIndexInformer<ConfigMap>> informers = new ArrayList<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread thread = new Thread(r, "weft-meshstatus");
    thread.setDaemon(true);
    return thread;
  });
  private MeshStatusStatus written;
  /** The object's metadata.generation as last read; a new object starts at 1. */
  private long generation = 1;
  private Instant lastWrite = Instant.EPOCH;

  private MeshStatusKeeper(KubernetesClient client, BooleanSupplier leading, Clock clock,
      Supplier<MeshStatusAggregator.Certificates> certificates) {
    this.client = client;
    this.leading = leading;
    this.clock = clock;
    this.certificates = certificates;
  }

  /** Starts the report informers in {@code xdsNamespaces} and the timer, with certificates turned off. */
  public static MeshStatusKeeper start(KubernetesClient client, Set<String> xdsNamespaces, BooleanSupplier leading,
      Clock clock) {
    return start(client, xdsNamespaces, leading, clock, MeshStatusAggregator.Certificates.Disabled::new);
  }

  /**
   * Starts the report informers in {@code xdsNamespaces} and the timer; writes only while
   * {@code leading}; {@code certificates} says what the certificate controller last found.
   */
  public static MeshStatusKeeper start(KubernetesClient client, Set<String> xdsNamespaces, BooleanSupplier leading,
      Clock clock, Supplier<MeshStatusAggregator.Certificates> certificates) {
    MeshStatusKeeper keeper = new MeshStatusKeeper(client, leading, clock, certificates);
    for (String namespace : xdsNamespaces) {
      keeper.informers.add(client.configMaps().inNamespace(namespace)
          .withLabel(SyncReport.LABEL, SyncReport.LABEL_VALUE).inform());
    }
    keeper.timer.scheduleWithFixedDelay(keeper::tick, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
    return keeper;
  }

  private void tick() {
    try {
      if (!leading.getAsBoolean()) {
        written = null;
        return;
      }
      Instant now = clock.instant();
      if (Duration.between(lastWrite, now).compareTo(MIN_WRITE_INTERVAL) < 0) {
        return;
      }
      List<SyncReport> reports = new ArrayList<>();
      List<String> newerSchema = new ArrayList<>();
      for (SharedIndexInformer<ConfigMap> informer : informers) {
        for (ConfigMap map : informer.getStore().list()) {
          SyncReportJson.Result read = SyncReportReader.read(map);
          if (read instanceof SyncReportJson.Parsed parsed) {
            reports.add(parsed.report());
          } else if (read instanceof SyncReportJson.NewerSchema newer) {
            newerSchema.add(map.getMetadata().getNamespace() + "/" + map.getMetadata().getName()
                + " (version " + newer.schemaVersion() + ")");
          }
        }
      }
      newerSchema.sort(null);
      // A new leader starts from what is stored, so the conditions keep their transition times.
      MeshStatusStatus previous = written != null ? written : stored();
      MeshStatusStatus next = MeshStatusAggregator.next(previous, reports, newerSchema, certificates.get(),
          generation, now);
      if (next.equals(previous)) {
        written = next;
        return;
      }
      write(next);
      written = next;
      lastWrite = now;
    } catch (KubernetesClientException e) {
      // Retried on the next tick; the cached copy is dropped so the write is not skipped.
      written = null;
      LOG.warn("could not write MeshStatus {}: {}", MeshStatus.NAME, e.getMessage());
    } catch (RuntimeException e) {
      LOG.error("MeshStatus refresh failed", e);
    }
  }

  private MeshStatusStatus stored() {
    MeshStatus current = client.resources(MeshStatus.class).withName(MeshStatus.NAME).get();
    if (current == null) {
      return null;
    }
    generation = generationOf(current);
    return current.getStatus();
  }

  private static long generationOf(MeshStatus mesh) {
    Long value = mesh.getMetadata().getGeneration();
    return value == null ? 1 : value;
  }

  private void write(MeshStatusStatus status) {
    var resource = client.resources(MeshStatus.class).withName(MeshStatus.NAME);
    MeshStatus current = resource.get();
    if (current == null) {
      MeshStatus fresh = new MeshStatus();
      fresh.setMetadata(new ObjectMetaBuilder().withName(MeshStatus.NAME).build());
      current = client.resource(fresh).create();
      LOG.info("created MeshStatus {}", MeshStatus.NAME);
    }
    // Were it ever to differ from the one the status was computed for, the next tick writes again.
    generation = generationOf(current);
    current.setStatus(status);
    client.resource(current).updateStatus();
    LOG.info("MeshStatus written connected={} synced={} stale={} nacked={} xdsReplicas={} certificates={} "
        + "certificatesExpiring={}", status.getProxies().getConnected(), status.getProxies().getSynced(),
        status.getProxies().getStale(), status.getProxies().getNacked(), status.getXdsReplicas(),
        status.getCertificates() == null ? "-" : status.getCertificates().getIssued(),
        status.getCertificates() == null ? "-" : status.getCertificates().getExpiringSoon());
  }

  @Override
  public void close() {
    timer.shutdownNow();
    informers.forEach(SharedIndexInformer::close);
  }
}
