package dev.weft.sync.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One xds-server replica's sync report: the contract between the replica, which keeps it in the
 * ConfigMap {@value #CONFIG_MAP_PREFIX}{@code <pod>} (labelled {@value #LABEL}={@value #LABEL_VALUE},
 * key {@value #DATA_KEY}), and the operator, which adds up all replicas' reports into the
 * resources' {@code Programmed} condition and MeshStatus. Both sides use this type and
 * {@link SyncReportJson}; the JSON, with every field always present unless marked optional:
 *
 * <pre>{@code
 * {
 *   "schemaVersion": 1,                      // see below; absent in reports written before it existed (= 1)
 *   "replica": "weft-xds-7d9f-abcde",        // the xds-server pod's name
 *   "updated": "2024-05-01T12:00:00Z",       // RFC 3339, UTC; rewritten at least every heartbeat
 *   "heartbeatSeconds": 10,                  // a report whose "updated" is 3 heartbeats old is from a dead replica
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
 *   "truncated": false,                      // true when a list or a message was cut to fit the limits
 *   "namespaces": ["shop", "web"]            // optional: the namespaces the replica watches; absent = all
 * }
 * }</pre>
 *
 * A resource appears once per generation that some proxy's config contains (two while a change
 * is rolling out); a reader wants the entry whose generation is the resource's
 * {@code metadata.generation}. A resource no connected proxy needs and none rejected is absent.
 * Each replica reports only its own proxies.
 *
 * <p><b>Schema version.</b> Adding a field does not change {@link #SCHEMA_VERSION}: readers ignore
 * fields they do not know, so an older reader still reads a newer writer's report correctly. The
 * version goes up only when an older reader would misread a report (a field removed, renamed or
 * given another meaning); a reader that meets a version newer than its own ignores that report
 * instead of guessing ({@link SyncReportJson#read}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"schemaVersion", "replica", "updated", "heartbeatSeconds", "proxies", "resources", "truncated",
    "namespaces"})
public record SyncReport(int schemaVersion, String replica, String updated, long heartbeatSeconds,
    List<ProxyEntry> proxies, List<ResourceEntry> resources, boolean truncated,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> namespaces) {

  /** The version this code writes and the newest it reads. */
  public static final int SCHEMA_VERSION = 1;
  /** The ConfigMap of replica {@code <pod>} is named this, then the pod name (made a valid object name). */
  public static final String CONFIG_MAP_PREFIX = "weft-xds-sync-";
  /** The label that marks a report ConfigMap, and its value. */
  public static final String LABEL = "weft.dev/sync-report";
  public static final String LABEL_VALUE = "xds";
  /** The ConfigMap key that holds the JSON. */
  public static final String DATA_KEY = "report.json";
  /** A report not rewritten within this many heartbeats is from a dead replica. */
  public static final int HEARTBEATS_UNTIL_DEAD = 3;

  /** Lists are never null; a report without a version (written before there was one) is version 1. */
  public SyncReport {
    schemaVersion = schemaVersion == 0 ? 1 : schemaVersion;
    proxies = proxies == null ? List.of() : List.copyOf(proxies);
    resources = resources == null ? List.of() : List.copyOf(resources);
    namespaces = namespaces == null ? List.of() : namespaces.stream().sorted().distinct().toList();
  }

  /** A report of a replica that watches every namespace. */
  public SyncReport(int schemaVersion, String replica, String updated, long heartbeatSeconds,
      List<ProxyEntry> proxies, List<ResourceEntry> resources, boolean truncated) {
    this(schemaVersion, replica, updated, heartbeatSeconds, proxies, resources, truncated, List.of());
  }

  /** A report's content before it is stamped: equal content means nothing to write but a heartbeat. */
  public static SyncReport content(List<ProxyEntry> proxies, List<ResourceEntry> resources, boolean truncated) {
    return new SyncReport(SCHEMA_VERSION, null, null, 0, proxies, resources, truncated);
  }

  /** This content as written by {@code replica} at {@code updated}, promising a rewrite every {@code heartbeat}. */
  public SyncReport stamped(String replica, Instant updated, Duration heartbeat) {
    return new SyncReport(SCHEMA_VERSION, replica, time(updated), heartbeat.toSeconds(), proxies, resources,
        truncated, namespaces);
  }

  /** This report from a replica that watches only {@code watched} (empty: every namespace). */
  public SyncReport watching(Collection<String> watched) {
    return new SyncReport(schemaVersion, replica, updated, heartbeatSeconds, proxies, resources, truncated,
        List.copyOf(watched));
  }

  /**
   * Whether the replica watches {@code namespace}, so that its proxies get the namespace's
   * TrafficSplits and VirtualServices at all. A report without the field is from a replica that
   * watches every namespace, or from one written before the field existed.
   */
  public boolean watches(String namespace) {
    return namespaces.isEmpty() || namespaces.contains(namespace);
  }

  /** A connected proxy. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonPropertyOrder({"id", "namespace", "group", "connectedSince", "synced", "nack"})
  public record ProxyEntry(String id, String namespace, String group, String connectedSince, boolean synced,
      Nack nack) {

    /** The rejection, while it stands (only standing ones are reported). */
    public Optional<Nack> standingNack() {
      return Optional.ofNullable(nack);
    }
  }

  /** The rejection that still stands on a proxy, with Envoy's message. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonPropertyOrder({"type", "version", "message", "at"})
  public record Nack(String type, String version, String message, String at) {}

  /** How one generation of a TrafficSplit or VirtualService fares on the replica's proxies. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonPropertyOrder({"kind", "namespace", "name", "generation", "proxies", "acked", "nacked"})
  public record ResourceEntry(String kind, String namespace, String name, long generation, int proxies, int acked,
      List<Rejection> nacked) {

    public ResourceEntry {
      nacked = nacked == null ? List.of() : List.copyOf(nacked);
    }

    public boolean is(String otherKind, String otherNamespace, String otherName) {
      return Objects.equals(kind, otherKind) && Objects.equals(namespace, otherNamespace)
          && Objects.equals(name, otherName);
    }
  }

  /** One proxy's standing rejection of a config containing the resource. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonPropertyOrder({"proxy", "message"})
  public record Rejection(String proxy, String message) {}

  public Optional<Instant> updatedAt() {
    return instant(updated);
  }

  /** Rewritten within the last {@value #HEARTBEATS_UNTIL_DEAD} heartbeats: the replica is alive. */
  public boolean isLiveAt(Instant now) {
    return deadAfter().map(dead -> !dead.isBefore(now)).orElse(false);
  }

  /** The last instant this report counts as live unless it is rewritten. */
  public Optional<Instant> deadAfter() {
    Duration allowance = Duration.ofSeconds(Math.max(1, heartbeatSeconds) * HEARTBEATS_UNTIL_DEAD);
    return updatedAt().map(u -> u.plus(allowance));
  }

  /** Whether this report has an entry, of any generation, for the resource. */
  public boolean lists(String kind, String namespace, String name) {
    return resources.stream().anyMatch(r -> r.is(kind, namespace, name));
  }

  /** RFC 3339 in UTC to the second, as Kubernetes writes times; null for null. */
  public static String time(Instant instant) {
    return instant == null ? null : instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** The instant in an RFC 3339 text; empty when absent or not a time. */
  public static Optional<Instant> instant(String text) {
    if (text == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(text));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
