package dev.weft.xds.sync;

import dev.weft.mesh.SourceRef;
import dev.weft.sync.report.SyncReport;
import dev.weft.sync.report.SyncReportJson;
import dev.weft.xds.server.GroupStatus;
import dev.weft.xds.server.ProxyStatus;
import dev.weft.xds.server.ProxySyncTracker;
import dev.weft.xds.server.SnapshotPublisher;
import dev.weft.xds.server.XdsType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Builds this replica's {@link SyncReport} (the contract, documented there) from the tracker's
 * proxies and the {@link ResourceSyncView}: orders the entries as the contract says and keeps the
 * report within its {@link Limits}. The report comes out unstamped; {@link SyncReportPublisher}
 * stamps it with the replica and the time when it writes it.
 */
public final class SyncReportBuilder {

  /** Bounds that keep the document well under the 1 MiB a ConfigMap may hold. */
  public record Limits(int proxies, int resources, int nackedPerResource, int messageChars, int bytes) {

    /** At most 1000 proxies, 1000 resources, 20 rejections per resource, 1 KiB messages, 900 KiB in all. */
    public static final Limits DEFAULT = new Limits(1000, 1000, 20, 1024, 900 * 1024);
  }

  /** Room for what stamping adds (replica, time, heartbeat) on top of the measured content. */
  private static final int STAMP_BYTES = 400;

  private SyncReportBuilder() {}

  /** The report of these proxies and resources, cut to {@code limits}. */
  public static SyncReport build(List<ProxyStatus> proxies, ResourceSyncView view, Limits limits) {
    List<ProxyStatus> ordered = new ArrayList<>(ResourceSyncView.newestStreamPerProxy(proxies));
    ordered.sort(Comparator.comparingInt(SyncReportBuilder::proxyRank).thenComparing(ProxyStatus::nodeId));
    List<ResourceSyncView.ResourceSync> resources = new ArrayList<>(view.resources());
    resources.sort(Comparator.comparingInt(SyncReportBuilder::resourceRank)
        .thenComparing(ResourceSyncView.ResourceSync::source, ResourceSyncView.BY_NAME));

    int proxyLimit = limits.proxies();
    int resourceLimit = limits.resources();
    while (true) {
      boolean[] cut = {ordered.size() > proxyLimit || resources.size() > resourceLimit};
      List<SyncReport.ProxyEntry> proxyEntries = new ArrayList<>();
      for (ProxyStatus proxy : ordered.subList(0, Math.min(proxyLimit, ordered.size()))) {
        proxyEntries.add(proxyEntry(proxy, limits, cut));
      }
      List<SyncReport.ResourceEntry> resourceEntries = new ArrayList<>();
      for (ResourceSyncView.ResourceSync resource : resources.subList(0, Math.min(resourceLimit, resources.size()))) {
        resourceEntries.add(resourceEntry(resource, limits, cut));
      }
      SyncReport report = SyncReport.content(proxyEntries, resourceEntries, cut[0]);
      int bytes = SyncReportJson.write(report).getBytes(StandardCharsets.UTF_8).length + STAMP_BYTES;
      if (bytes <= limits.bytes() || (proxyLimit == 0 && resourceLimit == 0)) {
        return report;
      }
      // Too big even within the counts (long messages): halve the lists until it fits.
      proxyLimit = Math.min(proxyLimit, proxyEntries.size()) / 2;
      resourceLimit = Math.min(resourceLimit, resourceEntries.size()) / 2;
    }
  }

  /**
   * The live report of this replica: the tracker's proxies, what the served versions contain, and
   * the namespaces it watches (empty: all), so that the operator does not wait on this replica for
   * resources it never sees. The namespace list is not counted against the byte limit: it is a
   * handful of names, and the limit leaves room below the ConfigMap's.
   */
  public static Supplier<SyncReport> live(ProxySyncTracker tracker, SnapshotPublisher publisher,
      ConfigProvenance provenance, Limits limits, Set<String> watchedNamespaces) {
    Objects.requireNonNull(limits, "limits");
    List<String> watched = List.copyOf(watchedNamespaces);
    return () -> {
      provenance.retainGroups(publisher.groups().stream().map(GroupStatus::groupId).toList());
      List<ProxyStatus> proxies = tracker.proxies();
      return build(proxies, ResourceSyncView.of(proxies, publisher::servedVersions, provenance::sourcesOf), limits)
          .watching(watched);
    };
  }

  private static SyncReport.ProxyEntry proxyEntry(ProxyStatus proxy, Limits limits, boolean[] cut) {
    SyncReport.Nack nack = standingNack(proxy)
        .map(n -> new SyncReport.Nack(XdsType.shortName(n.typeUrl()), n.version(), cut(n.message(), limits, cut),
            SyncReport.time(n.at())))
        .orElse(null);
    return new SyncReport.ProxyEntry(proxy.nodeId(), proxy.namespace(), proxy.groupId(),
        SyncReport.time(proxy.connectedAt()), proxy.synced(), nack);
  }

  private static SyncReport.ResourceEntry resourceEntry(ResourceSyncView.ResourceSync resource, Limits limits,
      boolean[] cut) {
    SourceRef source = resource.source();
    List<SyncReport.Rejection> nacked = new ArrayList<>();
    for (ResourceSyncView.Rejection rejection : resource.nacked()) {
      if (nacked.size() == limits.nackedPerResource()) {
        cut[0] = true;
        break;
      }
      nacked.add(new SyncReport.Rejection(rejection.proxy(), cut(rejection.message(), limits, cut)));
    }
    return new SyncReport.ResourceEntry(source.kind(), source.namespace(), source.name(), source.generation(),
        resource.proxies(), resource.acked(), nacked);
  }

  /** The newest rejection that still stands on the proxy, if any. */
  private static Optional<ProxyStatus.Nack> standingNack(ProxyStatus proxy) {
    return proxy.types().stream()
        .map(ProxyStatus.TypeStatus::nack)
        .filter(Objects::nonNull)
        .max(Comparator.comparing(ProxyStatus.Nack::at));
  }

  private static int proxyRank(ProxyStatus proxy) {
    return proxy.nacked() ? 0 : proxy.synced() ? 2 : 1;
  }

  private static int resourceRank(ResourceSyncView.ResourceSync resource) {
    return !resource.nacked().isEmpty() ? 0 : resource.acked() < resource.proxies() ? 1 : 2;
  }

  private static String cut(String message, Limits limits, boolean[] cut) {
    String text = message == null ? "" : message;
    if (text.length() <= limits.messageChars()) {
      return text;
    }
    cut[0] = true;
    int end = limits.messageChars();
    // Never split a surrogate pair: half a character is not valid UTF-8.
    if (end > 0 && Character.isHighSurrogate(text.charAt(end - 1))) {
      end--;
    }
    return text.substring(0, end);
  }
}
