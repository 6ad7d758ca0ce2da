package dev.weft.xds.sync;

import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.SourceRef;
import dev.weft.xds.server.SnapshotPublisher;
import dev.weft.xds.translate.ProxyConfig;
import dev.weft.xds.translate.Translation;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Remembers, per proxy group and xDS type, which user resources each recent version of the
 * group's config contains, so a version a proxy acked or rejected can be traced to TrafficSplits
 * and VirtualServices.
 *
 * <p>Keyed by version rather than by "the current translation" because what a proxy reports is a
 * version: the publisher may keep serving an older snapshot (a new one failed its consistency
 * check), and a proxy may have acked or rejected a version that is no longer the newest. Versions
 * are content hashes, so one version always holds the same resources; when a newer translation
 * yields the same version (say, a spec change with the same effect), its sources replace the old
 * ones, since the proxies that hold that version hold the newer generation's effect too. The
 * {@value #VERSIONS_KEPT} newest versions per group and type are kept.
 */
public final class ConfigProvenance {

  static final int VERSIONS_KEPT = 8;

  /** Group id, then type URL, then version (oldest first), then the sources. Guarded by this. */
  private final Map<String, Map<String, LinkedHashMap<String, Set<SourceRef>>>> byGroup = new HashMap<>();

  /**
   * Records the configs about to be served, whose sources {@code translation} tells; their
   * versions are what count.
   */
  public synchronized void record(Map<ProxyGroup, ProxyConfig> configs, Translation translation) {
    // Groups with one config share its source sets (the very objects): each is copied once, not
    // once per group (100 groups × ~200 sources per publish at 1,000 Services).
    Map<Set<SourceRef>, Set<SourceRef>> copies = new IdentityHashMap<>();
    configs.forEach((group, config) -> {
      Map<String, LinkedHashMap<String, Set<SourceRef>>> types = byGroup.computeIfAbsent(group.id(),
          id -> new HashMap<>());
      SnapshotPublisher.versionsOf(config).forEach((typeUrl, version) -> {
        LinkedHashMap<String, Set<SourceRef>> versions = types.computeIfAbsent(typeUrl, t -> new LinkedHashMap<>());
        // Re-inserted, so the version counts as the newest again.
        versions.remove(version);
        versions.put(version, copies.computeIfAbsent(translation.sources(group, typeUrl), Set::copyOf));
        while (versions.size() > VERSIONS_KEPT) {
          versions.remove(versions.keySet().iterator().next());
        }
      });
    });
  }

  /** The user resources in version {@code version} of the group's {@code typeUrl} resources; empty when unknown. */
  public synchronized Set<SourceRef> sourcesOf(String groupId, String typeUrl, String version) {
    Map<String, LinkedHashMap<String, Set<SourceRef>>> types = byGroup.get(groupId);
    LinkedHashMap<String, Set<SourceRef>> versions = types == null ? null : types.get(typeUrl);
    Set<SourceRef> sources = versions == null ? null : versions.get(version);
    return sources == null ? Set.of() : sources;
  }

  /** Forgets the groups not in {@code groupIds} (the publisher dropped their snapshots). */
  public synchronized void retainGroups(Collection<String> groupIds) {
    byGroup.keySet().retainAll(new HashSet<>(groupIds));
  }

  /** How many versions are remembered in all; for tests. */
  synchronized int size() {
    return byGroup.values().stream().flatMap(t -> t.values().stream()).mapToInt(Map::size).sum();
  }
}
