package dev.weft.xds.translate;

import dev.weft.mesh.ServiceKey;

/**
 * The names of the Envoy resources Weft generates. They are part of the contract with proxies,
 * dashboards (Envoy stats carry them) and the status report, so they stay stable:
 *
 * <table>
 *   <caption>Resource names</caption>
 *   <tr><th>resource</th><th>name</th></tr>
 *   <tr><td>cluster (EDS) and its endpoint assignment, per Service port</td>
 *       <td>{@code outbound|<port>|<service>.<namespace>.svc.cluster.local}</td></tr>
 *   <tr><td>cluster (STATIC, 127.0.0.1:port) in front of a local application port</td>
 *       <td>{@code inbound|<port>}</td></tr>
 *   <tr><td>outbound listener of a sidecar, port 15001</td><td>{@code outbound}</td></tr>
 *   <tr><td>its route configuration by Host header, one per client namespace</td>
 *       <td>{@code outbound|<client namespace>}</td></tr>
 *   <tr><td>route configuration of one HTTP Service port, reached by destination address in
 *       capture mode</td><td>{@code <service>.<namespace>.svc.cluster.local:<port>}</td></tr>
 *   <tr><td>virtual host, per HTTP Service port</td>
 *       <td>{@code <service>.<namespace>.svc.cluster.local:<port>}</td></tr>
 *   <tr><td>inbound listener under iptables redirection, 0.0.0.0:15006</td><td>{@code inbound}</td></tr>
 *   <tr><td>inbound listener per application port without redirection (local mode)</td>
 *       <td>{@code inbound|<port>}</td></tr>
 *   <tr><td>cluster (ORIGINAL_DST) to where a captured outbound connection was headed, for
 *       destinations the mesh does not know; the virtual host that routes HTTP to it</td>
 *       <td>{@code passthrough}</td></tr>
 *   <tr><td>cluster (ORIGINAL_DST) to the application for redirected inbound traffic on a port
 *       the pod does not declare</td><td>{@code inbound|passthrough}</td></tr>
 *   <tr><td>proxyless gRPC: API listener and its route configuration, per HTTP Service port</td>
 *       <td>{@code <service>.<namespace>.svc.cluster.local:<port>}, the name grpc-java asks for
 *       when a channel targets {@code xds:///<service>.<namespace>.svc.cluster.local:<port>}</td></tr>
 * </table>
 *
 * <p>The {@code |} separator cannot occur in Kubernetes names, so a name splits back into its parts.
 */
public final class ResourceNames {

  /** Kubernetes' default cluster domain; Service DNS names end in it. */
  public static final String CLUSTER_DOMAIN = "cluster.local";
  public static final String OUTBOUND_LISTENER = "outbound";
  public static final String INBOUND_LISTENER = "inbound";
  /** The outbound passthrough cluster, its filter chain and its virtual host (capture mode). */
  public static final String PASSTHROUGH = "passthrough";
  /** The inbound passthrough cluster and filter chain (capture mode). */
  public static final String INBOUND_PASSTHROUGH = "inbound|passthrough";

  private ResourceNames() {}

  /** The cluster, and endpoint assignment, of one Service port. */
  public static String outboundCluster(ServiceKey service, int port) {
    return "outbound|" + port + "|" + service.fqdn(CLUSTER_DOMAIN);
  }

  /** The cluster that forwards to the application on 127.0.0.1:{@code port}. */
  public static String inboundCluster(int port) {
    return "inbound|" + port;
  }

  /** The inbound listener of one application port when there is no iptables redirection. */
  public static String inboundListener(int port) {
    return "inbound|" + port;
  }

  /** The route configuration of the outbound listener for clients in {@code clientNamespace}. */
  public static String outboundRoutes(String clientNamespace) {
    return "outbound|" + clientNamespace;
  }

  /**
   * The route configuration of one HTTP Service port, for a capture-mode sidecar's filter chain of
   * that port and for a proxyless client's API listener (the two never share a config).
   */
  public static String serviceRoutes(ServiceKey service, int port) {
    return service.fqdn(CLUSTER_DOMAIN) + ":" + port;
  }

  /** The virtual host of one HTTP Service port. */
  public static String virtualHost(ServiceKey service, int port) {
    return service.fqdn(CLUSTER_DOMAIN) + ":" + port;
  }

  /** The API listener (and its route configuration) a proxyless gRPC client asks for. */
  public static String apiListener(ServiceKey service, int port) {
    return service.fqdn(CLUSTER_DOMAIN) + ":" + port;
  }
}
