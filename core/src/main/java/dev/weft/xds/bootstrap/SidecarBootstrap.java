package dev.weft.xds.bootstrap;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.weft.xds.tls.IdentitySds;
import dev.weft.xds.tls.MutualTls;
import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.overload.v3.OverloadManager;
import io.envoyproxy.envoy.config.overload.v3.ResourceMonitor;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The bootstrap every Weft sidecar starts from: who it is (node id and the metadata the xDS server
 * groups proxies by), where the xDS server is, the admin port and the Prometheus stats listener,
 * and where its identity's SDS files are ({@value #META_SDS_DIRECTORY}), which the server's TLS
 * contexts name. Everything else arrives over ADS. The sidecar injector and the local demo both write this.
 */
public final class SidecarBootstrap {

  /** Node metadata keys; the xDS server reads the same names. */
  public static final String META_NAMESPACE = "WEFT_NAMESPACE";
  public static final String META_SERVICE_ACCOUNT = "WEFT_SERVICE_ACCOUNT";
  public static final String META_INBOUND_ADDRESS = "WEFT_INBOUND_ADDRESS";
  public static final String META_APP_PORTS = "WEFT_APP_PORTS";
  public static final String META_SDS_DIRECTORY = "WEFT_SDS_DIRECTORY";
  /**
   * The pod's labels at admission, as a struct, written by the sidecar injector for people and
   * tools reading a config dump; the xds-server goes by the Pod object, whose labels can change.
   */
  public static final String META_LABELS = "WEFT_LABELS";

  public static final int ADMIN_PORT = 15000;
  public static final int STATS_PORT = 15090;
  public static final String XDS_CLUSTER = "weft-xds";

  /** How the sidecar talks xDS: one state-of-the-world or incremental (delta) ADS stream. */
  public enum Transport {
    STATE_OF_THE_WORLD,
    DELTA
  }

  /**
   * Where the sidecar runs and whom it speaks for. {@code adminAddress} is 127.0.0.1 in a pod;
   * {@code inboundAddress} is empty under iptables redirection and the pod's own address otherwise.
   * {@code sdsDirectory} is where the SDS files of the sidecar's identity are ({@link #sdsFiles});
   * empty when it has none, and then the xDS server sends it no TLS: its traffic is plaintext and
   * meshed peers in strict namespaces refuse it.
   */
  public record Workload(String podName, String namespace, String serviceAccount, String inboundAddress,
      List<Integer> appPorts, String adminAddress, int adminPort, int statsPort, String sdsDirectory) {

    public Workload {
      Objects.requireNonNull(podName, "podName");
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(serviceAccount, "serviceAccount");
      inboundAddress = inboundAddress == null ? "" : inboundAddress;
      appPorts = List.copyOf(appPorts);
      sdsDirectory = sdsDirectory == null ? "" : sdsDirectory;
      if (!sdsDirectory.isEmpty() && !sdsDirectory.startsWith("/")) {
        throw new IllegalArgumentException("the SDS directory must be an absolute path, not '" + sdsDirectory + "'");
      }
    }

    /** A workload without an identity. */
    public Workload(String podName, String namespace, String serviceAccount, String inboundAddress,
        List<Integer> appPorts, String adminAddress, int adminPort, int statsPort) {
      this(podName, namespace, serviceAccount, inboundAddress, appPorts, adminAddress, adminPort, statsPort, "");
    }

    /**
     * A workload in a pod, with the standard sidecar ports and its identity: the Secret
     * {@code weft-identity-<serviceAccount>} mounted at {@value IdentitySds#POD_IDENTITY_DIRECTORY}
     * and the {@link #sdsFiles} in {@value IdentitySds#POD_SDS_DIRECTORY}.
     */
    public static Workload inPod(String podName, String namespace, String serviceAccount, List<Integer> appPorts) {
      return new Workload(podName, namespace, serviceAccount, "", appPorts, "127.0.0.1", ADMIN_PORT, STATS_PORT,
          IdentitySds.POD_SDS_DIRECTORY);
    }

    /** The same workload with its identity's SDS files in {@code directory} (empty: none). */
    public Workload withSdsDirectory(String directory) {
      return new Workload(podName, namespace, serviceAccount, inboundAddress, appPorts, adminAddress, adminPort,
          statsPort, directory);
    }
  }

