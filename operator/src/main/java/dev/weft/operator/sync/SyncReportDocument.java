package dev.weft.operator.sync;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;

/**
 * One xds-server replica's sync report as the operator reads it: the document in the key
 * {@value #DATA_KEY} of a ConfigMap labelled {@value #LABEL}={@value #LABEL_VALUE} (the contract is
 * the Javadoc of the xds-server's {@code dev.weft.xds.sync.SyncReport}). Times stay RFC 3339
 * strings as written; {@link #updatedAt()} and friends parse them.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SyncReportDocument(String replica, String updated, long heartbeatSeconds, List<ProxyEntry> proxies,
    List<ResourceEntry> resources, boolean truncated) {

  public static final String LABEL = "weft.dev/sync-report";
  public static final String LABEL_VALUE = "xds";
  public static final String DATA_KEY = "report.json";
  /** A report not rewritten within this many heartbeats is from a dead replica. */
  public static final int HEARTBEATS_UNTIL_DEAD = 3;

  private static final ObjectMapper JSON = new ObjectMapper();

  public SyncReportDocument {
    proxies = proxies == null ? List.of() : List.copyOf(proxies);
    resources = resources == null ? List.of() : List.copyOf(resources);
  }

  /** A connected proxy. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record ProxyEntry(String id, String namespace, String group, String connectedSince, boolean synced,
      Nack nack) {

    /** The rejection, while it stands (the xds-server reports only standing ones). */
    public Optional<Nack> standingNack() {
      return Optional.ofNullable(nack);
    }
  }

  /** The rejection that still stands on a proxy, with Envoy's message. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Nack(String type, String version, String message, String at) {}

  /** How one generation of a TrafficSplit or VirtualService fares on this replica's proxies. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record ResourceEntry(String kind, String namespace, String name, long generation, int proxies, int acked,
      List<Rejection> nacked) {

    public ResourceEntry {
      nacked = nacked == null ? List.of() : List.copyOf(nacked);
    }

    public boolean is(String otherKind, String otherNamespace, String otherName) {
      return kind.equals(otherKind) && namespace.equals(otherNamespace) && name.equals(otherName);
    }
  }

  /** One proxy's standing rejection of a config containing the resource. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Rejection(String proxy, String message) {}

  /** The report in {@code json}; empty (logged by the caller) when it is not a report. */
  public static Optional<SyncReportDocument> parse(String json) {
    if (json == null || json.isBlank()) {
      return Optional.empty();
    }
    try {
      SyncReportDocument report = JSON.readValue(json, SyncReportDocument.class);
      return report.replica() == null || report.updatedAt().isEmpty() ? Optional.empty() : Optional.of(report);
    } catch (JsonProcessingException e) {
      return Optional.empty();
    }
  }

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

  static Optional<Instant> instant(String text) {
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
