package dev.weft.mesh;

import java.util.List;

/**
 * Clients that get the same configuration. For Envoy sidecars: same namespace and service account
 * (so the same identity and policies), the same application ports behind the inbound listener, and
 * the same inbound bind address ({@code 0.0.0.0} under iptables redirection; a pod's own address
 * where there is none, as in the local demo); pods of one Deployment share a group. Proxyless gRPC
 * clients have no inbound side and get API listeners instead of an outbound listener.
 */
public record ProxyGroup(Kind kind, String namespace, String serviceAccount, String inboundAddress,
    List<Integer> appPorts) implements Comparable<ProxyGroup> {

  /** What kind of xDS client the group is made of. */
  public enum Kind {
    SIDECAR,
    PROXYLESS_GRPC
  }

  public static final String ANY_ADDRESS = "0.0.0.0";

  public ProxyGroup {
    java.util.Objects.requireNonNull(kind, "kind");
    namespace = namespace == null ? "" : namespace;
    serviceAccount = serviceAccount == null ? "" : serviceAccount;
    inboundAddress = inboundAddress == null || inboundAddress.isBlank() ? ANY_ADDRESS : inboundAddress;
    appPorts = appPorts.stream().distinct().sorted().toList();
  }

  /** A stable, readable id used as the snapshot cache key and in logs. */
  public String id() {
    String ports = appPorts.stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse("");
    String who = serviceAccount + "." + namespace;
    return kind == Kind.PROXYLESS_GRPC ? "grpc:" + who : who + "@" + inboundAddress + ":" + ports;
  }

  @Override
  public int compareTo(ProxyGroup o) {
    return id().compareTo(o.id());
  }
}
