package dev.weft.xds.sync;

import dev.weft.mesh.SourceRef;
import dev.weft.xds.server.GroupStatus;
import dev.weft.xds.server.Json;
import dev.weft.xds.server.ProxyStatus;
import dev.weft.xds.server.ProxySyncTracker;
import dev.weft.xds.server.SnapshotPublisher;
import dev.weft.xds.server.XdsType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One replica's sync report, the document {@link SyncReportPublisher} keeps in the ConfigMap key
 * {@value SyncReportPublisher#DATA_KEY} and the operator reads. This is the contract; every field
 * is always present unless marked optional:
 *
 * <pre>{@code
 * {
 *   "replica": "weft-xds-7d9f-abcde",        // the xds-server pod's name
 *   "updated": "2024-05-01T12:00:00Z",       // RFC 3339, UTC; rewritten at least every heartbeat
 *   "heartbeatSeconds": 10,                  // a report whose "updated" is much older (say 3x) is from a dead replica
 *   "proxies": [                             // connected proxies: NACKed first, then unsynced, then synced; by id
 *     {"id": "web-1.shop",                   // Envoy node id, <pod>.<namespace>
 *      "namespace": "shop",
 *      "group": "web.shop@0.0.0.0:8080",     // the proxy group whose config it gets
 *      "connectedSince": "2024-05-01T11:58:03Z",
 *      "synced": true,                       // applied the newest version of every type it subscribes to
 *      "nack": {                             // optional: only while a rejection stands
 *        "type": "rds",                      // cds, eds, lds or rds
 *        "version": "3f2a9c0d11e4b5a6",      // the version it rejected
 *        "message": "...",                   // Envoy's error_detail, at most 1024 characters
 *        "at": "2024-05-01T11:59:00Z"}}
 *   ],
 *   "resources": [                           // user resources in some connected proxy's config; NACKed first,
 *     {"kind": "TrafficSplit",               // then not fully acked, then the rest, by kind/namespace/name/generation
 *      "namespace": "shop", "name": "payments", "generation": 3,
 *      "proxies": 12,                        // connected proxies whose config contains this generation
 *      "acked": 11,                          // of those, how many applied a config containing it (never one in nacked)
 *      "nacked": [{"proxy": "web-1.shop", "message": "..."}]}   // standing rejections of a config containing it
 *   ],
 *   "truncated": false                       // true when a list or a message was cut to fit the limits
 * }
 * }</pre>
 *
 * A resource appears once per generation that some proxy's config contains (two while a change
 * is rolling out); the operator should read the entry whose generation is the resource's
 * {@code metadata.generation}. A resource no connected proxy needs and none rejected is absent.
 * Each replica reports only its own proxies; the operator adds the replicas up.
 */
public final class SyncReport {

  /** Bounds that keep the document well under the 1 MiB a ConfigMap may hold. */
  public record Limits(int proxies, int resources, int nackedPerResource, int messageChars, int bytes) {

    /** At most 1000 proxies, 1000 resources, 20 rejections per resource, 1 KiB messages, 900 KiB in all. */
    public static final Limits DEFAULT = new Limits(1000, 1000, 20, 1024, 900 * 1024);
  }

  private final List<Map<String, Object>> proxies;
  private final List<Map<String, Object>> resources;
  private final boolean truncated;
  private final String content;

  private SyncReport(List<Map<String, Object>> proxies, List<Map<String, Object>> resources, boolean truncated) {
    this.proxies = proxies;
    this.resources = resources;
    this.truncated = truncated;
    this.content = Json.write(body(null, null, 0));
  }

