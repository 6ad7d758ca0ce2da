/**
 * Whether the config users wrote has reached the proxies, and how that leaves the replica: which
 * user resources each served config version contains ({@link dev.weft.xds.sync.ConfigProvenance}),
 * per resource how many proxies need it, have accepted it or rejected it
 * ({@link dev.weft.xds.sync.ResourceSyncView}), and the replica's sync report, kept in a
 * ConfigMap for the operator ({@link dev.weft.xds.sync.SyncReportPublisher}).
 */
package dev.weft.xds.sync;
