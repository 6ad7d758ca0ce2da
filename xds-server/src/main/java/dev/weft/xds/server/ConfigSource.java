package dev.weft.xds.server;

import dev.weft.mesh.ProxyGroup;
import dev.weft.xds.translate.ProxyConfig;
import java.util.Collection;
import java.util.Map;

/**
 * Where the {@link SnapshotPublisher} gets Envoy resources from: the wiring implements it with the
 * translators over the newest mesh state.
 *
 * <p>Contract: return a config for each of {@code groups}, all computed from one and the same mesh
 * state (build the shared part once). A group left out of the result keeps the snapshot it has.
 * Versions must be content-derived and non-blank. The publisher calls this from one thread at a
 * time, while holding its own lock, so it must not call back into the publisher; it may throw,
 * and then every group keeps its last good snapshot.
 */
@FunctionalInterface
public interface ConfigSource {

  Map<ProxyGroup, ProxyConfig> configsFor(Collection<ProxyGroup> groups);
}
