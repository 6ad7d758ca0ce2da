package dev.weft.e2e.scale;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.xds.bootstrap.SidecarBootstrap;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceStub;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One Envoy sidecar as the xDS server sees it: one ADS stream with the node a Weft sidecar's
 * bootstrap announces, asking for clusters and listeners (wildcard), then for the endpoints of the
 * EDS clusters it received and the route configurations its listeners name, and ACKing every
 * response with its nonce at once. It keeps no configuration, only what it subscribes to and when
 * it last ACKed each type.
 */
abstract class SimulatedProxy {

  /** The four types a sidecar subscribes to over ADS. */
  enum Kind {
    CDS(Resources.V3.CLUSTER_TYPE_URL),
    LDS(Resources.V3.LISTENER_TYPE_URL),
    EDS(Resources.V3.ENDPOINT_TYPE_URL),
    RDS(Resources.V3.ROUTE_TYPE_URL);

    final String typeUrl;

    Kind(String typeUrl) {
      this.typeUrl = typeUrl;
    }

    static Kind of(String typeUrl) {
      for (Kind kind : values()) {
        if (kind.typeUrl.equals(typeUrl)) {
          return kind;
        }
      }
      throw new IllegalArgumentException("unexpected type " + typeUrl);
    }
  }

  /** Where a proxy reports what it received, shared by the fleet. */
  interface Receipts {
    void received(Kind kind, int bytes, int resources);

    /** One name object per distinct name, so that 2,000 proxies do not each hold 2,000 copies. */
    String intern(String name);
  }

  final Node node;
  private final Receipts receipts;
  private final AtomicLongArray lastAckNanos = new AtomicLongArray(Kind.values().length);
  private volatile Throwable failure;
  private volatile boolean closed;

  SimulatedProxy(String podName, String namespace, String serviceAccount, Receipts receipts) {
    // What SidecarBootstrap writes for a pod under iptables redirection with one app port.
    this.node = Node.newBuilder()
        .setId(podName + "." + namespace)
        .setCluster(serviceAccount + "." + namespace)
        .setUserAgentName("envoy")
        .setMetadata(Struct.newBuilder()
            .putFields(SidecarBootstrap.META_NAMESPACE, Value.newBuilder().setStringValue(namespace).build())
            .putFields(SidecarBootstrap.META_SERVICE_ACCOUNT, Value.newBuilder().setStringValue(serviceAccount).build())
            .putFields(SidecarBootstrap.META_APP_PORTS, Value.newBuilder().setStringValue("8080").build()))
        .build();
    this.receipts = receipts;
  }

  static SimulatedProxy delta(String podName, String namespace, String serviceAccount, Receipts receipts) {
    return new Delta(podName, namespace, serviceAccount, receipts);
  }

  static SimulatedProxy stateOfTheWorld(String podName, String namespace, String serviceAccount, Receipts receipts) {
    return new StateOfTheWorld(podName, namespace, serviceAccount, receipts);
  }

  /** Opens the stream and asks for clusters and listeners. */
  abstract void start(AggregatedDiscoveryServiceStub stub);

  abstract void close();

  /** When this proxy last ACKed a response of {@code kind} (System.nanoTime), 0 if never. */
  long lastAckNanos(Kind kind) {
    return lastAckNanos.get(kind.ordinal());
  }

  /** Every type has been ACKed at least once. */
  boolean synced() {
    for (Kind kind : Kind.values()) {
      if (lastAckNanos(kind) == 0) {
        return false;
      }
    }
    return true;
  }

  /** Why the stream ended, or null while it is open (or was closed by us). */
  Throwable failure() {
    return closed ? null : failure;
  }

  void acked(Kind kind, int bytes, int resources) {
    lastAckNanos.set(kind.ordinal(), System.nanoTime());
    receipts.received(kind, bytes, resources);
  }

  void failed(Throwable t) {
    failure = t;
  }

  void markClosed() {
    closed = true;
  }

  String intern(String name) {
    return receipts.intern(name);
  }

  /** The EDS names of the clusters that take endpoints from EDS. */
  List<String> edsNames(Collection<Any> clusters) {
    List<String> names = new ArrayList<>();
    for (Any any : clusters) {
      Cluster cluster = parse(any, a -> Cluster.parseFrom(a.getValue()));
      if (cluster.getType() == Cluster.DiscoveryType.EDS) {
        String service = cluster.getEdsClusterConfig().getServiceName();
        names.add(receipts.intern(service.isEmpty() ? cluster.getName() : service));
      }
    }
    return names;
  }

  /** The route configurations the listeners' HTTP connection managers load over RDS. */
  List<String> routeNames(Collection<Any> listeners) {
    List<String> names = new ArrayList<>();
    for (Any any : listeners) {
      Listener listener = parse(any, a -> Listener.parseFrom(a.getValue()));
      List<FilterChain> chains = new ArrayList<>(listener.getFilterChainsList());
      if (listener.hasDefaultFilterChain()) {
        chains.add(listener.getDefaultFilterChain());
      }
      for (FilterChain chain : chains) {
        for (Filter filter : chain.getFiltersList()) {
          if (filter.getTypedConfig().is(HttpConnectionManager.class)) {
            HttpConnectionManager hcm = parse(filter.getTypedConfig(), a -> a.unpack(HttpConnectionManager.class));
            if (hcm.hasRds()) {
              names.add(receipts.intern(hcm.getRds().getRouteConfigName()));
            }
          }
        }
      }
    }
    return names;
  }

  private interface Parser<T> {
    T parse(Any any) throws InvalidProtocolBufferException;
  }

  private static <T> T parse(Any any, Parser<T> parser) {
    try {
      return parser.parse(any);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("the server sent a resource that does not parse: " + any.getTypeUrl(), e);
    }
  }

