package dev.weft.xds.server;

import dev.weft.mesh.ProxyGroup;
import java.time.Instant;
import java.util.Map;

/**
 * What the publisher serves one proxy group: the versions per type URL of its current snapshot
 * (empty until it has one), how many proxy streams are connected, since when it has had none
 * ({@code null} while some are connected), and the last error that kept a new snapshot from being
 * served ({@code null} when the newest computation was served).
 */
public record GroupStatus(ProxyGroup group, int connectedStreams, Map<String, String> versions, Instant idleSince,
    String lastError) {

  public GroupStatus {
    versions = Map.copyOf(versions);
  }

  public String groupId() {
    return group.id();
  }
}
