package dev.weft.mesh;

import java.util.List;

/**
 * Clients that get the same configuration. For Envoy sidecars: same namespace and service account
 * (so the same identity and policies), the same application ports behind the inbound listener, and
 * the same inbound bind address ({@code 0.0.0.0} under iptables redirection; a pod's own address
 * where there is none, as in the local demo); pods of one Deployment share a group. Proxyless gRPC
 * clients have no inbound side and get API listeners instead of an outbound listener.
 *
 * <p>{@code sdsDirectory} is where the sidecar's file-based SDS files are (its certificate and the
 * trust bundle; {@code /var/run/weft/sds} in a pod); empty when the sidecar has no identity mounted,
 * and then it gets no TLS at all: it could neither present a certificate nor terminate mTLS. Every
 * pod uses the same path, so real pods still share groups; only local pods on one machine differ.
 */
public record ProxyGroup(Kind kind, String namespace, String serviceAccount, String inboundAddress,
    List<Integer> appPorts, String sdsDirectory) implements Comparable<ProxyGroup> {

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
    sdsDirectory = sdsDirectory == null ? "" : sdsDirectory;
  }

  /** A group without an identity (no SDS directory). */
  public ProxyGroup(Kind kind, String namespace, String serviceAccount, String inboundAddress, List<Integer> appPorts) {
    this(kind, namespace, serviceAccount, inboundAddress, appPorts, "");
  }

  /** Whether the group's sidecars have an identity mounted, so they speak and require mTLS. */
  public boolean hasIdentity() {
    return kind == Kind.SIDECAR && !sdsDirectory.isEmpty();
  }

  /** A stable, readable id used as the snapshot cache key and in logs. */
  public String id() {
    String ports = appPorts.stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse("");
    String who = serviceAccount + "." + namespace;
    if (kind == Kind.PROXYLESS_GRPC) {
      return "grpc:" + who;
    }
    return who + "@" + inboundAddress + ":" + ports + (sdsDirectory.isEmpty() ? "" : "+sds:" + sdsDirectory);
  }

  @Override
  public int compareTo(ProxyGroup o) {
    return id().compareTo(o.id());
  }
}
