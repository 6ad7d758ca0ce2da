package dev.weft.xds.server;

import dev.weft.mesh.ProxyGroup;
import dev.weft.xds.translate.ProxyConfig;
import java.util.Collection;
import java.util.Map;

/**
 * Where the {@link SnapshotPublisher} gets Envoy resources from: the wiring implements it with the
 * translators over the newest mesh state.
 *
 * <p>{@link #newest()} binds one input (one mesh state instance): the publisher asks for it once
 * per publish and computes that publish's groups, and every group that joins until the next
 * publish, from what it returned. Joins thus translate the very state the last publish did, which
 * lets the translator reuse that state's shared part instead of building the mesh again per group.
 */
@FunctionalInterface
public interface ConfigSource {

  /** The configs of the newest input; must not call back into the publisher. */
  Configs newest();

  /**
   * The configs of one input. Contract: return a config for each of {@code groups} (build the
   * shared part once). A group left out of the result keeps the snapshot it has. Versions must be
   * content-derived and non-blank. The publisher calls this from one thread at a time, holding
   * none of the locks that proxies connecting need, and never from a gRPC thread; it may throw,
   * and then every group asked for keeps its last good snapshot.
   */
  @FunctionalInterface
  interface Configs {

    Map<ProxyGroup, ProxyConfig> configsFor(Collection<ProxyGroup> groups);
  }
}