  /**
   * The files to put in the workload's SDS directory, by name, for its certificate Secret mounted
   * at {@code identityDirectory} ({@code tls.crt}, {@code tls.key}, {@code ca.crt}). They only name
   * the mounted files, so they are the same for every pod and never change: Envoy re-reads the
   * certificate when the kubelet swaps in a renewed Secret. Write them before Envoy starts: a
   * cluster or listener that names a missing SDS file is rejected.
   */
  public static Map<String, String> sdsFiles(String identityDirectory) {
    return IdentitySds.files(identityDirectory);
  }

  /** The sidecar's ceiling on open downstream connections (see {@link #overloadManager()}). */
  public static final long MAX_DOWNSTREAM_CONNECTIONS = 100_000;

  /** Types packed in Any fields of the bootstrap, which JSON printing must know. */
  private static final TypeRegistry TYPES = TypeRegistry.newBuilder()
      .add(DownstreamConnectionsConfig.getDescriptor())
      .add(HttpConnectionManager.getDescriptor())
      .add(Router.getDescriptor())
      .add(HttpProtocolOptions.getDescriptor())
      .add(UpstreamTlsContext.getDescriptor())
      .build();

  private SidecarBootstrap() {}

  /** The bootstrap for {@code workload}, pointing at the xDS server at {@code xdsHost:xdsPort} in plaintext. */
  public static Bootstrap build(Workload workload, String xdsHost, int xdsPort, Transport transport) {
    return build(workload, xdsHost, xdsPort, transport, "");
  }

