package dev.weft.xds.server;

import com.google.protobuf.Value;
import dev.weft.mesh.ProxyGroup;
import dev.weft.xds.bootstrap.SidecarBootstrap;
import io.envoyproxy.controlplane.cache.NodeGroup;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps the {@link Node} an xDS client announces to the {@link ProxyGroup} whose config it gets;
 * the snapshot cache keys on {@link ProxyGroup#id()}.
 *
 * <p>The contract with whoever writes the client's bootstrap (the sidecar injector, the local
 * demo, a proxyless gRPC client's bootstrap file):
 * <ul>
 *   <li>{@code node.id} is {@code <pod>.<namespace>}.</li>
 *   <li>{@code metadata.WEFT_NAMESPACE} (string): the pod's namespace. When it is missing or blank,
 *       the namespace is the part of the node id after its last dot (a namespace is a DNS label
 *       and has no dots; a pod name may have some).</li>
 *   <li>{@code metadata.WEFT_SERVICE_ACCOUNT} (string): the pod's service account; when missing,
 *       {@code default}, as Kubernetes itself assumes.</li>
 *   <li>{@code metadata.WEFT_INBOUND_ADDRESS} (string, optional): the address the inbound listener
 *       binds; {@code 0.0.0.0} when missing (iptables redirection), the pod's own address where
 *       there is no redirection.</li>
 *   <li>{@code metadata.WEFT_APP_PORTS} (string of comma-separated ports, optional; a single number
 *       is accepted too): the application's ports behind the inbound listener.</li>
 *   <li>{@code metadata.WEFT_SDS_DIRECTORY} (string, optional, an absolute path): the directory of
 *       the sidecar's file-based SDS files ({@code identity.json}, {@code trust.json}), which the
 *       TLS contexts of its clusters and listeners name. Set, the sidecar speaks mTLS to meshed
 *       peers and requires it inbound (unless its namespace is permissive); missing, it has no
 *       identity and gets plaintext only. A pod always uses {@code /var/run/weft/sds}.</li>
 *   <li>{@code metadata.WEFT_PROXYLESS} ({@code true} as bool or string, optional), or a
 *       {@code user_agent_name} starting with {@code gRPC} (what gRPC's own xDS clients send):
 *       a proxyless gRPC client, which has no inbound side, so address and ports are ignored.</li>
 * </ul>
 * A node that breaks the contract is refused with a message naming the field.
 */
public final class NodeGroups implements NodeGroup<String> {

  // The sidecar's side of the contract is written by SidecarBootstrap; one set of names for both.
  public static final String NAMESPACE = SidecarBootstrap.META_NAMESPACE;
  public static final String SERVICE_ACCOUNT = SidecarBootstrap.META_SERVICE_ACCOUNT;
  public static final String INBOUND_ADDRESS = SidecarBootstrap.META_INBOUND_ADDRESS;
  public static final String APP_PORTS = SidecarBootstrap.META_APP_PORTS;
  public static final String SDS_DIRECTORY = SidecarBootstrap.META_SDS_DIRECTORY;
  public static final String PROXYLESS = "WEFT_PROXYLESS";

  static final String DEFAULT_SERVICE_ACCOUNT = "default";
  private static final String GRPC_USER_AGENT_PREFIX = "gRPC";

  /** The cache key of the node's group; the node has passed {@link #groupOf} before this is asked. */
  @Override
  public String hash(Node node) {
    return groupOf(node).id();
  }

  /**
   * The group {@code node} belongs to.
   *
   * @throws IllegalArgumentException with a message naming the offending field
   */
  public static ProxyGroup groupOf(Node node) {
    String namespace = string(node, NAMESPACE);
    if (namespace.isEmpty()) {
      namespace = namespaceFromId(node.getId());
    }
    String serviceAccount = string(node, SERVICE_ACCOUNT);
    if (serviceAccount.isEmpty()) {
      serviceAccount = DEFAULT_SERVICE_ACCOUNT;
    }
    if (isProxyless(node)) {
      // One group per identity: a proxyless client's ports do not change what it is sent.
      return new ProxyGroup(ProxyGroup.Kind.PROXYLESS_GRPC, namespace, serviceAccount,
          ProxyGroup.ANY_ADDRESS, List.of());
    }
    return new ProxyGroup(ProxyGroup.Kind.SIDECAR, namespace, serviceAccount,
        string(node, INBOUND_ADDRESS), appPorts(node), sdsDirectory(node));
  }

  private static String sdsDirectory(Node node) {
    String directory = string(node, SDS_DIRECTORY);
    // Envoy resolves a relative SDS path against its own working directory, which the server cannot know.
    if (!directory.isEmpty() && !directory.startsWith("/")) {
      throw new IllegalArgumentException("node '" + node.getId() + "' has metadata " + SDS_DIRECTORY + " '"
          + directory + "', which is not an absolute path; write the directory of its SDS files, such as "
          + "/var/run/weft/sds");
    }
    return directory.endsWith("/") && directory.length() > 1 ? directory.substring(0, directory.length() - 1)
        : directory;
  }

  static boolean isProxyless(Node node) {
    if (node.getUserAgentName().startsWith(GRPC_USER_AGENT_PREFIX)) {
      return true;
    }
    Value flag = node.getMetadata().getFieldsOrDefault(PROXYLESS, Value.getDefaultInstance());
    return flag.getBoolValue() || "true".equalsIgnoreCase(flag.getStringValue().trim());
  }

  private static String namespaceFromId(String nodeId) {
    int dot = nodeId.lastIndexOf('.');
    if (dot <= 0 || dot == nodeId.length() - 1) {
      throw new IllegalArgumentException("node '" + nodeId + "' has no metadata " + NAMESPACE
          + " and its id is not <pod>.<namespace>; set " + NAMESPACE + " in the bootstrap's node metadata");
    }
    return nodeId.substring(dot + 1);
  }

  private static List<Integer> appPorts(Node node) {
    Value value = node.getMetadata().getFieldsOrDefault(APP_PORTS, Value.getDefaultInstance());
    if (value.getKindCase() == Value.KindCase.NUMBER_VALUE) {
      return List.of(port(node, String.valueOf((long) value.getNumberValue())));
    }
    List<Integer> ports = new ArrayList<>();
    for (String part : value.getStringValue().split(",")) {
      if (!part.isBlank()) {
        ports.add(port(node, part.trim()));
      }
    }
    return ports;
  }

  private static int port(Node node, String text) {
    try {
      int port = Integer.parseInt(text);
      if (port >= 1 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // reported below with the node's name
    }
    throw new IllegalArgumentException("node '" + node.getId() + "' has metadata " + APP_PORTS
        + " with '" + text + "', which is not a port (1-65535); write comma-separated ports such as 8080,9090");
  }

  private static String string(Node node, String key) {
    Value value = node.getMetadata().getFieldsOrDefault(key, Value.getDefaultInstance());
    return value.getStringValue().trim();
  }
}
