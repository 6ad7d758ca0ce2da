package dev.weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConnectedProxiesTest {

  private static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
  private static final Node WEB_1 = TestConfigs.sidecarNode("web-1", "shop", "web", "8080");
  private static final Node WEB_2 = TestConfigs.sidecarNode("web-2", "shop", "web", "8080");
  private static final Node API_1 = TestConfigs.sidecarNode("api-1", "shop", "api", "9090");
  private static final String WEB_GROUP = NodeGroups.groupOf(WEB_1).id();
  private static final String API_GROUP = NodeGroups.groupOf(API_1).id();

  private final TestClock clock = new TestClock(Instant.parse("2025-01-01T00:00:00Z"));
  private final ConnectedProxies proxies = new ConnectedProxies(clock, new SimpleMeterRegistry());
  private final List<String> heard = new ArrayList<>();

  ConnectedProxiesTest() {
    proxies.addListener(new ConnectedProxies.Listener() {
      @Override
      public void connected(ConnectedProxy proxy) {
        heard.add("connected " + proxy.nodeId() + " to " + proxy.groupId() + " on " + proxy.streamId());
      }

      @Override
      public void disconnected(ConnectedProxy proxy, Instant at, String reason) {
        heard.add("disconnected " + proxy.nodeId() + " at " + at + ": " + reason);
      }
    });
  }

  private void connect(long streamId, Node node) throws RequestException {
    proxies.onStreamOpen(streamId, "");
    proxies.onV3StreamRequest(streamId, DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).build());
  }

  @Test
  void listenersHearOfAProxyOnceWhenItsStreamSaysWhoItIsAndWhenItLeaves() throws Exception {
    proxies.onStreamOpen(1, "");
    assertThat(heard).as("a stream is not a proxy until its first request").isEmpty();

    proxies.onV3StreamRequest(1, DiscoveryRequest.newBuilder().setNode(WEB_1).setTypeUrl(CDS).build());
    proxies.onV3StreamRequest(1, DiscoveryRequest.newBuilder().setNode(WEB_1)
        .setTypeUrl(Resources.V3.LISTENER_TYPE_URL).build());
    clock.advance(Duration.ofSeconds(5));
    proxies.onStreamCloseWithError(1, "", Status.UNAVAILABLE.withDescription("connection reset").asException());

    assertThat(heard).containsExactly(
        "connected web-1.shop to " + WEB_GROUP + " on 1",
        "disconnected web-1.shop at 2025-01-01T00:00:05Z: UNAVAILABLE: connection reset");
    assertThat(proxies.proxies()).isEmpty();
  }

  @Test
  void keepsWhatEachStreamWasSentAndApplied() throws Exception {
    connect(1, WEB_1);
    proxies.onV3StreamResponse(1, DiscoveryRequest.getDefaultInstance(),
        DiscoveryResponse.newBuilder().setTypeUrl(CDS).setVersionInfo("c1").setNonce("0").build());
    proxies.onV3StreamRequest(1, DiscoveryRequest.newBuilder().setTypeUrl(CDS).setVersionInfo("c1")
        .setResponseNonce("0").build());

    assertThat(proxies.proxies()).singleElement().satisfies(proxy -> {
      assertThat(proxy.nodeId()).isEqualTo("web-1.shop");
      assertThat(proxy.groupId()).isEqualTo(WEB_GROUP);
      assertThat(proxy.protocol()).isEqualTo(ProxyStatus.Protocol.STATE_OF_THE_WORLD);
      assertThat(proxy.connectedAt()).isEqualTo(clock.instant());
      assertThat(proxy.subscriptions()).containsExactly(new ConnectedProxy.Subscription(CDS, "c1", "0", "c1", null));
      assertThat(proxy.lastNack()).isNull();
    });
  }

  @Test
  void countsTheOpenStreamsOfEachGroup() throws Exception {
    connect(1, WEB_1);
    connect(2, WEB_2);
    connect(3, API_1);
    proxies.onStreamOpen(4, "");

    proxies.onStreamClose(1, "");

    assertThat(proxies.streamsOf(WEB_GROUP)).isEqualTo(1);
    assertThat(proxies.streamsOf(API_GROUP)).isEqualTo(1);
    assertThat(proxies.proxies()).extracting(ConnectedProxy::nodeId).containsExactly("api-1.shop", "web-2.shop");
    proxies.onStreamClose(2, "");
    proxies.onStreamClose(2, "");
    assertThat(proxies.streamsOf(WEB_GROUP)).isZero();
  }

  @Test
  void refusesAStreamWhoseNodeBreaksTheContract() {
    proxies.onStreamOpen(1, "");
    assertThatThrownBy(() -> proxies.onV3StreamRequest(1, DiscoveryRequest.newBuilder()
        .setNode(TestConfigs.node("nameless", "envoy", Map.of())).setTypeUrl(CDS).build()))
        .isInstanceOfSatisfying(RequestException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("WEFT_NAMESPACE");
        });
    proxies.onStreamOpen(2, "");
    assertThatThrownBy(() -> proxies.onV3StreamRequest(2, DiscoveryRequest.getDefaultInstance()))
        .isInstanceOf(RequestException.class)
        .hasMessageContaining("must carry the node");

    proxies.onStreamCloseWithError(1, "", Status.INVALID_ARGUMENT.asException());
    assertThat(heard).as("a refused stream was never a proxy").isEmpty();
    assertThat(proxies.proxies()).isEmpty();
  }

  @Test
  void closeAllEndsEveryStreamOpenedThroughTheRegistry() throws Exception {
    List<Status> closed = new ArrayList<>();
    // As java-control-plane does: the stream is announced while its set-up runs.
    proxies.open(closed::add, () -> {
      proxies.onStreamOpen(1, "");
      return null;
    });
    proxies.open(closed::add, () -> {
      proxies.onStreamOpen(2, "");
      return null;
    });
    connect(1, WEB_1);
    proxies.onStreamClose(2, "");

    int count = proxies.closeAll(Status.UNAVAILABLE.withDescription("shutting down"));

    assertThat(count).isEqualTo(1);
    assertThat(closed).singleElement().satisfies(s -> assertThat(s.getDescription()).isEqualTo("shutting down"));
  }
}
