package dev.weft.operator.certificates;

import java.util.Comparator;
import java.util.Objects;

/** A ServiceAccount by namespace and name: what one workload certificate speaks for. */
public record ServiceAccountRef(String namespace, String name) implements Comparable<ServiceAccountRef> {

  private static final Comparator<ServiceAccountRef> ORDER =
      Comparator.comparing(ServiceAccountRef::namespace).thenComparing(ServiceAccountRef::name);

  public ServiceAccountRef {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
  }

  @Override
  public int compareTo(ServiceAccountRef other) {
    return ORDER.compare(this, other);
  }

  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
