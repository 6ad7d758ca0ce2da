package dev.weft.operator.validation;

import dev.weft.convert.SourceRefs;
import dev.weft.mesh.SourceRef;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Comparator;
import java.util.Objects;

/**
 * Which of two resources that claim the same thing wins: the oldest, then by namespace and name.
 * It is the core's {@link SourceRef} order, the one the translator (TrafficPlan) applies, so what
 * status says is what the proxies get.
 */
public final class Precedence {

  /** Oldest first: the first element of a sorted list is the one that applies. */
  public static final Comparator<HasMetadata> OLDEST_FIRST = Comparator.comparing(Precedence::sourceOf);

  private Precedence() {}

  /** The resource as the core names it; built as the xds-server builds it. */
  public static SourceRef sourceOf(HasMetadata resource) {
    return SourceRefs.of(resource);
  }

  /** Whether {@code a} wins over {@code b}. */
  public static boolean winsOver(HasMetadata a, HasMetadata b) {
    return OLDEST_FIRST.compare(a, b) < 0;
  }

  /** Whether both are the same object (by name; everything compared here shares a namespace and kind). */
  static boolean same(HasMetadata a, HasMetadata b) {
    return Objects.equals(a.getMetadata().getName(), b.getMetadata().getName());
  }

  /** {@code namespace/name} of a resource, for messages. */
  static String name(HasMetadata resource) {
    return resource.getMetadata().getNamespace() + "/" + resource.getMetadata().getName();
  }
}