  /**
   * The bootstrap for {@code workload}, pointing at the xDS server at {@code xdsHost:xdsPort}. With
   * an {@code xdsServerId} (the xds-server's SPIFFE ID, e.g.
   * {@code spiffe://cluster.local/ns/weft-system/sa/weft-xds}), the sidecar reaches the server over
   * mTLS: it presents its own certificate (the server checks that it speaks for the node's namespace
   * and ServiceAccount) and accepts only a server certificate with that SPIFFE ID. That needs the
   * workload's identity ({@link Workload#sdsDirectory}).
   */
  public static Bootstrap build(Workload workload, String xdsHost, int xdsPort, Transport transport,
      String xdsServerId) {
    if (!xdsServerId.isEmpty() && workload.sdsDirectory().isEmpty()) {
      throw new IllegalArgumentException("mTLS to the xDS server needs the workload's identity (an SDS directory)");
    }
    Cluster xds = xdsCluster(xdsHost, xdsPort);
    if (!xdsServerId.isEmpty()) {
      // gRPC over TLS negotiates HTTP/2 by ALPN; the xds-server refuses a handshake without it.
      xds = xds.toBuilder().setTransportSocket(MutualTls.upstream(workload.sdsDirectory(), List.of(xdsServerId),
          List.of("h2"))).build();
    }
    return Bootstrap.newBuilder()
        .setNode(node(workload))
        .setAdmin(Admin.newBuilder().setAddress(address(workload.adminAddress(), workload.adminPort())))
        .setDynamicResources(Bootstrap.DynamicResources.newBuilder()
            .setAdsConfig(ApiConfigSource.newBuilder()
                .setApiType(transport == Transport.DELTA
                    ? ApiConfigSource.ApiType.DELTA_GRPC : ApiConfigSource.ApiType.GRPC)
                .setTransportApiVersion(ApiVersion.V3)
                .setSetNodeOnFirstMessageOnly(true)
                .addGrpcServices(GrpcService.newBuilder()
                    .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(XDS_CLUSTER))))
            .setCdsConfig(ads())
            .setLdsConfig(ads()))
        .setStaticResources(Bootstrap.StaticResources.newBuilder()
            .addClusters(xds)
            .addClusters(adminCluster(workload))
            .addListeners(statsListener(workload)))
        .setOverloadManager(overloadManager())
        .build();
  }

  /**
   * A ceiling on the sidecar's open downstream connections, so a connection flood is refused at
   * the proxy instead of exhausting its file descriptors and memory (Envoy warns at start without
   * one). High enough that no application meets it in normal use.
   */
  private static OverloadManager overloadManager() {
    return OverloadManager.newBuilder()
        .addResourceMonitors(ResourceMonitor.newBuilder()
            .setName("envoy.resource_monitors.global_downstream_max_connections")
            .setTypedConfig(Any.pack(DownstreamConnectionsConfig.newBuilder()
                .setMaxActiveDownstreamConnections(MAX_DOWNSTREAM_CONNECTIONS)
                .build())))
        .build();
  }

  /** The bootstrap as JSON, the form Envoy reads from its {@code -c} file. */
  public static String json(Bootstrap bootstrap) {
    try {
      return JsonFormat.printer().usingTypeRegistry(TYPES).print(bootstrap);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("bootstrap cannot be printed as JSON", e);
    }
  }

  /** The node id the xDS server sees: {@code <pod>.<namespace>}. */
  public static String nodeId(Workload workload) {
    return workload.podName() + "." + workload.namespace();
  }

  private static Node node(Workload workload) {
    Struct.Builder metadata = Struct.newBuilder()
        .putFields(META_NAMESPACE, string(workload.namespace()))
        .putFields(META_SERVICE_ACCOUNT, string(workload.serviceAccount()));
    if (!workload.inboundAddress().isEmpty()) {
      metadata.putFields(META_INBOUND_ADDRESS, string(workload.inboundAddress()));
    }
    if (!workload.sdsDirectory().isEmpty()) {
      metadata.putFields(META_SDS_DIRECTORY, string(workload.sdsDirectory()));
    }
    if (!workload.appPorts().isEmpty()) {
      metadata.putFields(META_APP_PORTS, string(
          workload.appPorts().stream().map(String::valueOf).collect(Collectors.joining(","))));
    }
    return Node.newBuilder()
        .setId(nodeId(workload))
        .setCluster(workload.serviceAccount() + "." + workload.namespace())
        .setMetadata(metadata)
        .build();
  }

  private static ConfigSource ads() {
    return ConfigSource.newBuilder()
        .setAds(AggregatedConfigSource.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3)
        .build();
  }

  private static Cluster xdsCluster(String host, int port) {
    // gRPC needs HTTP/2; STRICT_DNS so a Service name resolves to every xDS replica.
    HttpProtocolOptions http2 = HttpProtocolOptions.newBuilder()
        .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
            .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
        .build();
    return Cluster.newBuilder()
        .setName(XDS_CLUSTER)
        .setType(Cluster.DiscoveryType.STRICT_DNS)
        .setConnectTimeout(Duration.newBuilder().setSeconds(1))
        .putTypedExtensionProtocolOptions(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", com.google.protobuf.Any.pack(http2))
        .setLoadAssignment(singleEndpoint(XDS_CLUSTER, host, port))
        .build();
  }

  private static Cluster adminCluster(Workload workload) {
    return Cluster.newBuilder()
        .setName("weft-admin")
        .setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(Duration.newBuilder().setSeconds(1))
        .setLoadAssignment(singleEndpoint("weft-admin", workload.adminAddress(), workload.adminPort()))
        .build();
  }

  /** The path on the stats port that answers 200 once Envoy is LIVE (its first xDS config applied), else 503. */
  public static final String READY_PATH = "/ready";

  /**
   * Prometheus scrapes :15090/stats/prometheus, and the kubelet probes :15090{@value #READY_PATH}
   * (the admin's own readiness, so a sidecar is ready only once it has config); the admin port
   * itself stays on loopback, where a probe from the node cannot reach it.
   */
  private static Listener statsListener(Workload workload) {
    String bind = workload.inboundAddress().isEmpty() ? "0.0.0.0" : workload.inboundAddress();
    RouteConfiguration routes = RouteConfiguration.newBuilder()
        .setName("weft-stats")
        .addVirtualHosts(VirtualHost.newBuilder()
            .setName("stats")
            .addDomains("*")
            .addRoutes(Route.newBuilder()
                .setMatch(RouteMatch.newBuilder().setPath("/stats/prometheus"))
                .setRoute(RouteAction.newBuilder().setCluster("weft-admin")))
            .addRoutes(Route.newBuilder()
                .setMatch(RouteMatch.newBuilder().setPath(READY_PATH))
                .setRoute(RouteAction.newBuilder().setCluster("weft-admin"))))
        .build();
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
        .setStatPrefix("weft_stats")
        .setRouteConfig(routes)
        .addHttpFilters(HttpFilter.newBuilder()
            .setName("envoy.filters.http.router")
            .setTypedConfig(com.google.protobuf.Any.pack(Router.getDefaultInstance())))
        .build();
    return Listener.newBuilder()
        .setName("weft-stats")
        .setAddress(address(bind, workload.statsPort()))
        .addFilterChains(FilterChain.newBuilder()
            .addFilters(Filter.newBuilder()
                .setName("envoy.filters.network.http_connection_manager")
                .setTypedConfig(com.google.protobuf.Any.pack(hcm))))
        .build();
  }

  private static ClusterLoadAssignment singleEndpoint(String cluster, String host, int port) {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(cluster)
        .addEndpoints(LocalityLbEndpoints.newBuilder()
            .addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                    .setAddress(address(host, port)))))
        .build();
  }

  private static Address address(String host, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port))
        .build();
  }

  private static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
