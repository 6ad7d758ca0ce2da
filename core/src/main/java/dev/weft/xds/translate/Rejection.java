package dev.weft.xds.translate;

import dev.weft.mesh.SourceRef;
import java.util.Objects;

/**
 * A piece of user configuration the translation left out, and why: {@code reason} names the field
 * and the fix, so the operator can put it on the resource's status as it is.
 */
public record Rejection(SourceRef source, String reason) implements Comparable<Rejection> {

  public Rejection {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(reason, "reason");
  }

  @Override
  public int compareTo(Rejection o) {
    int bySource = source.toString().compareTo(o.source.toString());
    return bySource != 0 ? bySource : reason.compareTo(o.reason);
  }

  @Override
  public String toString() {
    return source + ": " + reason;
  }
}
