/**
 * The sync report, the one contract between the two processes: each xds-server replica writes
 * which proxies are connected and which user resources they applied or rejected
 * ({@link dev.weft.sync.report.SyncReport}), the operator reads every replica's report, and both
 * go through {@link dev.weft.sync.report.SyncReportJson}. Depends on Jackson only.
 */
package dev.weft.sync.report;
