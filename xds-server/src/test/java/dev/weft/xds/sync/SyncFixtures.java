package dev.weft.xds.sync;

import dev.weft.mesh.SourceRef;
import dev.weft.xds.server.ProxyStatus;
import dev.weft.xds.translate.Translation;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Hand-built inputs for the sync view and report: statuses, versions and what versions contain. */
final class SyncFixtures {

  static final String RDS = Translation.ROUTE_TYPE_URL;
  static final String LDS = Translation.LISTENER_TYPE_URL;
  static final String CDS = Translation.CLUSTER_TYPE_URL;
  static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");
  static final String WEB = "web.shop@0.0.0.0:8080";
  static final String API = "api.shop@0.0.0.0:9090";

  static final SourceRef CANARY = split("payments-canary", 3);
  static final SourceRef CANARY_V4 = split("payments-canary", 4);
  static final SourceRef ROUTES = new SourceRef("VirtualService", "shop", "payments-api", 1, "2024-01-02T00:00:00Z");

  private SyncFixtures() {}

  static SourceRef split(String name, long generation) {
    return new SourceRef("TrafficSplit", "shop", name, generation, "2024-01-01T00:00:00Z");
  }

  static ProxyStatus proxy(String nodeId, String group, long streamId, boolean synced,
      ProxyStatus.TypeStatus... types) {
    return new ProxyStatus(nodeId, "shop", group, streamId, ProxyStatus.Protocol.STATE_OF_THE_WORLD,
        T0.plusSeconds(streamId), List.of(types), null, synced);
  }

  /** A type the proxy applied {@code acked} of. */
  static ProxyStatus.TypeStatus acked(String typeUrl, String acked) {
    return new ProxyStatus.TypeStatus(typeUrl, acked, "n-" + acked, acked, acked, null);
  }

  /** A type whose version {@code rejected} the proxy refused, still applying {@code kept}. */
  static ProxyStatus.TypeStatus nacked(String typeUrl, String kept, String rejected, String message) {
    ProxyStatus.Nack nack = new ProxyStatus.Nack(typeUrl, rejected, "n-" + rejected, message, T0.plusSeconds(30));
    return new ProxyStatus.TypeStatus(typeUrl, rejected, "n-" + rejected, kept, rejected, nack);
  }

  /** What versions contain, filled in by tests. */
  static final class Contents implements ResourceSyncView.VersionContents {
    private final Map<String, Set<SourceRef>> byKey = new HashMap<>();

    Contents with(String group, String typeUrl, String version, SourceRef... sources) {
      byKey.put(group + " " + typeUrl + " " + version, Set.of(sources));
      return this;
    }

    @Override
    public Set<SourceRef> sourcesOf(String groupId, String typeUrl, String version) {
      return byKey.getOrDefault(groupId + " " + typeUrl + " " + version, Set.of());
    }
  }
}