  /** The report of these proxies and resources, cut to {@code limits}. */
  public static SyncReport of(List<ProxyStatus> proxies, ResourceSyncView view, Limits limits) {
    List<ProxyStatus> ordered = new ArrayList<>(ResourceSyncView.newestStreamPerProxy(proxies));
    ordered.sort(Comparator.comparingInt(SyncReport::proxyRank).thenComparing(ProxyStatus::nodeId));
    List<ResourceSyncView.ResourceSync> resources = new ArrayList<>(view.resources());
    resources.sort(Comparator.comparingInt(SyncReport::resourceRank)
        .thenComparing(ResourceSyncView.ResourceSync::source, ResourceSyncView.BY_NAME));

    int proxyLimit = limits.proxies();
    int resourceLimit = limits.resources();
    while (true) {
      boolean[] cut = {ordered.size() > proxyLimit || resources.size() > resourceLimit};
      List<Map<String, Object>> proxyEntries = new ArrayList<>();
      for (ProxyStatus proxy : ordered.subList(0, Math.min(proxyLimit, ordered.size()))) {
        proxyEntries.add(proxyEntry(proxy, limits, cut));
      }
      List<Map<String, Object>> resourceEntries = new ArrayList<>();
      for (ResourceSyncView.ResourceSync resource : resources.subList(0, Math.min(resourceLimit, resources.size()))) {
        resourceEntries.add(resourceEntry(resource, limits, cut));
      }
      SyncReport report = new SyncReport(proxyEntries, resourceEntries, cut[0]);
      if (report.content.getBytes(StandardCharsets.UTF_8).length <= limits.bytes()
          || (proxyLimit == 0 && resourceLimit == 0)) {
        return report;
      }
      // Too big even within the counts (long messages): halve the lists until it fits.
      proxyLimit = Math.min(proxyLimit, proxyEntries.size()) / 2;
      resourceLimit = Math.min(resourceLimit, resourceEntries.size()) / 2;
    }
  }

  /** The live report of this replica: the tracker's proxies and what the served versions contain. */
  public static Supplier<SyncReport> live(ProxySyncTracker tracker, SnapshotPublisher publisher,
      ConfigProvenance provenance, Limits limits) {
    Objects.requireNonNull(limits, "limits");
    return () -> {
      provenance.retainGroups(publisher.groups().stream().map(GroupStatus::groupId).toList());
      List<ProxyStatus> proxies = tracker.proxies();
      return of(proxies, ResourceSyncView.of(proxies, publisher::servedVersions, provenance::sourcesOf), limits);
    };
  }

  /** Everything but the replica, time and heartbeat: two reports with equal content need no write. */
  public String content() {
    return content;
  }

  public boolean truncated() {
    return truncated;
  }

  /** The document as written to the ConfigMap. */
  public String json(String replica, Instant updated, Duration heartbeat) {
    return Json.write(body(replica, updated, heartbeat.toSeconds()));
  }

  private Map<String, Object> body(String replica, Instant updated, long heartbeatSeconds) {
    Map<String, Object> body = new LinkedHashMap<>();
    if (replica != null) {
      body.put("replica", replica);
      body.put("updated", time(updated));
      body.put("heartbeatSeconds", heartbeatSeconds);
    }
    body.put("proxies", proxies);
    body.put("resources", resources);
    body.put("truncated", truncated);
    return body;
  }

  private static Map<String, Object> proxyEntry(ProxyStatus proxy, Limits limits, boolean[] cut) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("id", proxy.nodeId());
    entry.put("namespace", proxy.namespace());
    entry.put("group", proxy.groupId());
    entry.put("connectedSince", time(proxy.connectedAt()));
    entry.put("synced", proxy.synced());
    standingNack(proxy).ifPresent(nack -> {
      Map<String, Object> rejection = new LinkedHashMap<>();
      rejection.put("type", XdsType.shortName(nack.typeUrl()));
      rejection.put("version", nack.version());
      rejection.put("message", cut(nack.message(), limits, cut));
      rejection.put("at", time(nack.at()));
      entry.put("nack", rejection);
    });
    return entry;
  }

  private static Map<String, Object> resourceEntry(ResourceSyncView.ResourceSync resource, Limits limits,
      boolean[] cut) {
    SourceRef source = resource.source();
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("kind", source.kind());
    entry.put("namespace", source.namespace());
    entry.put("name", source.name());
    entry.put("generation", source.generation());
    entry.put("proxies", resource.proxies());
    entry.put("acked", resource.acked());
    List<Map<String, Object>> nacked = new ArrayList<>();
    for (ResourceSyncView.Rejection rejection : resource.nacked()) {
      if (nacked.size() == limits.nackedPerResource()) {
        cut[0] = true;
        break;
      }
      Map<String, Object> item = new LinkedHashMap<>();
      item.put("proxy", rejection.proxy());
      item.put("message", cut(rejection.message(), limits, cut));
      nacked.add(item);
    }
    entry.put("nacked", nacked);
    return entry;
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

  /** RFC 3339 in UTC to the second, as Kubernetes writes times. */
  static String time(Instant instant) {
    return instant == null ? null : instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
