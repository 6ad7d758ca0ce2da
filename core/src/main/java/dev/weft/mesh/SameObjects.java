package dev.weft.mesh;

import java.util.List;

/**
 * Identity comparison of lists. A mesh state keeps what did not change as the very same objects
 * from one state to the next, so "is this part unchanged" is a pointer walk, not {@code equals}
 * over records that may hold thousands of endpoints.
 */
public final class SameObjects {

  private SameObjects() {}

  /** Whether both lists hold the very same objects in the same order. */
  public static boolean inOrder(List<?> before, List<?> now) {
    if (before.size() != now.size()) {
      return false;
    }
    for (int i = 0; i < now.size(); i++) {
      if (before.get(i) != now.get(i)) {
        return false;
      }
    }
    return true;
  }
}
