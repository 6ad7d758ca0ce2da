package dev.weft.xds.server.delta;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.controlplane.server.serializer.CachedProtoResourcesSerializer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeltaStreamsTest {

  private static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
  private static final String EDS = Resources.V3.ENDPOINT_TYPE_URL;
  private static final String GROUP = "demo/web";

  private final List<String> events = new ArrayList<>();
  private final DeltaStreams streams = new DeltaStreams(new Callbacks(), new CachedProtoResourcesSerializer(),
      request -> {
        if (request.getNode().getId().isEmpty()) {
          throw new IllegalArgumentException("node id missing");
        }
        return GROUP;
      }, new SendBudget(1 << 20));

  @Test
  void wildcardStreamGetsEverythingThenOnlyWhatChanged() {
    streams.setSnapshot(GROUP, snapshot("1", List.of("a", "b"), "1", Map.of()));
    Client client = new Client();

    client.send(first(CDS));
    DeltaDiscoveryResponse all = client.take();
    assertThat(names(all)).containsExactlyInAnyOrder("a", "b");
    assertThat(all.getSystemVersionInfo()).isEqualTo("c1");

    streams.setSnapshot(GROUP, snapshot("2", List.of("a", "c"), "1", Map.of()));
    DeltaDiscoveryResponse change = client.take();
    assertThat(names(change)).containsExactly("c");
    assertThat(change.getRemovedResourcesList()).containsExactly("b");
    assertThat(change.getSystemVersionInfo()).isEqualTo("c2");
    assertThat(client.responses).isEmpty();
  }

  @Test
  void namedStreamGetsOnlyItsNamesAndAnEmptyAnswerWhenOnlyOthersChange() {
    streams.setSnapshot(GROUP, snapshot("1", List.of("a", "b"), "1", Map.of("a", 1, "b", 1)));
    Client client = new Client();

    client.send(first(EDS).toBuilder().addResourceNamesSubscribe("a").build());
    assertThat(names(client.take())).containsExactly("a");

    streams.setSnapshot(GROUP, snapshot("1", List.of("a", "b"), "2", Map.of("a", 1, "b", 2)));
    DeltaDiscoveryResponse other = client.take();
    assertThat(other.getResourcesList()).as("b changed, a did not").isEmpty();
    assertThat(other.getSystemVersionInfo()).as("the answer still carries the new version").isEqualTo("e2");

    client.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(EDS).addResourceNamesSubscribe("b").build());
    assertThat(names(client.take())).as("newly subscribed").containsExactly("b");

    client.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(EDS).addResourceNamesUnsubscribe("a").build());
    assertThat(client.responses).isEmpty();
    streams.setSnapshot(GROUP, snapshot("1", List.of("a", "b"), "3", Map.of("a", 3, "b", 2)));
    assertThat(client.take().getResourcesList()).as("a is no longer subscribed").isEmpty();
  }

  @Test
  void streamsOfAGroupNamingDifferentResourcesEachGetTheirOwn() {
    streams.setSnapshot(GROUP, snapshot("1", List.of("a", "b"), "1", Map.of("a", 1, "b", 1)));
    Client first = new Client();
    Client same = new Client();
    Client other = new Client();

    first.send(first(EDS).toBuilder().addResourceNamesSubscribe("a").build());
    same.send(first(EDS).toBuilder().addResourceNamesSubscribe("a").build());
    other.send(first(EDS).toBuilder().addResourceNamesSubscribe("b").build());

    DeltaDiscoveryResponse firstAnswer = first.take();
    DeltaDiscoveryResponse sameAnswer = same.take();
    assertThat(names(firstAnswer)).containsExactly("a");
    assertThat(sameAnswer.getResourcesList()).as("the same resources, as sent").isEqualTo(firstAnswer.getResourcesList());
    assertThat(names(other.take())).containsExactly("b");
    assertThat(streams.bodies.size()).as("one body per distinct subscription").isEqualTo(2);

    streams.setSnapshot(GROUP, snapshot("1", List.of("a", "b"), "2", Map.of("a", 1, "b", 2)));
    assertThat(first.take().getResourcesList()).isEmpty();
    assertThat(same.take().getResourcesList()).isEmpty();
    assertThat(names(other.take())).containsExactly("b");
  }

  @Test
  void responseIsWrittenAsTheBytesOfTheMessageItStandsFor() throws Exception {
    streams.setSnapshot(GROUP, snapshot("1", List.of("a", "b"), "1", Map.of()));
    List<DeltaResponse> written = new ArrayList<>();
    StreamObserver<DeltaDiscoveryRequest> requests = streams.open(new Outbound() {
      @Override
      public void send(DeltaResponse response) {
        written.add(response);
      }

      @Override
      public boolean isReady() {
        return true;
      }

      @Override
      public void fail(Throwable error) {}

      @Override
      public void complete() {}

      @Override
      public void onReady(Runnable handler) {}
    });

    requests.onNext(first(CDS));

    DeltaResponse response = written.get(0);
    byte[] bytes = DeltaResponse.MARSHALLER.stream(response).readAllBytes();
    DeltaDiscoveryResponse parsed = DeltaDiscoveryResponse.parseFrom(bytes);
    assertThat(bytes).hasSize(response.size());
    assertThat(names(parsed)).containsExactlyInAnyOrder("a", "b");
    assertThat(parsed.getTypeUrl()).isEqualTo(CDS);
    assertThat(parsed.getSystemVersionInfo()).isEqualTo("c1");
    assertThat(parsed.getNonce()).isEqualTo(response.nonce());
    assertThat(parsed.getResources(0).getResource().unpack(Cluster.class).getName())
        .isEqualTo(parsed.getResources(0).getName());
    assertThat(response.header().getResourcesCount()).as("the registry is not handed the resources").isZero();
  }

  @Test
  void streamThatConnectsBeforeTheGroupHasASnapshotIsAnsweredWhenItGetsOne() {
    Client client = new Client();
    client.send(first(CDS));
    assertThat(client.responses).isEmpty();

    streams.setSnapshot(GROUP, snapshot("1", List.of("a"), "1", Map.of()));

    assertThat(names(client.take())).containsExactly("a");
  }

  @Test
  void reconnectingClientIsSentOnlyWhatDiffersFromWhatItHas() {
    Snapshot snapshot = snapshot("1", List.of("a", "b"), "1", Map.of());
    streams.setSnapshot(GROUP, snapshot);
    String versionOfA = snapshot.clusters().versionedResources().get("a").version();
    Client client = new Client();

    client.send(first(CDS).toBuilder()
        .putInitialResourceVersions("a", versionOfA)
        .putInitialResourceVersions("b", "stale")
        .putInitialResourceVersions("gone", "x")
        .build());

    DeltaDiscoveryResponse answer = client.take();
    assertThat(names(answer)).containsExactly("b");
    assertThat(answer.getRemovedResourcesList()).containsExactly("gone");
  }

  @Test
  void reconnectingClientThatHasEverythingStillGetsTheVersion() {
    Snapshot snapshot = snapshot("1", List.of("a"), "1", Map.of());
    streams.setSnapshot(GROUP, snapshot);
    Client client = new Client();

    client.send(first(CDS).toBuilder()
        .putInitialResourceVersions("a", snapshot.clusters().versionedResources().get("a").version()).build());

    DeltaDiscoveryResponse answer = client.take();
    assertThat(answer.getResourcesList()).isEmpty();
    assertThat(answer.getSystemVersionInfo()).isEqualTo("c1");
  }

  @Test
  void rejectedResourcesAreNotSentAgainUntilTheyChange() {
    Client client = subscribedToClusters();
    DeltaDiscoveryResponse first = client.take();
    client.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).setResponseNonce(first.getNonce()).build());

    streams.setSnapshot(GROUP, snapshot("2", List.of("a", "bad"), "1", Map.of()));
    DeltaDiscoveryResponse bad = client.take();
    client.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).setResponseNonce(bad.getNonce())
        .setErrorDetail(com.google.rpc.Status.newBuilder().setMessage("no")).build());
    assertThat(client.responses).isEmpty();

    streams.setSnapshot(GROUP, snapshot("3", List.of("a"), "1", Map.of()));
    assertThat(client.take().getRemovedResourcesList()).containsExactly("bad");
  }

  @Test
  void unsubscribingTheWildcardKeepsTheNamedResources() {
    streams.setSnapshot(GROUP, snapshot("1", List.of("a", "b"), "1", Map.of()));
    Client client = new Client();
    client.send(first(CDS));
    client.take();
    client.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).addResourceNamesSubscribe("a")
        .addResourceNamesUnsubscribe("*").build());

    streams.setSnapshot(GROUP, snapshot("2", List.of("a", "b", "c"), "1", Map.of()));

    assertThat(client.take().getResourcesList()).as("c is not subscribed").isEmpty();
  }

  @Test
  void streamsWithTheSameSubscriptionShareOneSubscriptionObject() {
    assertThat(Subscription.first(List.of("x", "y")))
        .isSameAs(Subscription.NONE.change(List.of("y", "x"), List.of()));
    assertThat(Subscription.first(List.of())).matches(Subscription::wildcard);
  }

  @Test
  void refusedStreamIsClosedAndLeavesItsGroup() {
    Client client = new Client();
    client.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).setNode(Node.getDefaultInstance()).build());

    assertThat(client.error.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(streams.streamsOf(GROUP)).isZero();
    assertThat(events).contains("closed with error");
  }

  @Test
  void closedStreamLeavesItsGroupSoItsSnapshotCanBeCleared() {
    Client client = subscribedToClusters();
    assertThat(streams.streamsOf(GROUP)).isOne();
    assertThat(streams.clearSnapshot(GROUP)).isFalse();

    client.requests.onCompleted();

    assertThat(streams.streamsOf(GROUP)).isZero();
    assertThat(streams.clearSnapshot(GROUP)).isTrue();
    assertThat(events).contains("closed");
  }

  @Test
  void everyResponseIsRecordedWithTheCallbacksBeforeItIsSent() {
    Client client = subscribedToClusters();
    DeltaDiscoveryResponse response = client.take();
    assertThat(events).contains("sent " + response.getNonce());
  }

  @Test
  void streamWhoseClientIsNotReadingCatchesUpInOneStepWhenItIs() {
    streams.setSnapshot(GROUP, snapshot("1", List.of("a"), "1", Map.of()));
    Client client = new Client();
    client.slow = true;
    client.send(first(CDS));
    assertThat(names(client.take())).containsExactly("a");

    streams.setSnapshot(GROUP, snapshot("2", List.of("a", "b"), "1", Map.of()));
    streams.setSnapshot(GROUP, snapshot("3", List.of("a", "c"), "1", Map.of()));
    assertThat(client.responses).as("nothing while the call is not ready").isEmpty();

    client.drained();

    DeltaDiscoveryResponse caughtUp = client.take();
    assertThat(names(caughtUp)).containsExactly("c");
    assertThat(caughtUp.getRemovedResourcesList()).as("b came and went while it was not reading").isEmpty();
    assertThat(caughtUp.getSystemVersionInfo()).isEqualTo("c3");
    assertThat(client.responses).isEmpty();
  }

  @Test
  void streamsBeyondTheSendBudgetWaitInLineForClientsToRead() {
    DeltaStreams tight = oneByteBudget();
    Client first = new Client(tight);
    first.slow = true;
    Client second = new Client(tight);
    Client third = new Client(tight);

    first.send(first(CDS));
    second.send(first(CDS));
    third.send(first(CDS));
    assertThat(first.responses).as("nothing else in flight: let through").hasSize(1);
    assertThat(second.responses).as("over budget: waits").isEmpty();
    assertThat(tight.budget.waiting()).isEqualTo(2);

    first.drained();

    assertThat(second.responses).hasSize(1);
    assertThat(third.responses).as("second's response was read at once (its call stayed ready)").hasSize(1);
    assertThat(tight.budget.inFlight()).isZero();
  }

  @Test
  void closingAStreamGivesBackItsBudget() {
    DeltaStreams tight = oneByteBudget();
    Client first = new Client(tight);
    first.slow = true;
    Client second = new Client(tight);
    first.send(first(CDS));
    second.send(first(CDS));
    assertThat(second.responses).isEmpty();

    first.requests.onError(Status.CANCELLED.asRuntimeException());

    assertThat(second.responses).hasSize(1);
  }

  /** A client subscribed to every cluster of the group, which is served cluster "a". */
  private Client subscribedToClusters() {
    streams.setSnapshot(GROUP, snapshot("1", List.of("a"), "1", Map.of()));
    Client client = new Client();
    client.send(first(CDS));
    return client;
  }

  /** A server whose send budget is spent by any response, serving cluster "a". */
  private DeltaStreams oneByteBudget() {
    DeltaStreams tight = new DeltaStreams(new Callbacks(), new CachedProtoResourcesSerializer(), request -> GROUP,
        new SendBudget(1));
    tight.setSnapshot(GROUP, snapshot("1", List.of("a"), "1", Map.of()));
    return tight;
  }

  @Test
  void streamWhoseProxyStopsReadingIsClosedAfterTheTimeoutAndItsBudgetGoesToOthers() {
    long[] now = {0};
    DeltaStreams tight = new DeltaStreams(new Callbacks(), new CachedProtoResourcesSerializer(), request -> GROUP,
        new SendBudget(1), () -> now[0]);
    tight.setSnapshot(GROUP, snapshot("1", List.of("a"), "1", Map.of()));
    Client stalled = new Client(tight);
    stalled.slow = true;
    stalled.send(first(CDS));
    Client waiting = new Client(tight);
    waiting.send(first(CDS));
    assertThat(waiting.responses).isEmpty();

    now[0] = Duration.ofSeconds(29).toNanos();
    assertThat(tight.closeStalled(Duration.ofSeconds(30))).as("not yet").isZero();
    now[0] = Duration.ofSeconds(31).toNanos();
    assertThat(tight.closeStalled(Duration.ofSeconds(30))).isOne();

    assertThat(stalled.error.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(stalled.error.getDescription()).contains("did not read");
    assertThat(waiting.responses).hasSize(1);
    assertThat(events).contains("closed with error");
  }

  private static DeltaDiscoveryRequest first(String typeUrl) {
    return DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl).setNode(Node.newBuilder().setId("web-1.demo"))
        .build();
  }

  private static List<String> names(DeltaDiscoveryResponse response) {
    return response.getResourcesList().stream().map(Resource::getName).toList();
  }

  /** A snapshot of clusters and endpoint assignments (port per cluster) with the given type versions. */
  private static Snapshot snapshot(String clustersVersion, List<String> clusters, String endpointsVersion,
      Map<String, Integer> endpoints) {
    List<ClusterLoadAssignment> assignments = endpoints.entrySet().stream()
        .map(e -> ClusterLoadAssignment.newBuilder().setClusterName(e.getKey())
            .addEndpoints(io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints.newBuilder()
                .setPriority(e.getValue()))
            .build())
        .toList();
    return Snapshot.create(clusters.stream().map(n -> Cluster.newBuilder().setName(n).build()).toList(),
        "c" + clustersVersion, assignments, "e" + endpointsVersion, List.<Listener>of(), "l",
        List.<RouteConfiguration>of(), "r", List.of(), "s");
  }

  /** A client of one stream: what it was sent, in order. */
  private final class Client {
    final List<DeltaDiscoveryResponse> responses = new ArrayList<>();
    Status error;
    boolean ready = true;
    /** A slow client: each response fills the call's buffer until {@link #drained()}. */
    boolean slow;
    Runnable onReady;
    final StreamObserver<DeltaDiscoveryRequest> requests;

    Client() {
      this(streams);
    }

    Client(DeltaStreams server) {
      requests = server.open(new Outbound() {
      @Override
      public void send(DeltaResponse response) {
        // What the client reads: the bytes the response would be written as, parsed.
        responses.add(response.toMessage());
        ready = !slow;
      }

      @Override
      public boolean isReady() {
        return ready;
      }

      @Override
      public void fail(Throwable t) {
        error = Status.fromThrowable(t);
      }

      @Override
      public void complete() {}

      @Override
      public void onReady(Runnable handler) {
        onReady = handler;
      }
    });
    }

    /** The call drains: it is ready again. */
    void drained() {
      ready = true;
      onReady.run();
    }

    void send(DeltaDiscoveryRequest request) {
      requests.onNext(request);
    }

    DeltaDiscoveryResponse take() {
      assertThat(responses).as("responses waiting").isNotEmpty();
      return responses.remove(0);
    }
  }

  private final class Callbacks implements DiscoveryServerCallbacks {
    @Override
    public void onV3StreamRequest(long streamId, DiscoveryRequest request) {}

    @Override
    public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) throws RequestException {}

    @Override
    public void onV3StreamDeltaResponse(long streamId, DeltaDiscoveryRequest request,
        DeltaDiscoveryResponse response) {
      events.add("sent " + response.getNonce());
    }

    @Override
    public void onStreamClose(long streamId, String typeUrl) {
      events.add("closed");
    }

    @Override
    public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
      events.add("closed with error");
    }
  }
}
