package dev.weft.operator.sync;

import dev.weft.api.v1alpha1.CertificateCounts;
import dev.weft.api.v1alpha1.CertificateReport;
import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.MeshStatusStatus;
import dev.weft.api.v1alpha1.ProxyCounts;
import dev.weft.api.v1alpha1.ProxyReport;
import dev.weft.operator.certificates.CertificateSummary;
import dev.weft.operator.status.ConditionState;
import dev.weft.sync.report.SyncReport;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Adds up every replica's report into the status of MeshStatus {@code mesh}: proxy counts, live
 * replicas, the stale and NACKed proxies (bounded) and the newest NACK, the Ready condition, and
 * the workload certificates with the CertificatesIssued condition (when certificates are turned
 * off, or not looked at yet, their counts are left out, so the column stays empty rather than
 * showing a 0 that looks like a measurement). Pure: reports, certificates and the time in, status
 * out.
 */
public final class MeshStatusAggregator {

  public static final String READY = "Ready";
  public static final String CERTIFICATES_ISSUED = "CertificatesIssued";
  static final String CERTIFICATES_DISABLED = "the operator issues no workload certificates (turned off with "
      + "WEFT_CERTIFICATES=false, helm value identity.enabled=false); CERTS-EXPIRING stays empty";
  static final String CERTIFICATES_PENDING = "the operator has not looked at the workload certificates yet";

  /** What MeshStatus is told about certificates: turned off, not looked at yet, or a summary. */
  public sealed interface Certificates {
    /** Certificates are turned off. */
    record Disabled() implements Certificates {}

    /** Turned on, but no pass of the certificate controller finished yet (a new leader). */
    record Pending() implements Certificates {}

    /** What the last pass found. */
    record Found(CertificateSummary summary) implements Certificates {}

    static Certificates of(boolean enabled, java.util.Optional<CertificateSummary> summary) {
      if (!enabled) {
        return new Disabled();
      }
      return summary.<Certificates>map(Found::new).orElse(new Pending());
    }
  }
  /** A proxy that just connected is still being served; only after this long unsynced is it stale. */
  public static final Duration STALE_GRACE = Duration.ofSeconds(10);

  private static final Map<String, String> TYPE_URLS = Map.of(
      "cds", "type.googleapis.com/envoy.config.cluster.v3.Cluster",
      "eds", "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
      "lds", "type.googleapis.com/envoy.config.listener.v3.Listener",
      "rds", "type.googleapis.com/envoy.config.route.v3.RouteConfiguration");

  private MeshStatusAggregator() {}

  /** The next status when every report could be read and certificates are turned off (see below). */
  public static MeshStatusStatus next(MeshStatusStatus previous, Collection<SyncReport> reports, long generation,
      Instant now) {
    return next(previous, reports, List.of(), new Certificates.Disabled(), generation, now);
  }

  /**
   * The next status of MeshStatus at {@code generation} (its conditions' observedGeneration).
   * Reports from dead replicas are left out; {@code newerSchema} names the report ConfigMaps in a
   * schema this operator does not read, which keep Ready False until the operator is upgraded.
   * {@code previous} (may be null) keeps each condition's lastTransitionTime while its status holds,
   * and lastUpdateTime while nothing else changed, so an unchanged mesh compares equal and needs no
   * write.
   */
  public static MeshStatusStatus next(MeshStatusStatus previous, Collection<SyncReport> reports,
      List<String> newerSchema, Certificates certificates, long generation, Instant now) {
    List<SyncReport> live = reports.stream().filter(r -> r.isLiveAt(now))
        .sorted(Comparator.comparing(SyncReport::replica)).toList();
    int connected = 0;
    int synced = 0;
    List<ProxyReport> stale = new ArrayList<>();
    List<ProxyReport> nacked = new ArrayList<>();
    for (SyncReport report : live) {
      for (SyncReport.ProxyEntry proxy : report.proxies()) {
        connected++;
        if (proxy.standingNack().isPresent()) {
          nacked.add(nackReport(report, proxy));
        } else if (proxy.synced()) {
          synced++;
        } else if (SyncReport.instant(proxy.connectedSince())
            .map(since -> !since.plus(STALE_GRACE).isAfter(now)).orElse(true)) {
          stale.add(staleReport(report, proxy));
        }
      }
    }
    stale.sort(Comparator.comparing(ProxyReport::getSince, Comparator.nullsFirst(Comparator.naturalOrder()))
        .thenComparing(ProxyReport::getProxy));
    nacked.sort(Comparator.comparing(ProxyReport::getSince, Comparator.nullsFirst(Comparator.reverseOrder()))
        .thenComparing(ProxyReport::getProxy));

    MeshStatusStatus status = new MeshStatusStatus();
    status.setProxies(new ProxyCounts(connected, synced, stale.size(), nacked.size()));
    status.setXdsReplicas(live.size());
    status.setCertificates(certificates instanceof Certificates.Found found ? counts(found.summary()) : null);
    status.setLastNack(nacked.isEmpty() ? null : nacked.get(0));
    status.setStaleProxies(stale.subList(0, Math.min(stale.size(), MeshStatusStatus.MAX_LISTED_PROXIES)));
    status.setNackedProxies(nacked.subList(0, Math.min(nacked.size(), MeshStatusStatus.MAX_LISTED_PROXIES)));
    status.setConditions(List.of(
        condition(previous, READY, ready(newerSchema, live.size(), connected, synced, stale.size(), nacked.size()),
            generation, now),
        condition(previous, CERTIFICATES_ISSUED, certificatesIssued(certificates), generation, now)));
    status.setLastUpdateTime(previous == null ? null : previous.getLastUpdateTime());
    if (!status.equals(previous)) {
      status.setLastUpdateTime(timestamp(now));
    }
    return status;
  }

