package dev.weft.operator.sync;

import dev.weft.api.v1alpha1.CertificateCounts;
import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.MeshStatusStatus;
import dev.weft.api.v1alpha1.ProxyCounts;
import dev.weft.api.v1alpha1.ProxyReport;
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
 * replicas, the stale and NACKed proxies (bounded) and the newest NACK, and the Ready condition.
 * Pure: reports and the time in, status out.
 */
public final class MeshStatusAggregator {

  public static final String READY = "Ready";
  /** A proxy that just connected is still being served; only after this long unsynced is it stale. */
  public static final Duration STALE_GRACE = Duration.ofSeconds(10);

  private static final Map<String, String> TYPE_URLS = Map.of(
      "cds", "type.googleapis.com/envoy.config.cluster.v3.Cluster",
      "eds", "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
      "lds", "type.googleapis.com/envoy.config.listener.v3.Listener",
      "rds", "type.googleapis.com/envoy.config.route.v3.RouteConfiguration");

  private MeshStatusAggregator() {}

  /**
   * The next status. Reports from dead replicas are left out. {@code previous} (may be null) keeps
   * Ready's lastTransitionTime while its status holds, and lastUpdateTime while nothing else changed,
   * so an unchanged mesh compares equal and needs no write.
   */
  public static MeshStatusStatus next(MeshStatusStatus previous, Collection<SyncReportDocument> reports, Instant now) {
    List<SyncReportDocument> live = reports.stream().filter(r -> r.isLiveAt(now))
        .sorted(Comparator.comparing(SyncReportDocument::replica)).toList();
    int connected = 0;
    int synced = 0;
    List<ProxyReport> stale = new ArrayList<>();
    List<ProxyReport> nacked = new ArrayList<>();
    for (SyncReportDocument report : live) {
      for (SyncReportDocument.ProxyEntry proxy : report.proxies()) {
        connected++;
        if (proxy.standingNack().isPresent()) {
          nacked.add(nackReport(report, proxy));
        } else if (proxy.synced()) {
          synced++;
        } else if (SyncReportDocument.instant(proxy.connectedSince())
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
    // The operator issues no workload certificates yet; zero is the honest count.
    status.setCertificates(new CertificateCounts());
    status.setLastNack(nacked.isEmpty() ? null : nacked.get(0));
    status.setStaleProxies(stale.subList(0, Math.min(stale.size(), MeshStatusStatus.MAX_LISTED_PROXIES)));
    status.setNackedProxies(nacked.subList(0, Math.min(nacked.size(), MeshStatusStatus.MAX_LISTED_PROXIES)));
    status.setConditions(List.of(ready(previous, live.size(), connected, synced, stale.size(), nacked.size(), now)));
    status.setLastUpdateTime(previous == null ? null : previous.getLastUpdateTime());
    if (!status.equals(previous)) {
      status.setLastUpdateTime(timestamp(now));
    }
    return status;
  }

  private static Condition ready(MeshStatusStatus previous, int replicas, int connected, int synced, int stale,
      int nacked, Instant now) {
    Condition.Status value;
    String reason;
    String message;
    if (replicas == 0) {
      value = Condition.Status.False;
      reason = "NoXdsServer";
      message = "no xDS server replica reported within " + SyncReportDocument.HEARTBEATS_UNTIL_DEAD
          + " heartbeats; proxies keep their last config but get no updates";
    } else if (nacked > 0) {
      value = Condition.Status.False;
      reason = "ProxiesRejected";
      message = nacked + " of " + connected + " proxies rejected their newest config; see nackedProxies";
    } else if (synced < connected) {
      value = Condition.Status.False;
      reason = "ProxiesNotSynced";
      message = (connected - synced) + " of " + connected + " proxies have not applied their newest config yet ("
          + stale + " for longer than " + STALE_GRACE.toSeconds() + "s); see staleProxies";
    } else {
      value = Condition.Status.True;
      reason = "Synced";
      message = "all " + connected + " connected proxies applied their newest config; " + replicas
          + " xDS server replica(s) live";
    }
    Condition before = previous == null ? null : previous.getConditions().stream()
        .filter(c -> READY.equals(c.getType())).findFirst().orElse(null);
    String since = before != null && before.getStatus() == value && before.getLastTransitionTime() != null
        ? before.getLastTransitionTime() : timestamp(now);
    return new Condition(READY, value, reason, message, null, since);
  }

  private static ProxyReport nackReport(SyncReportDocument report, SyncReportDocument.ProxyEntry proxy) {
    SyncReportDocument.Nack nack = proxy.nack();
    ProxyReport entry = base(report, proxy);
    entry.setTypeUrl(TYPE_URLS.getOrDefault(Objects.toString(nack.type(), ""), nack.type()));
    entry.setVersion(nack.version());
    entry.setMessage(nack.message());
    entry.setSince(nack.at());
    return entry;
  }

  private static ProxyReport staleReport(SyncReportDocument report, SyncReportDocument.ProxyEntry proxy) {
    ProxyReport entry = base(report, proxy);
    entry.setSince(proxy.connectedSince());
    entry.setMessage("connected since " + proxy.connectedSince() + " and has not applied its newest config");
    return entry;
  }

  private static ProxyReport base(SyncReportDocument report, SyncReportDocument.ProxyEntry proxy) {
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
