package dev.weft.xds.translate;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ServicePort;
import dev.weft.xds.tls.MutualTls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * CDS: one EDS cluster per Service port, fed over ADS, plus the STATIC clusters a sidecar uses to
 * reach its own application. Clusters are the same for every proxy group except the inbound ones.
 *
 * <p>Outbound clusters ({@link ResourceNames#outboundCluster}) balance round robin with a 5s connect
 * timeout (Envoy's default, made explicit so a change of default does not change the mesh) and
 * speak HTTP/2 upstream when the port is declared HTTP2 or GRPC (gRPC needs it; HTTP/1.1 would
 * fail). Headless Services get clusters too: they are reached by name through the HTTP routes.
 *
 * <p><b>mTLS.</b> For a sidecar with an identity (an SDS directory), the cluster of a Service with
 * meshed endpoints originates mutual TLS: its transport socket presents the sidecar's certificate
 * and accepts only the SPIFFE IDs of the Service's ServiceAccounts ({@link MutualTls#upstream}). An
 * endpoint without a sidecar is the exception, marked in the endpoint assignment with
 * {@link #PLAINTEXT_ENDPOINT_METADATA}, which selects the transport socket match
 * {@value #PLAINTEXT_MATCH} (raw bytes), so a Service half way through joining the mesh keeps
 * working. Marking the exception rather than the rule keeps a meshed endpoint at ~35 bytes
 * instead of ~85: the metadata was 60% of every sidecar's endpoint assignments. A sidecar without
 * an identity, and a proxyless client, get plaintext clusters and ignore the mark.
 *
 * <p><b>Passthrough.</b> A capture-mode sidecar receives every outbound TCP connection of its pod,
 * including those to destinations outside the mesh, and every inbound one, including those to
 * ports no Service declares. Two ORIGINAL_DST clusters carry those to where they were headed:
 * {@value ResourceNames#PASSTHROUGH} (outbound) and {@value ResourceNames#INBOUND_PASSTHROUGH}
 * (inbound, to the application), named so that their {@code cluster.<name>.*} stats count that
 * traffic. The sidecar's own connections are exempt from the redirect (its UID), so connecting to
 * the original destination does not come back to it.
 */
public final class ClusterTranslator {

  static final Duration CONNECT_TIMEOUT = Duration.newBuilder().setSeconds(5).build();
  /** The key Envoy looks up upstream HTTP options under in typed_extension_protocol_options. */
  static final String HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
  static final String LOCALHOST = "127.0.0.1";
  /** The name of the transport socket match that speaks plaintext to endpoints without a sidecar. */
  public static final String PLAINTEXT_MATCH = "weft-plaintext";
  /** The key of an endpoint's transport socket match metadata that selects {@value #PLAINTEXT_MATCH}. */
  public static final String PLAINTEXT_METADATA_KEY = "weft.plaintext";
  /** What an endpoint without a sidecar carries under {@code envoy.transport_socket_match}, and the match looks for. */
  static final Struct PLAINTEXT_ENDPOINT_METADATA = Struct.newBuilder()
      .putFields(PLAINTEXT_METADATA_KEY, Value.newBuilder().setBoolValue(true).build()).build();
  private static final TransportSocket RAW_BUFFER = TransportSocket.newBuilder()
      .setName("envoy.transport_sockets.raw_buffer")
      .setTypedConfig(Any.pack(RawBuffer.getDefaultInstance()))
      .build();

  private static final ConfigSource ADS = ConfigSource.newBuilder()
      .setAds(AggregatedConfigSource.getDefaultInstance())
      .setResourceApiVersion(ApiVersion.V3)
      .build();
  private static final Any HTTP2_UPSTREAM = Any.pack(HttpProtocolOptions.newBuilder()
      .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
          .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
      .build());

  /** The outbound cluster of every port of every Service, sorted by name, all plaintext. */
  public List<Cluster> outbound(MeshState state) {
    return outbound(state, "", MutualTls.DEFAULT_TRUST_DOMAIN);
  }

  /**
   * The outbound cluster of every port of every Service, sorted by name, for a sidecar whose SDS
   * files are in {@code sdsDirectory} (empty: no identity, plaintext only).
   */
  public List<Cluster> outbound(MeshState state, String sdsDirectory, String trustDomain) {
    List<Cluster> clusters = new ArrayList<>();
    for (MeshService service : state.services().values()) {
      for (ServicePort port : service.ports()) {
        clusters.add(outbound(service, port, sdsDirectory, trustDomain));
      }
    }
    return sortedByName(clusters);
  }

  /** The plaintext EDS cluster of one Service port. */
  public Cluster outbound(MeshService service, ServicePort port) {
    return outbound(service, port, "", MutualTls.DEFAULT_TRUST_DOMAIN);
  }

  /**
   * The EDS cluster of one Service port, with mTLS to its endpoints when {@code sdsDirectory} is set
   * and the Service has meshed endpoints (except those the assignment marks plaintext).
   */
  public Cluster outbound(MeshService service, ServicePort port, String sdsDirectory, String trustDomain) {
    String name = ResourceNames.outboundCluster(service.key(), port.port());
    Cluster.Builder cluster = Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
            .setEdsConfig(ADS)
            // Explicit, so that the assignment name never depends on a default.
            .setServiceName(name))
        .setConnectTimeout(CONNECT_TIMEOUT)
        .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
    if (port.protocol() == Protocol.HTTP2 || port.protocol() == Protocol.GRPC) {
      cluster.putTypedExtensionProtocolOptions(HTTP_PROTOCOL_OPTIONS, HTTP2_UPSTREAM);
    }
    if (!sdsDirectory.isEmpty() && !service.serviceAccounts().isEmpty()) {
      List<String> peers = service.serviceAccounts().stream()
          .map(account -> MutualTls.spiffeId(trustDomain, service.key().namespace(), account)).toList();
      cluster.setTransportSocket(MutualTls.upstream(sdsDirectory, peers))
          .addTransportSocketMatches(Cluster.TransportSocketMatch.newBuilder()
              .setName(PLAINTEXT_MATCH)
              .setMatch(PLAINTEXT_ENDPOINT_METADATA)
              .setTransportSocket(RAW_BUFFER));
    }
    return cluster.build();
  }

  /**
   * The STATIC clusters that forward to the application on 127.0.0.1, one per application port,
   * sorted by name. Bytes are passed through (TCP proxy), so no protocol options are needed.
   */
  public List<Cluster> inbound(Collection<Integer> appPorts) {
    List<Cluster> clusters = new ArrayList<>();
    for (int port : appPorts) {
      String name = ResourceNames.inboundCluster(port);
      clusters.add(Cluster.newBuilder()
          .setName(name)
          .setType(Cluster.DiscoveryType.STATIC)
          .setConnectTimeout(CONNECT_TIMEOUT)
          .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
          .setLoadAssignment(EndpointTranslator.singleAddress(name, LOCALHOST, port))
          .build());
    }
    return sortedByName(clusters);
  }

  /**
   * An ORIGINAL_DST cluster named {@code name}: each connection goes to the address the downstream
   * connection was headed to (restored by the listener's original_dst filter), plaintext; hosts
   * are created per destination and dropped when idle.
   */
  public Cluster passthrough(String name) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.ORIGINAL_DST)
        .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
        .setConnectTimeout(CONNECT_TIMEOUT)
        .build();
  }

  private static List<Cluster> sortedByName(List<Cluster> clusters) {
    return clusters.stream().sorted(Comparator.comparing(Cluster::getName)).toList();
  }
}
