package dev.weft.xds.server.delta;

import java.lang.ref.WeakReference;

/**
 * Two objects by identity, held weakly: the key of a cache of what is derived from immutable
 * objects (a snapshot's resources, an interned subscription) that must not keep them alive. A
 * pair one of whose objects was collected equals nothing, so its entry is only ever evicted.
 */
final class WeakPair {
  private final WeakReference<Object> first;
  private final WeakReference<Object> second;
  private final int hash;

  WeakPair(Object first, Object second) {
    this.first = new WeakReference<>(first);
    this.second = new WeakReference<>(second);
    this.hash = 31 * System.identityHashCode(first) + System.identityHashCode(second);
  }

  /** Whether either object was collected. */
  boolean cleared() {
    return first.get() == null || second.get() == null;
  }

  @Override
  public boolean equals(Object other) {
    if (this == other) {
      return true;
    }
    if (!(other instanceof WeakPair that) || hash != that.hash) {
      return false;
    }
    Object a = first.get();
    Object b = second.get();
    return a != null && b != null && a == that.first.get() && b == that.second.get();
  }

  @Override
  public int hashCode() {
    return hash;
  }
}
