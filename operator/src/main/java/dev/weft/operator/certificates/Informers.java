package dev.weft.operator.certificates;

import io.fabric8.kubernetes.client.informers.ResourceEventHandler;

/** What both certificate controllers need to hang one change handler on informers of several kinds. */
final class Informers {

  private Informers() {}

  /** {@code handler}, typed for an informer of any kind: the handler only notes that something changed. */
  @SuppressWarnings("unchecked")
  static <T> ResourceEventHandler<T> handler(ResourceEventHandler<Object> handler) {
    return (ResourceEventHandler<T>) (ResourceEventHandler<?>) handler;
  }
}
