package dev.weft.mesh;

import java.util.Objects;

/** A Service by namespace and name; the key everything in the mesh state is indexed by. */
public record ServiceKey(String namespace, String name) implements Comparable<ServiceKey> {

  public ServiceKey {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
  }

  /** The Service's fully qualified DNS name in the given cluster domain, e.g. payments.shop.svc.cluster.local. */
  public String fqdn(String clusterDomain) {
    return name + "." + namespace + ".svc." + clusterDomain;
  }

  /** Another Service in the same namespace (references in TrafficSplits and VirtualServices are namespace-local). */
  public ServiceKey sibling(String otherName) {
    return new ServiceKey(namespace, otherName);
  }

  @Override
  public int compareTo(ServiceKey o) {
    int byNamespace = namespace.compareTo(o.namespace);
    return byNamespace != 0 ? byNamespace : name.compareTo(o.name);
  }

  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