  /** One ADS stream, either protocol: the requests it sends, how it ends, how it is closed. */
  private abstract static class AdsStream<Q, R> extends SimulatedProxy implements StreamObserver<R> {
    StreamObserver<Q> requests;

    AdsStream(String podName, String namespace, String serviceAccount, Receipts receipts) {
      super(podName, namespace, serviceAccount, receipts);
    }

    @Override
    public void onError(Throwable t) {
      failed(t);
    }

    @Override
    public void onCompleted() {
      failed(new IllegalStateException("the server ended the stream"));
    }

    @Override
    synchronized void close() {
      markClosed();
      if (requests != null) {
        requests.onCompleted();
      }
    }
  }

  /**
   * Incremental (delta) ADS, what Weft sidecars use by default. Responses are read lean
   * ({@link LeanDeltaResponse}): counted exactly, but only what the next subscription needs is parsed.
   */
  private static final class Delta extends AdsStream<DeltaDiscoveryRequest, LeanDeltaResponse> {
    /** The delta ADS method with responses read by {@link LeanDeltaResponse#MARSHALLER}. */
    private static final MethodDescriptor<DeltaDiscoveryRequest, LeanDeltaResponse> METHOD =
        AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod()
            .toBuilder(ProtoUtils.marshaller(DeltaDiscoveryRequest.getDefaultInstance()), LeanDeltaResponse.MARSHALLER)
            .build();

    private final Map<Kind, Set<String>> subscribed = new EnumMap<>(Kind.class);
    private boolean nodeSent;

    Delta(String podName, String namespace, String serviceAccount, Receipts receipts) {
      super(podName, namespace, serviceAccount, receipts);
      subscribed.put(Kind.EDS, new HashSet<>());
      subscribed.put(Kind.RDS, new HashSet<>());
    }

    @Override
    synchronized void start(AggregatedDiscoveryServiceStub stub) {
      requests = ClientCalls.asyncBidiStreamingCall(stub.getChannel().newCall(METHOD, stub.getCallOptions()), this);
      send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(Kind.CDS.typeUrl));
      send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(Kind.LDS.typeUrl));
    }

    @Override
    public synchronized void onNext(LeanDeltaResponse response) {
      Kind kind = Kind.of(response.typeUrl());
      if (kind == Kind.CDS || kind == Kind.LDS) {
        Kind dependent = kind == Kind.CDS ? Kind.EDS : Kind.RDS;
        List<String> wanted = (kind == Kind.CDS ? response.edsNames() : response.routeNames()).stream()
            .map(this::intern)
            .toList();
        // Envoy asks for what the new clusters and listeners need before it ACKs them.
        Set<String> fresh = new LinkedHashSet<>(wanted);
        fresh.removeAll(subscribed.get(dependent));
        if (!fresh.isEmpty()) {
          subscribed.get(dependent).addAll(fresh);
          send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(dependent.typeUrl).addAllResourceNamesSubscribe(fresh));
        }
      }
      send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(kind.typeUrl).setResponseNonce(response.nonce()));
      acked(kind, response.bytes(), response.resources() + response.removed());
    }

    private void send(DeltaDiscoveryRequest.Builder request) {
      if (!nodeSent) {
        request.setNode(node);
        nodeSent = true;
      }
      requests.onNext(request.build());
    }
  }

  /** State-of-the-world ADS: every request names all it wants, every response holds all of a type. */
  private static final class StateOfTheWorld extends AdsStream<DiscoveryRequest, DiscoveryResponse> {
    private final Map<Kind, List<String>> subscribed = new EnumMap<>(Kind.class);
    private final Map<Kind, String> versions = new EnumMap<>(Kind.class);
    private final Map<Kind, String> nonces = new EnumMap<>(Kind.class);
    private boolean nodeSent;

    StateOfTheWorld(String podName, String namespace, String serviceAccount, Receipts receipts) {
      super(podName, namespace, serviceAccount, receipts);
      for (Kind kind : Kind.values()) {
        subscribed.put(kind, List.of());
        versions.put(kind, "");
        nonces.put(kind, "");
      }
    }

    @Override
    synchronized void start(AggregatedDiscoveryServiceStub stub) {
      requests = stub.streamAggregatedResources(this);
      request(Kind.CDS);
      request(Kind.LDS);
    }

    @Override
    public synchronized void onNext(DiscoveryResponse response) {
      Kind kind = Kind.of(response.getTypeUrl());
      versions.put(kind, response.getVersionInfo());
      nonces.put(kind, response.getNonce());
      if (kind == Kind.CDS || kind == Kind.LDS) {
        Kind dependent = kind == Kind.CDS ? Kind.EDS : Kind.RDS;
        List<String> wanted = kind == Kind.CDS
            ? edsNames(response.getResourcesList()) : routeNames(response.getResourcesList());
        if (!new HashSet<>(wanted).equals(new HashSet<>(subscribed.get(dependent)))) {
          subscribed.put(dependent, List.copyOf(wanted));
          request(dependent);
        }
      }
      request(kind);
      acked(kind, response.getSerializedSize(), response.getResourcesCount());
    }

    /** A request for {@code kind}: the first one, an ACK, or a new subscription (with the last version and nonce). */
    private void request(Kind kind) {
      DiscoveryRequest.Builder request = DiscoveryRequest.newBuilder()
          .setTypeUrl(kind.typeUrl)
          .setVersionInfo(versions.get(kind))
          .setResponseNonce(nonces.get(kind))
          .addAllResourceNames(subscribed.get(kind));
      if (!nodeSent) {
        request.setNode(node);
        nodeSent = true;
      }
      requests.onNext(request.build());
    }
  }
}
