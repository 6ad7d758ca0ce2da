package dev.weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** One ADS stream of a test client: what it sends, and a queue of what the server answered. */
final class TestAdsStream<Q, R> {

  private static final long WAIT_SECONDS = 5;

  private final BlockingQueue<R> responses = new LinkedBlockingQueue<>();
  private final CompletableFuture<Status> closed = new CompletableFuture<>();
  private final StreamObserver<Q> requests;

  private TestAdsStream(Function<StreamObserver<R>, StreamObserver<Q>> open) {
    requests = open.apply(new StreamObserver<>() {
      @Override
      public void onNext(R value) {
        responses.add(value);
      }

      @Override
      public void onError(Throwable t) {
        closed.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        closed.complete(Status.OK);
      }
    });
  }

  static TestAdsStream<DiscoveryRequest, DiscoveryResponse> stateOfTheWorld(ManagedChannel channel) {
    return new TestAdsStream<>(AggregatedDiscoveryServiceGrpc.newStub(channel)::streamAggregatedResources);
  }

  static TestAdsStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> delta(ManagedChannel channel) {
    return new TestAdsStream<>(AggregatedDiscoveryServiceGrpc.newStub(channel)::deltaAggregatedResources);
  }

  synchronized void send(Q request) {
    requests.onNext(request);
  }

  /** The next response, waiting a bounded time for it. */
  R next() throws InterruptedException {
    R response = responses.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(response).as("a response within %d s", WAIT_SECONDS).isNotNull();
    return response;
  }

  /** Responses that arrived and were not taken yet. */
  int pending() {
    return responses.size();
  }

  /** The status the server closed the stream with, waiting a bounded time for it. */
  Status awaitClosed() throws Exception {
    return closed.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  void cancel() {
    requests.onError(Status.CANCELLED.asRuntimeException());
  }
}
