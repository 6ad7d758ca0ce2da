package dev.weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProxySyncTrackerTest {

  private static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
  private static final String LDS = Resources.V3.LISTENER_TYPE_URL;
  private static final Node WEB = TestConfigs.sidecarNode("web-1", "shop", "web", "8080");
  private static final String WEB_GROUP = NodeGroups.groupOf(WEB).id();

  private final TestClock clock = new TestClock(Instant.parse("2025-01-01T00:00:00Z"));
  private final Map<String, Map<String, String>> latest = new HashMap<>();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ConnectedProxies proxies = new ConnectedProxies(clock, registry);
  private final ProxySyncTracker tracker = new ProxySyncTracker(proxies,
      group -> latest.getOrDefault(group, Map.of()), registry);

  private static DiscoveryRequest request(String typeUrl, String version, String nonce) {
    return DiscoveryRequest.newBuilder().setTypeUrl(typeUrl).setVersionInfo(version).setResponseNonce(nonce).build();
  }

  private static DiscoveryResponse response(String typeUrl, String version, String nonce) {
    return DiscoveryResponse.newBuilder().setTypeUrl(typeUrl).setVersionInfo(version).setNonce(nonce).build();
  }

  private static DiscoveryRequest nack(String typeUrl, String keptVersion, String nonce, String message) {
    return request(typeUrl, keptVersion, nonce).toBuilder()
        .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage(message))
        .build();
  }

  /** Opens a SotW stream, subscribes to CDS and LDS, and sends version 1 of both. */
  private void connectAndSend(long stream) throws Exception {
    proxies.onStreamOpen(stream, "");
    proxies.onV3StreamRequest(stream, request(CDS, "", "").toBuilder().setNode(WEB).build());
    proxies.onV3StreamResponse(stream, request(CDS, "", ""), response(CDS, "c1", "0"));
    proxies.onV3StreamRequest(stream, request(LDS, "", ""));
    proxies.onV3StreamResponse(stream, request(LDS, "", ""), response(LDS, "l1", "1"));
  }

  @Test
  void proxyIsSyncedOnceEverySubscribedTypeAckedTheNewestVersion() throws Exception {
    latest.put(WEB_GROUP, Map.of(CDS, "c1", LDS, "l1"));
    clock.advance(Duration.ofSeconds(1));
    Instant opened = clock.instant();
    connectAndSend(7);

    proxies.onV3StreamRequest(7, request(CDS, "c1", "0"));
    assertThat(tracker.proxies()).singleElement().satisfies(p -> assertThat(p.synced()).isFalse());

    proxies.onV3StreamRequest(7, request(LDS, "l1", "1"));

    assertThat(tracker.proxies()).singleElement().satisfies(p -> {
      assertThat(p.nodeId()).isEqualTo("web-1.shop");
      assertThat(p.namespace()).isEqualTo("shop");
      assertThat(p.groupId()).isEqualTo(WEB_GROUP);
      assertThat(p.streamId()).isEqualTo(7);
      assertThat(p.protocol()).isEqualTo(ProxyStatus.Protocol.STATE_OF_THE_WORLD);
      assertThat(p.connectedAt()).isEqualTo(opened);
      assertThat(p.synced()).isTrue();
      assertThat(p.nacked()).isFalse();
      assertThat(p.types()).extracting(ProxyStatus.TypeStatus::typeUrl, ProxyStatus.TypeStatus::sentVersion,
              ProxyStatus.TypeStatus::ackedVersion, ProxyStatus.TypeStatus::latestVersion)
          .containsExactlyInAnyOrder(
              org.assertj.core.groups.Tuple.tuple(CDS, "c1", "c1", "c1"),
              org.assertj.core.groups.Tuple.tuple(LDS, "l1", "l1", "l1"));
    });
    assertThat(registry.get("proxies.synced").gauge().value()).isEqualTo(1);
    assertThat(registry.get("xds.pushes").tag("type", "cds").counter().count()).isEqualTo(1);
  }

  @Test
  void aNewSnapshotMakesTheProxyStaleUntilItAcks() throws Exception {
    latest.put(WEB_GROUP, Map.of(CDS, "c1", LDS, "l1"));
    connectAndSend(1);
    proxies.onV3StreamRequest(1, request(CDS, "c1", "0"));
    proxies.onV3StreamRequest(1, request(LDS, "l1", "1"));

    latest.put(WEB_GROUP, Map.of(CDS, "c2", LDS, "l1"));

    assertThat(tracker.proxies()).singleElement().satisfies(p -> assertThat(p.synced()).isFalse());
  }

  @Test
  void reconnectingProxyThatAlreadyHasTheNewestVersionIsSynced() throws Exception {
    // After a reconnect Envoy names the version it has; the server, seeing it current, sends nothing.
    latest.put(WEB_GROUP, Map.of(CDS, "c1"));
    proxies.onV3StreamRequest(3, request(CDS, "c1", "").toBuilder().setNode(WEB).build());

    assertThat(tracker.proxies()).singleElement().satisfies(p -> assertThat(p.synced()).isTrue());
  }

  @Test
  void nackRecordsTheRejectedVersionAndEnvoysMessage() throws Exception {
    latest.put(WEB_GROUP, Map.of(CDS, "c2", LDS, "l1"));
    connectAndSend(1);
    proxies.onV3StreamRequest(1, request(CDS, "c1", "0"));
    proxies.onV3StreamRequest(1, request(LDS, "l1", "1"));
    proxies.onV3StreamResponse(1, request(CDS, "c1", "0"), response(CDS, "c2", "2"));
    clock.advance(Duration.ofSeconds(3));

    proxies.onV3StreamRequest(1, nack(CDS, "c1", "2", "cluster payments: invalid lb_policy"));

    ProxyStatus.Nack expected = new ProxyStatus.Nack(CDS, "c2", "2", "cluster payments: invalid lb_policy",
        clock.instant());
    assertThat(tracker.proxies()).singleElement().satisfies(p -> {
      assertThat(p.synced()).isFalse();
      assertThat(p.nacked()).isTrue();
      assertThat(p.lastNack()).isEqualTo(expected);
      assertThat(p.types()).filteredOn(t -> t.typeUrl().equals(CDS)).singleElement().satisfies(t -> {
        assertThat(t.ackedVersion()).isEqualTo("c1");
        assertThat(t.sentVersion()).isEqualTo("c2");
        assertThat(t.nack()).isEqualTo(expected);
      });
    });
    assertThat(registry.get("xds.nacks").tag("type", "cds").counter().count()).isEqualTo(1);
    assertThat(registry.get("proxies.nacked").gauge().value()).isEqualTo(1);
  }

  @Test
  void aLaterAckResolvesTheNackButKeepsItForDebugging() throws Exception {
    latest.put(WEB_GROUP, Map.of(CDS, "c3"));
    connectAndSend(1);
    proxies.onV3StreamRequest(1, nack(CDS, "", "0", "bad"));
    proxies.onV3StreamResponse(1, request(CDS, "", "0"), response(CDS, "c3", "5"));

    proxies.onV3StreamRequest(1, request(CDS, "c3", "5"));

    assertThat(tracker.proxies()).singleElement().satisfies(p -> {
      assertThat(p.nacked()).isFalse();
      assertThat(p.lastNack().message()).isEqualTo("bad");
    });
  }

  @Test
  void undoingTheRejectedChangeEndsTheNackWithoutANewResponse() throws Exception {
    latest.put(WEB_GROUP, Map.of(CDS, "c2"));
    connectAndSend(1);
    proxies.onV3StreamRequest(1, request(CDS, "c1", "0"));
    proxies.onV3StreamResponse(1, request(CDS, "c1", "0"), response(CDS, "c2", "2"));
    proxies.onV3StreamRequest(1, nack(CDS, "c1", "2", "bad"));

    // The state goes back to what the proxy kept: the server has nothing new to send.
    latest.put(WEB_GROUP, Map.of(CDS, "c1"));

    assertThat(tracker.proxies()).singleElement().satisfies(p -> {
      assertThat(p.nacked()).isFalse();
      assertThat(p.synced()).isTrue();
      assertThat(p.lastNack().message()).isEqualTo("bad");
    });
  }

  @Test
  void deltaAcksCountTheSystemVersionOfTheAckedResponse() throws Exception {
    latest.put(WEB_GROUP, Map.of(CDS, "c1"));
    proxies.onStreamOpen(4, "");
    DeltaDiscoveryRequest subscribe = DeltaDiscoveryRequest.newBuilder().setNode(WEB).setTypeUrl(CDS).build();
    proxies.onV3StreamDeltaRequest(4, subscribe);
    proxies.onV3StreamDeltaResponse(4, subscribe, DeltaDiscoveryResponse.newBuilder()
        .setTypeUrl(CDS).setSystemVersionInfo("c1").setNonce("0").build());
    assertThat(tracker.proxies()).singleElement().satisfies(p -> assertThat(p.synced()).isFalse());

    proxies.onV3StreamDeltaRequest(4, DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).setResponseNonce("0").build());

    assertThat(tracker.proxies()).singleElement().satisfies(p -> {
      assertThat(p.protocol()).isEqualTo(ProxyStatus.Protocol.DELTA);
      assertThat(p.synced()).isTrue();
    });
  }

  @Test
  void deltaNackRecordsTheRejectedSystemVersion() throws Exception {
    latest.put(WEB_GROUP, Map.of(CDS, "c1"));
    DeltaDiscoveryRequest subscribe = DeltaDiscoveryRequest.newBuilder().setNode(WEB).setTypeUrl(CDS).build();
    proxies.onV3StreamDeltaRequest(4, subscribe);
    proxies.onV3StreamDeltaResponse(4, subscribe, DeltaDiscoveryResponse.newBuilder()
        .setTypeUrl(CDS).setSystemVersionInfo("c1").setNonce("0").build());

    proxies.onV3StreamDeltaRequest(4, DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).setResponseNonce("0")
        .setErrorDetail(com.google.rpc.Status.newBuilder().setMessage("no such filter")).build());

    assertThat(tracker.proxies()).singleElement().satisfies(p -> {
      assertThat(p.nacked()).isTrue();
      assertThat(p.lastNack().version()).isEqualTo("c1");
      assertThat(p.lastNack().message()).isEqualTo("no such filter");
    });
  }

  @Test
  void disconnectRemovesTheProxyAndRemembersIt() throws Exception {
    connectAndSend(1);
    clock.advance(Duration.ofSeconds(9));

    proxies.onStreamCloseWithError(1, "", Status.UNAVAILABLE.withDescription("connection reset").asException());

    assertThat(tracker.proxies()).isEmpty();
    assertThat(tracker.recentlyDisconnected()).singleElement().satisfies(d -> {
      assertThat(d.lastStatus().nodeId()).isEqualTo("web-1.shop");
      assertThat(d.disconnectedAt()).isEqualTo(clock.instant());
      assertThat(d.reason()).isEqualTo("UNAVAILABLE: connection reset");
    });
    assertThat(registry.get("proxies.connected").gauge().value()).isZero();
  }

  @Test
  void remembersOnlyTheMostRecentDisconnects() throws Exception {
    for (long stream = 0; stream < ProxySyncTracker.RECENTLY_DISCONNECTED + 5; stream++) {
      proxies.onV3StreamRequest(stream, request(CDS, "", "").toBuilder().setNode(WEB).build());
      proxies.onStreamClose(stream, "");
    }

    assertThat(tracker.recentlyDisconnected()).hasSize(ProxySyncTracker.RECENTLY_DISCONNECTED)
        .first().satisfies(d -> assertThat(d.lastStatus().streamId()).isEqualTo(ProxySyncTracker.RECENTLY_DISCONNECTED + 4));
  }

  @Test
  void streamWithoutANodeYetIsNotReported() throws Exception {
    proxies.onStreamOpen(1, "");

    assertThat(tracker.proxies()).isEmpty();
  }
}
