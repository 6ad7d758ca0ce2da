package dev.weft.xds.server.delta;

import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What changed in one resource type from one snapshot to the next: the names added or given a new
 * version, and the names gone. Computed once per pair of snapshots and shared by every stream that
 * moves between them ({@link Cache}); each stream then only filters it by its subscription, so a
 * weight edit costs each of 2,000 streams a look at the one or two changed names rather than a
 * comparison of the ~6,000 names it subscribes to.
 */
public record ResourceDiff(List<String> changed, List<String> removed) {

  public ResourceDiff {
    changed = List.copyOf(changed);
    removed = List.copyOf(removed);
  }

  /** The difference between two versions of a type's resources; versions are content digests. */
  public static ResourceDiff between(SnapshotResources<?> before, SnapshotResources<?> after) {
    Map<String, ? extends VersionedResource<?>> old = before.versionedResources();
    Map<String, ? extends VersionedResource<?>> now = after.versionedResources();
    List<String> changed = new ArrayList<>();
    now.forEach((name, resource) -> {
      VersionedResource<?> was = old.get(name);
      if (was == null || !was.version().equals(resource.version())) {
        changed.add(name);
      }
    });
    List<String> removed = new ArrayList<>();
    old.keySet().forEach(name -> {
      if (!now.containsKey(name)) {
        removed.add(name);
      }
    });
    return new ResourceDiff(changed, removed);
  }

  /**
   * The most recent diffs, by the identity of the two snapshots' resources. A publish moves every
   * stream of a group along the same pair, and groups with equal configs share their resources,
   * so a handful of entries serve a whole mesh.
   */
  public static final class Cache {
    private static final int ENTRIES = 64;

    private final Map<WeakPair, ResourceDiff> diffs = new LinkedHashMap<>(ENTRIES * 2, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<WeakPair, ResourceDiff> eldest) {
        return size() > ENTRIES;
      }
    };

    /** The diff between {@code before} and {@code after}, computed at most once while it is recent. */
    public ResourceDiff between(SnapshotResources<?> before, SnapshotResources<?> after) {
      // A snapshot's resources never change once built, so identity is enough.
      WeakPair key = new WeakPair(before, after);
      synchronized (diffs) {
        ResourceDiff diff = diffs.get(key);
        if (diff != null) {
          return diff;
        }
      }
      // Computed outside the lock; two streams racing on a new pair compute it twice, harmlessly.
      ResourceDiff diff = ResourceDiff.between(before, after);
      synchronized (diffs) {
        diffs.put(key, diff);
      }
      return diff;
    }
  }
}
