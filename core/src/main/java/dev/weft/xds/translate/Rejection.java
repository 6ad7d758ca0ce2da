package dev.weft.xds.translate;

import dev.weft.mesh.SourceRef;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A piece of user configuration the translation left out (as a whole or in part), and why: the
 * field errors, each naming the field and the fix, as the operator puts them on the resource's status.
 */
public record Rejection(SourceRef source, List<FieldError> errors) implements Comparable<Rejection> {

  public Rejection {
    Objects.requireNonNull(source, "source");
    errors = List.copyOf(errors);
    if (errors.isEmpty()) {
      throw new IllegalArgumentException("a rejection of " + source + " needs at least one field error");
    }
  }

  public Rejection(SourceRef source, FieldError error) {
    this(source, List.of(error));
  }

  /** Every error as {@code path: message}, separated by {@code ; }. */
  public String reason() {
    return errors.stream().map(FieldError::toString).collect(Collectors.joining("; "));
  }

  @Override
  public int compareTo(Rejection o) {
    int bySource = source.toString().compareTo(o.source.toString());
    return bySource != 0 ? bySource : reason().compareTo(o.reason());
  }

  @Override
  public String toString() {
    return source + ": " + reason();
  }
}
