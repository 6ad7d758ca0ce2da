package dev.weft.xds.server.delta;

import java.util.ArrayList;
import java.util.List;

/**
 * The resource entries of one delta response, encoded ({@link EncodedResource}), with their
 * total size. Immutable; one instance is the body of every stream's response that carries the same
 * resources (see {@link ResponseBodies}).
 */
final class EncodedResources {

  static final EncodedResources NONE = new EncodedResources(List.of());

  private final List<EncodedResource> entries;
  private final long bytes;

  EncodedResources(List<EncodedResource> entries) {
    this.entries = List.copyOf(entries);
    long sum = 0;
    for (EncodedResource entry : this.entries) {
      sum += entry.entry().length;
    }
    this.bytes = sum;
  }

  List<EncodedResource> entries() {
    return entries;
  }

  /** The encoded size of the entries together. */
  long bytes() {
    return bytes;
  }

  /** Collects entries in the order they are added. */
  static final class Builder {
    private final List<EncodedResource> entries = new ArrayList<>();

    Builder add(EncodedResource entry) {
      entries.add(entry);
      return this;
    }

    EncodedResources build() {
      return entries.isEmpty() ? NONE : new EncodedResources(entries);
    }
  }
}
