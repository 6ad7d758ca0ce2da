package dev.weft.xds.server;

import dev.weft.xds.server.delta.DeltaResponse;
import dev.weft.xds.server.delta.DeltaStreams;
import dev.weft.xds.server.delta.Outbound;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The ADS service as Weft serves it: state of the world from java-control-plane, with three
 * stream-level corrections it lacks, and delta from Weft's own {@link DeltaStreams} (why: see
 * there), which shares the third.
 * <ul>
 *   <li>The node is carried forward. Our sidecars set {@code set_node_on_first_message_only}, but
 *       java-control-plane picks the snapshot from the node of every request, so a later request
 *       without one would be answered from the wrong (empty) group. (A delta stream keeps the
 *       group of its first request.)</li>
 *   <li>A NACK is not answered with the config it rejected. Envoy's NACK carries the version it
 *       kept, which differs from the snapshot's, so java-control-plane would resend the rejected
 *       response at once, in a loop; telling it the client has the rejected version parks the
 *       watch until the snapshot changes, which is what Istio does too. (Delta streams behave this
 *       way by design. Not covered: an EDS/RDS rejection of names never acked before, which
 *       java-control-plane answers by its resource-name path.)</li>
 *   <li>Streams can be drained on shutdown: each is closed with a status, so clients reconnect
 *       (to another replica, the connection having had its GOAWAY) instead of waiting for a
 *       forced close. Each stream hands {@link ConnectedProxies} its way to be closed as it opens,
 *       so draining is {@link ConnectedProxies#closeAll}: there is no second list of streams.</li>
 * </ul>
 */
final class AdsService extends AggregatedDiscoveryServiceImplBase {

  private final AggregatedDiscoveryServiceImplBase upstream;
  private final DeltaStreams deltas;
  private final ConnectedProxies proxies;

  AdsService(AggregatedDiscoveryServiceImplBase upstream, DeltaStreams deltas, ConnectedProxies proxies) {
    this.upstream = upstream;
    this.deltas = deltas;
    this.proxies = proxies;
  }

  @Override
  public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> call) {
    return new SotwStream((ServerCallStreamObserver<DiscoveryResponse>) call)
        .open(upstream::streamAggregatedResources);
  }

  /**
   * The ADS service to serve: state of the world as generated, and the delta method with its
   * responses written by {@link DeltaResponse#MARSHALLER} (pre-encoded bytes, see there) instead of
   * the generated one. The method keeps its name, request type and schema, so clients and
   * reflection see the same service.
   */
  ServerServiceDefinition definition() {
    ServerServiceDefinition generated = bindService();
    MethodDescriptor<DeltaDiscoveryRequest, DeltaResponse> delta = AggregatedDiscoveryServiceGrpc
        .getDeltaAggregatedResourcesMethod()
        .toBuilder(ProtoUtils.marshaller(DeltaDiscoveryRequest.getDefaultInstance()), DeltaResponse.MARSHALLER)
        .build();
    ServiceDescriptor generatedService = generated.getServiceDescriptor();
    ServerMethodDefinition<?, ?> sotw = generated.getMethod(
        AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod().getFullMethodName());
    ServiceDescriptor service = ServiceDescriptor.newBuilder(generatedService.getName())
        .setSchemaDescriptor(generatedService.getSchemaDescriptor())
        .addMethod(sotw.getMethodDescriptor())
        .addMethod(delta)
        .build();
    return ServerServiceDefinition.builder(service)
        .addMethod(sotw)
        .addMethod(delta, ServerCalls.asyncBidiStreamingCall(this::deltaAggregatedResourcesEncoded))
        .build();
  }

  private StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResourcesEncoded(StreamObserver<DeltaResponse> call) {
    DeltaStream stream = new DeltaStream((ServerCallStreamObserver<DeltaResponse>) call);
    return stream.open(responses -> deltas.open(stream.outbound(responses)));
  }

  /** One ADS stream between the gRPC call and java-control-plane's handler for it. */
  private abstract class Stream<Q, R> {
    private final ServerCallStreamObserver<R> call;
    private final Responses responses = new Responses();
    private StreamObserver<Q> upstreamRequests;
    /** Guarded by {@link #responses}, the monitor java-control-plane sends under. */
    private boolean closed;
    private volatile boolean drained;
    /** What to run when the call becomes ready again; set by the handler as the stream opens. */
    private volatile Runnable onReady;

    Stream(ServerCallStreamObserver<R> call) {
      this.call = call;
    }

    StreamObserver<Q> open(Function<StreamObserver<R>, StreamObserver<Q>> handler) {
      // Both handlers must be set while the call is being set up, i.e. here.
      call.setOnReadyHandler(() -> {
        Runnable ready = onReady;
        if (ready != null) {
          ready.run();
        }
      });
      call.setOnCloseHandler(() -> {
        if (drained) {
          // The call ended from our side, which java-control-plane never hears of: tell it, so its
          // callbacks (the registry) see the stream go. CANCELLED keeps it from logging an error.
          upstreamRequests.onError(Status.CANCELLED.withDescription("xDS server shutting down").asRuntimeException());
        }
      });
      // java-control-plane gets a plain observer, so it sets no cancel handler of its own: a client
      // cancelling reaches it as onError(CANCELLED) from gRPC, which closes its side and the registry's.
      upstreamRequests = proxies.open(this::drain, () -> handler.apply(responses));
      return new StreamObserver<>() {
        @Override
        public void onNext(Q request) {
          upstreamRequests.onNext(adjust(request));
        }

        @Override
        public void onError(Throwable t) {
          upstreamRequests.onError(t);
        }

        @Override
        public void onCompleted() {
          upstreamRequests.onCompleted();
        }
      };
    }

    abstract Q adjust(Q request);

    boolean ready() {
      return call.isReady();
    }

    void whenReady(Runnable handler) {
      onReady = handler;
    }

    void sent(R response) {}

    void drain(Status status) {
      synchronized (responses) {
        if (closed) {
          return;
        }
        closed = true;
        drained = true;
        call.onError(status.asRuntimeException());
      }
    }

    /** What java-control-plane writes to: the call, minus writes after we closed it. */
    private final class Responses implements StreamObserver<R> {
      @Override
      public void onNext(R value) {
        synchronized (this) {
          if (!closed) {
            sent(value);
            call.onNext(value);
          }
        }
      }

      @Override
      public void onError(Throwable t) {
        synchronized (this) {
          if (!closed) {
            closed = true;
            call.onError(t);
          }
        }
      }

      @Override
      public void onCompleted() {
        synchronized (this) {
          if (!closed) {
            closed = true;
            call.onCompleted();
          }
        }
      }
    }
  }

  private final class SotwStream extends Stream<DiscoveryRequest, DiscoveryResponse> {
    /** The first node the client sent; requests arrive one at a time, so no lock is needed. */
    private Node node;
    /** The nonce and version of the last response per type URL; only that one can be (N)ACKed. */
    private final Map<String, Sent> lastSent = new ConcurrentHashMap<>();

    SotwStream(ServerCallStreamObserver<DiscoveryResponse> call) {
      super(call);
    }

    @Override
    DiscoveryRequest adjust(DiscoveryRequest request) {
      Node missing = node(request.hasNode(), request.getNode());
      Sent rejected = request.hasErrorDetail() ? lastSent.get(request.getTypeUrl()) : null;
      boolean park = rejected != null && rejected.nonce().equals(request.getResponseNonce())
          && !rejected.version().equals(request.getVersionInfo());
      if (missing == null && !park) {
        return request;
      }
      DiscoveryRequest.Builder builder = request.toBuilder();
      if (missing != null) {
        builder.setNode(missing);
      }
      if (park) {
        builder.setVersionInfo(rejected.version());
      }
      return builder.build();
    }

    /** The node to put into a request that has none, remembering the first one seen. */
    private Node node(boolean hasNode, Node requestNode) {
      if (hasNode && node == null) {
        node = requestNode;
      }
      return hasNode ? null : node;
    }

    @Override
    void sent(DiscoveryResponse response) {
      lastSent.put(response.getTypeUrl(), new Sent(response.getNonce(), response.getVersionInfo()));
    }
  }

  private record Sent(String nonce, String version) {}

  private final class DeltaStream extends Stream<DeltaDiscoveryRequest, DeltaResponse> {
    DeltaStream(ServerCallStreamObserver<DeltaResponse> call) {
      super(call);
    }

    @Override
    DeltaDiscoveryRequest adjust(DeltaDiscoveryRequest request) {
      return request;
    }

    /** {@code responses} (the call, closed by a drain) with the call's flow control, for {@link DeltaStreams}. */
    Outbound outbound(StreamObserver<DeltaResponse> responses) {
      return new Outbound() {
        @Override
        public void send(DeltaResponse response) {
          responses.onNext(response);
        }

        @Override
        public boolean isReady() {
          return ready();
        }

        @Override
        public void fail(Throwable error) {
          responses.onError(error);
        }

        @Override
        public void complete() {
          responses.onCompleted();
        }

        @Override
        public void onReady(Runnable handler) {
          whenReady(handler);
        }
      };
    }
  }
}
