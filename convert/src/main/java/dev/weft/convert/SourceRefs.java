package dev.weft.convert;

import dev.weft.mesh.SourceRef;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;

/** A Kubernetes object as the core names it, so the xds-server and the operator agree on precedence. */
public final class SourceRefs {

  private SourceRefs() {}

  /** Kind, namespace, name, generation and creation time of {@code resource}. */
  public static SourceRef of(HasMetadata resource) {
    ObjectMeta meta = resource.getMetadata();
    long generation = meta.getGeneration() == null ? 0 : meta.getGeneration();
    String created = meta.getCreationTimestamp() == null ? "" : meta.getCreationTimestamp();
    return new SourceRef(resource.getKind(), meta.getNamespace(), meta.getName(), generation, created);
  }
}
