package dev.weft.mesh;

/**
 * The user resource a piece of mesh state came from, so that a rejection can name it and
 * conflicts have a stable winner: the oldest resource, then the name, as the Gateway API does.
 * {@code creationTimestamp} is an RFC 3339 string, compared as text (it sorts correctly in UTC).
 */
public record SourceRef(String kind, String namespace, String name, long generation, String creationTimestamp)
    implements Comparable<SourceRef> {

  @Override
  public int compareTo(SourceRef o) {
    int byAge = creationTimestamp.compareTo(o.creationTimestamp);
    if (byAge != 0) {
      return byAge;
    }
    int byNamespace = namespace.compareTo(o.namespace);
    return byNamespace != 0 ? byNamespace : name.compareTo(o.name);
  }

  @Override
  public String toString() {
    return kind + " " + namespace + "/" + name;
  }
}