  private static ConditionState ready(List<String> newerSchema, int replicas, int connected, int synced, int stale,
      int nacked) {
    if (!newerSchema.isEmpty()) {
      return new ConditionState(Condition.Status.False, "NewerReportSchema", "the sync reports in " + String.join(", ",
          newerSchema) + " are in a schema newer than version " + SyncReport.SCHEMA_VERSION + ", which this "
          + "operator reads, so their proxies are not counted; upgrade the operator to the xds-server's release");
    }
    if (replicas == 0) {
      return new ConditionState(Condition.Status.False, "NoXdsServer", "no xDS server replica reported within "
          + SyncReport.HEARTBEATS_UNTIL_DEAD + " heartbeats; proxies keep their last config but get no updates");
    }
    if (nacked > 0) {
      return new ConditionState(Condition.Status.False, "ProxiesRejected",
          nacked + " of " + connected + " proxies rejected their newest config; see nackedProxies");
    }
    if (synced < connected) {
      return new ConditionState(Condition.Status.False, "ProxiesNotSynced", (connected - synced) + " of " + connected
          + " proxies have not applied their newest config yet (" + stale + " for longer than "
          + STALE_GRACE.toSeconds() + "s); see staleProxies");
    }
    return new ConditionState(Condition.Status.True, "Synced", "all " + connected
        + " connected proxies applied their newest config; " + replicas + " xDS server replica(s) live");
  }

  private static CertificateCounts counts(CertificateSummary summary) {
    CertificateCounts counts = new CertificateCounts();
    counts.setIssued(summary.issued());
    counts.setExpiringSoon(summary.expiring().size());
    counts.setNextExpiry(summary.nextExpiry().map(MeshStatusAggregator::timestamp).orElse(null));
    counts.setRootNotAfter(summary.caExpiry().map(MeshStatusAggregator::timestamp).orElse(null));
    counts.setExpiring(summary.expiring().stream().limit(MeshStatusStatus.MAX_LISTED_PROXIES).map(entry -> {
      CertificateReport report = new CertificateReport();
      report.setNamespace(entry.namespace());
      report.setServiceAccount(entry.serviceAccount());
      report.setSecret(entry.secret());
      report.setIdentity(entry.spiffeId());
      report.setNotAfter(timestamp(entry.notAfter()));
      report.setMessage(entry.expired() ? "expired; the operator could not renew it"
          : "less than a fifth of its life left; the renewal due at two thirds of it did not happen");
      return report;
    }).toList());
    return counts;
  }

  private static ConditionState certificatesIssued(Certificates certificates) {
    if (certificates instanceof Certificates.Disabled) {
      return new ConditionState(Condition.Status.False, "Disabled", CERTIFICATES_DISABLED);
    }
    if (!(certificates instanceof Certificates.Found found)) {
      return new ConditionState(Condition.Status.Unknown, "Pending", CERTIFICATES_PENDING);
    }
    CertificateSummary summary = found.summary();
    if (summary.caProblem().isPresent()) {
      return new ConditionState(Condition.Status.False, "CaUnavailable", summary.caProblem().get());
    }
    if (!summary.expiring().isEmpty()) {
      CertificateSummary.Entry first = summary.expiring().get(0);
      return new ConditionState(Condition.Status.False, "CertificatesExpiring", summary.expiring().size() + " of "
          + summary.issued() + " workload certificates missed their renewal, the first " + first.namespace() + "/"
          + first.secret() + " (" + (first.expired() ? "expired " : "expires ") + timestamp(first.notAfter())
          + "); see certificates.expiring and the operator's log");
    }
    return new ConditionState(Condition.Status.True, "Issued", summary.issued() + " workload certificate(s) issued "
        + "by the mesh root " + summary.caSubject().orElse("") + " (expires "
        + summary.caExpiry().map(MeshStatusAggregator::timestamp).orElse("?") + "); none expiring");
  }

  /** The condition, keeping its lastTransitionTime from {@code previous} while its status holds. */
  private static Condition condition(MeshStatusStatus previous, String type, ConditionState state, long generation,
      Instant now) {
    Condition before = previous == null ? null : previous.getConditions().stream()
        .filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    String since = before != null && before.getStatus() == state.status() && before.getLastTransitionTime() != null
        ? before.getLastTransitionTime() : timestamp(now);
    return new Condition(type, state.status(), state.reason(), state.message(), generation, since);
  }

  private static ProxyReport nackReport(SyncReport report, SyncReport.ProxyEntry proxy) {
    SyncReport.Nack nack = proxy.nack();
    ProxyReport entry = base(report, proxy);
    entry.setTypeUrl(TYPE_URLS.getOrDefault(Objects.toString(nack.type(), ""), nack.type()));
    entry.setVersion(nack.version());
    entry.setMessage(nack.message());
    entry.setSince(nack.at());
    return entry;
  }

  private static ProxyReport staleReport(SyncReport report, SyncReport.ProxyEntry proxy) {
    ProxyReport entry = base(report, proxy);
    entry.setSince(proxy.connectedSince());
    entry.setMessage("connected since " + proxy.connectedSince() + " and has not applied its newest config");
    return entry;
  }

  private static ProxyReport base(SyncReport report, SyncReport.ProxyEntry proxy) {
    ProxyReport entry = new ProxyReport();
    entry.setProxy(proxy.id());
    entry.setNamespace(proxy.namespace());
    entry.setXdsReplica(report.replica());
    return entry;
  }

  static String timestamp(Instant now) {
    return now.truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
