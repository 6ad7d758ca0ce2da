package dev.weft.operator.sync;

import dev.weft.sync.report.SyncReport;
import java.util.List;
import java.util.stream.IntStream;

/** Small builders of sync reports for the aggregation tests. */
final class Reports {

  private Reports() {}

  static SyncReport report(String replica, String updated, List<SyncReport.ProxyEntry> proxies,
      List<SyncReport.ResourceEntry> resources) {
    return new SyncReport(SyncReport.SCHEMA_VERSION, replica, updated, 10, proxies, resources, false);
  }

  static SyncReport.ProxyEntry synced(String id) {
    return new SyncReport.ProxyEntry(id, "shop", "g", "2025-05-01T10:00:00Z", true, null);
  }

  static SyncReport.ProxyEntry unsynced(String id, String since) {
    return new SyncReport.ProxyEntry(id, "shop", "g", since, false, null);
  }

  static SyncReport.ProxyEntry nacked(String id, String at, String message) {
    return new SyncReport.ProxyEntry(id, "shop", "g", "2025-05-01T10:00:00Z", false,
        new SyncReport.Nack("rds", "v7", message, at));
  }

  /** {@code count} synced proxies, web-0.shop and on. */
  static List<SyncReport.ProxyEntry> syncedProxies(int count) {
    return IntStream.range(0, count).mapToObj(i -> synced("web-" + i + ".shop")).toList();
  }

  static SyncReport.ResourceEntry split(long generation, int proxies, int acked, SyncReport.Rejection... nacked) {
    return new SyncReport.ResourceEntry("TrafficSplit", "shop", "pay", generation, proxies, acked, List.of(nacked));
  }
}
