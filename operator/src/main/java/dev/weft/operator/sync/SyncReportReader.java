package dev.weft.operator.sync;

import dev.weft.sync.report.SyncReport;
import dev.weft.sync.report.SyncReportJson;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the sync report out of a report ConfigMap, and says once per ConfigMap (and problem) why
 * one cannot be read: the reconcilers and the MeshStatus keeper read the same ConfigMaps every few
 * hundred milliseconds, and a log line each time would bury everything else.
 *
 * <p>A report in a newer schema version (an xds-server newer than this operator) is ignored as a
 * whole, logged as a warning that names the fix, and shown on MeshStatus' Ready condition by
 * {@link MeshStatusAggregator}; its replica's proxies are left out of every count meanwhile.
 */
final class SyncReportReader {

  private static final Logger LOG = LoggerFactory.getLogger(SyncReportReader.class);
  /** Plenty for the replicas of a few releases; past it, forgetting only means logging again. */
  private static final int MAX_REMEMBERED = 1000;
  private static final Set<String> SAID = ConcurrentHashMap.newKeySet();

  private SyncReportReader() {}

  /** What the ConfigMap holds: a report, one in a newer schema, or something else. */
  static SyncReportJson.Result read(ConfigMap map) {
    String json = map.getData() == null ? null : map.getData().get(SyncReport.DATA_KEY);
    SyncReportJson.Result result = SyncReportJson.read(json);
    String where = map.getMetadata().getNamespace() + "/" + map.getMetadata().getName();
    if (result instanceof SyncReportJson.NewerSchema newer && once(where + " schema " + newer.schemaVersion())) {
      LOG.warn("ConfigMap {} holds a sync report in schema version {}, newer than the version {} this operator "
          + "reads; it is ignored, so that replica's proxies are left out of Programmed and MeshStatus. Upgrade "
          + "the operator to the xds-server's release", where, newer.schemaVersion(), SyncReport.SCHEMA_VERSION);
    } else if (result instanceof SyncReportJson.Malformed malformed && once(where + " " + malformed.problem())) {
      LOG.warn("ConfigMap {} is labelled {}={} but holds no readable sync report ({}); ignored", where,
          SyncReport.LABEL, SyncReport.LABEL_VALUE, malformed.problem());
    }
    return result;
  }

  /** The report in the ConfigMap, or empty when it holds none this operator reads. */
  static Optional<SyncReport> report(ConfigMap map) {
    return read(map) instanceof SyncReportJson.Parsed parsed ? Optional.of(parsed.report()) : Optional.empty();
  }

  private static boolean once(String what) {
    if (SAID.size() >= MAX_REMEMBERED) {
      SAID.clear();
    }
    return SAID.add(what);
  }
}
