package dev.weft.operator.sync;

import java.util.List;

/** Small builders of sync reports for the aggregation tests. */
final class Reports {

  private Reports() {}

  static SyncReportDocument report(String replica, String updated, List<SyncReportDocument.ProxyEntry> proxies,
      List<SyncReportDocument.ResourceEntry> resources) {
    return new SyncReportDocument(replica, updated, 10, proxies, resources, false);
  }

  static SyncReportDocument.ProxyEntry synced(String id) {
    return new SyncReportDocument.ProxyEntry(id, "shop", "g", "2025-05-01T10:00:00Z", true, null);
  }

  static SyncReportDocument.ProxyEntry unsynced(String id, String since) {
    return new SyncReportDocument.ProxyEntry(id, "shop", "g", since, false, null);
  }

  static SyncReportDocument.ProxyEntry nacked(String id, String at, String message) {
    return new SyncReportDocument.ProxyEntry(id, "shop", "g", "2025-05-01T10:00:00Z", false,
        new SyncReportDocument.Nack("rds", "v7", message, at));
  }

  static SyncReportDocument.ResourceEntry split(long generation, int proxies, int acked,
      SyncReportDocument.Rejection... nacked) {
    return new SyncReportDocument.ResourceEntry("TrafficSplit", "shop", "pay", generation, proxies, acked,
        List.of(nacked));
  }
}
