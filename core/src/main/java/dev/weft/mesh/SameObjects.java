package dev.weft.mesh;

import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Set;

/**
 * Identity comparison of lists. A mesh state keeps what did not change as the very same objects
 * from one state to the next, so "is this part unchanged" is a pointer walk, not {@code equals}
 * over records that may hold thousands of endpoints.
 */
public final class SameObjects {

  private SameObjects() {}

  /** Whether both hold the very same objects in the same iteration order (lists, a sorted map's values). */
  public static boolean inOrder(Collection<?> before, Collection<?> now) {
    if (before.size() != now.size()) {
      return false;
    }
    Iterator<?> was = before.iterator();
    for (Object object : now) {
      if (was.next() != object) {
        return false;
      }
    }
    return true;
  }

  /** Whether both hold the very same objects, in any order (an informer cache's order is not fixed). */
  public static boolean anyOrder(Collection<?> before, Collection<?> now) {
    if (before.size() != now.size()) {
      return false;
    }
    Set<Object> was = Collections.newSetFromMap(new IdentityHashMap<>());
    was.addAll(before);
    for (Object object : now) {
      if (!was.contains(object)) {
        return false;
      }
    }
    return true;
  }
}
