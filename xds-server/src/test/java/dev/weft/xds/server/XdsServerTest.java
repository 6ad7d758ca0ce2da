package dev.weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.xds.translate.ProxyConfig;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A real ADS client over loopback gRPC against the server, registry, publisher and tracker wired as in production. */
class XdsServerTest {

  private static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
  private static final String EDS = Resources.V3.ENDPOINT_TYPE_URL;
  private static final String LDS = Resources.V3.LISTENER_TYPE_URL;
  private static final String RDS = Resources.V3.ROUTE_TYPE_URL;
  private static final Node WEB = TestConfigs.sidecarNode("web-1", "shop", "web", "8080");
  private static final String WEB_GROUP = NodeGroups.groupOf(WEB).id();
  private static final Duration BOUND = Duration.ofSeconds(5);

  private final AtomicReference<ProxyConfig> config = new AtomicReference<>(TestConfigs.sidecar(15001, "payments"));
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private ConnectedProxies proxies;
  private SnapshotPublisher publisher;
  private ProxySyncTracker tracker;
  private XdsServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    proxies = new ConnectedProxies(Clock.systemUTC(), registry);
    publisher = new SnapshotPublisher(() -> groups -> {
      Map<dev.weft.mesh.ProxyGroup, ProxyConfig> result = new HashMap<>();
      groups.forEach(g -> result.put(g, config.get()));
      return result;
    }, proxies, Clock.systemUTC(), registry);
    tracker = new ProxySyncTracker(proxies, publisher::servedVersions, registry);
    server = XdsServer.builder(proxies, publisher)
        .address(new InetSocketAddress("127.0.0.1", 0))
        .shutdownGrace(Duration.ofSeconds(2))
        .start();
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
        .build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.stop();
  }

  private static DiscoveryRequest request(String typeUrl, DiscoveryResponse ackOf, String... names) {
    DiscoveryRequest.Builder request = DiscoveryRequest.newBuilder().setTypeUrl(typeUrl).addAllResourceNames(List.of(names));
    if (ackOf != null) {
      request.setVersionInfo(ackOf.getVersionInfo()).setResponseNonce(ackOf.getNonce());
    }
    return request.build();
  }

  private static DiscoveryRequest nack(DiscoveryResponse rejected, String keptVersion, String message) {
    return DiscoveryRequest.newBuilder()
        .setTypeUrl(rejected.getTypeUrl())
        .setVersionInfo(keptVersion)
        .setResponseNonce(rejected.getNonce())
        .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage(message))
        .build();
  }

  /**
   * Subscribes the way Envoy does: node on the first request only, CDS then EDS for its clusters,
   * LDS then RDS for its route names, ACKing each response. Returns the ACKed responses.
   */
  private Map<String, DiscoveryResponse> subscribeAll(TestAdsStream<DiscoveryRequest, DiscoveryResponse> ads)
      throws Exception {
    Map<String, DiscoveryResponse> acked = new HashMap<>();
    ads.send(request(CDS, null).toBuilder().setNode(WEB).build());
    DiscoveryResponse cds = ads.next();
    assertThat(cds.getTypeUrl()).isEqualTo(CDS);
    ads.send(request(CDS, cds));
    ads.send(request(EDS, null, "payments"));
    DiscoveryResponse eds = ads.next();
    assertThat(eds.getTypeUrl()).isEqualTo(EDS);
    ads.send(request(EDS, eds, "payments"));
    ads.send(request(LDS, null));
    DiscoveryResponse lds = ads.next();
    assertThat(lds.getTypeUrl()).isEqualTo(LDS);
    ads.send(request(LDS, lds));
    ads.send(request(RDS, null, TestConfigs.ROUTES));
    DiscoveryResponse rds = ads.next();
    assertThat(rds.getTypeUrl()).isEqualTo(RDS);
    ads.send(request(RDS, rds, TestConfigs.ROUTES));
    List.of(cds, eds, lds, rds).forEach(r -> acked.put(r.getTypeUrl(), r));
    return acked;
  }

  private ProxyStatus onlyProxy() {
    List<ProxyStatus> proxies = tracker.proxies();
    assertThat(proxies).hasSize(1);
    return proxies.get(0);
  }

  /** Waits until the server holds a watch per type for the group: every request was answered or parked. */
  private void awaitWatches(int count) {
    await("the server to hold " + count + " open watches").atMost(BOUND)
        .until(() -> {
          var status = publisher.cache().statusInfo(WEB_GROUP);
          return status != null && status.numWatches() == count;
        });
  }

  @Test
  void stateOfTheWorldProxyGetsItsGroupsConfigAndShowsSyncedAfterAcking() throws Exception {
    publisher.publish();
    var ads = TestAdsStream.stateOfTheWorld(channel);

    Map<String, DiscoveryResponse> acked = subscribeAll(ads);

    DiscoveryResponse cds = acked.get(CDS);
    assertThat(cds.getVersionInfo()).isEqualTo(config.get().clustersVersion());
    assertThat(cds.getResources(0).unpack(Cluster.class).getName()).isEqualTo("payments");
    await("the proxy to show synced").atMost(BOUND).untilAsserted(() -> {
      ProxyStatus proxy = onlyProxy();
      assertThat(proxy.nodeId()).isEqualTo("web-1.shop");
      assertThat(proxy.groupId()).isEqualTo(WEB_GROUP);
      assertThat(proxy.types()).hasSize(4);
      assertThat(proxy.synced()).isTrue();
    });
    assertThat(registry.get("xds.pushes").tag("type", "rds").counter().count()).isEqualTo(1);
  }

  @Test
  void nackShowsEnvoysMessageAndTheRejectedConfigIsNotSentAgain() throws Exception {
    publisher.publish();
    var ads = TestAdsStream.stateOfTheWorld(channel);
    Map<String, DiscoveryResponse> acked = subscribeAll(ads);
    awaitWatches(4);

    config.set(TestConfigs.sidecar(15001, "payments", "orders"));
    publisher.publish();
    DiscoveryResponse cds = ads.next();
    DiscoveryResponse eds = ads.next();
    assertThat(List.of(cds.getTypeUrl(), eds.getTypeUrl())).containsExactly(CDS, EDS);
    ads.send(nack(cds, acked.get(CDS).getVersionInfo(), "cluster 'orders': unknown lb_policy"));
    ads.send(request(EDS, eds, "payments"));

    await("the NACK to show").atMost(BOUND).untilAsserted(() -> {
      ProxyStatus proxy = onlyProxy();
      assertThat(proxy.nacked()).isTrue();
      assertThat(proxy.synced()).isFalse();
      assertThat(proxy.lastNack().typeUrl()).isEqualTo(CDS);
      assertThat(proxy.lastNack().version()).isEqualTo(cds.getVersionInfo());
      assertThat(proxy.lastNack().message()).isEqualTo("cluster 'orders': unknown lb_policy");
    });
    // The NACK leaves a parked CDS watch rather than an immediate resend of what was rejected.
    awaitWatches(4);
    assertThat(ads.pending()).as("responses after the NACK").isZero();
    assertThat(registry.get("xds.nacks").tag("type", "cds").counter().count()).isEqualTo(1);

    // A fixed config reaches the proxy, which then is synced and no longer NACKed.
    config.set(TestConfigs.sidecar(15001, "payments"));
    publisher.publish();
    DiscoveryResponse fixedCds = ads.next();
    assertThat(fixedCds.getTypeUrl()).isEqualTo(CDS);
    ads.send(request(CDS, fixedCds));
    DiscoveryResponse fixedEds = ads.next();
    ads.send(request(EDS, fixedEds, "payments"));
    await("the proxy to recover").atMost(BOUND).untilAsserted(() -> {
      assertThat(onlyProxy().synced()).isTrue();
      assertThat(onlyProxy().nacked()).isFalse();
    });
  }

  @Test
  void newConfigPushesOnlyTheTypeThatChanged() throws Exception {
    publisher.publish();
    var ads = TestAdsStream.stateOfTheWorld(channel);
    subscribeAll(ads);
    awaitWatches(4);
    double cdsPushes = registry.get("xds.pushes").tag("type", "cds").counter().count();

    config.set(TestConfigs.sidecar(15006, "payments"));
    publisher.publish();

    DiscoveryResponse lds = ads.next();
    assertThat(lds.getTypeUrl()).isEqualTo(LDS);
    assertThat(lds.getVersionInfo()).isEqualTo(config.get().listenersVersion());
    ads.send(request(LDS, lds));
    awaitWatches(4);
    // Responses go out in CDS, EDS, LDS, RDS order on one stream, so any other push would be queued by now.
    assertThat(ads.pending()).as("pushes of unchanged types").isZero();
    assertThat(registry.get("xds.pushes").tag("type", "cds").counter().count()).isEqualTo(cdsPushes);
    await("the proxy to be synced again").atMost(BOUND).until(() -> onlyProxy().synced());
  }

  @Test
  void deltaProxyGetsConfigAcksNacksAndOnlyChangedTypes() throws Exception {
    publisher.publish();
    var ads = TestAdsStream.delta(channel);
    ads.send(DeltaDiscoveryRequest.newBuilder().setNode(WEB).setTypeUrl(CDS).build());
    DeltaDiscoveryResponse cds = ads.next();
    assertThat(cds.getResourcesList()).extracting(Resource::getName).containsExactly("payments");
    assertThat(cds.getSystemVersionInfo()).isEqualTo(config.get().clustersVersion());
    ads.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).setResponseNonce(cds.getNonce()).build());
    ads.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(LDS).build());
    DeltaDiscoveryResponse lds = ads.next();
    assertThat(lds.getTypeUrl()).isEqualTo(LDS);
    ads.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(LDS).setResponseNonce(lds.getNonce()).build());
    await("the delta proxy to show synced").atMost(BOUND).untilAsserted(() -> {
      assertThat(onlyProxy().protocol()).isEqualTo(ProxyStatus.Protocol.DELTA);
      assertThat(onlyProxy().synced()).isTrue();
    });

    // Only listeners change: only LDS is pushed, carrying just the changed listener.
    config.set(TestConfigs.sidecar(15006, "payments"));
    publisher.publish();
    DeltaDiscoveryResponse newLds = ads.next();
    assertThat(newLds.getTypeUrl()).isEqualTo(LDS);
    assertThat(newLds.getResourcesList()).extracting(Resource::getName).containsExactly("outbound");

    ads.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(LDS).setResponseNonce(newLds.getNonce())
        .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage("listener 'outbound': port in use"))
        .build());
    await("the delta NACK to show").atMost(BOUND).untilAsserted(() -> {
      ProxyStatus proxy = onlyProxy();
      assertThat(proxy.nacked()).isTrue();
      assertThat(proxy.lastNack().version()).isEqualTo(newLds.getSystemVersionInfo());
      assertThat(proxy.lastNack().message()).isEqualTo("listener 'outbound': port in use");
    });
    // The rejected listener is not sent again until it changes.
    assertThat(ads.pending()).isZero();
  }

  @Test
  void deltaProxyReconnectingWithWhatItHasIsSentOnlyTheVersionAndCountsAsSynced() throws Exception {
    publisher.publish();
    var first = TestAdsStream.delta(channel);
    first.send(DeltaDiscoveryRequest.newBuilder().setNode(WEB).setTypeUrl(CDS).build());
    DeltaDiscoveryResponse cds = first.next();
    Map<String, String> has = new HashMap<>();
    cds.getResourcesList().forEach(r -> has.put(r.getName(), r.getVersion()));
    first.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).setResponseNonce(cds.getNonce()).build());

    // The same proxy on a new stream (a restart of this replica, or another one: versions are content digests).
    var second = TestAdsStream.delta(channel);
    second.send(DeltaDiscoveryRequest.newBuilder().setNode(WEB).setTypeUrl(CDS).putAllInitialResourceVersions(has)
        .putInitialResourceVersions("gone", "0123456789abcdef").build());
    DeltaDiscoveryResponse answer = second.next();

    assertThat(answer.getResourcesList()).as("nothing it has at the same version").isEmpty();
    assertThat(answer.getRemovedResourcesList()).containsExactly("gone");
    assertThat(answer.getSystemVersionInfo()).isEqualTo(config.get().clustersVersion());
    second.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).setResponseNonce(answer.getNonce()).build());
    await("both streams synced").atMost(BOUND).until(() -> tracker.proxies().size() == 2
        && tracker.proxies().stream().allMatch(ProxyStatus::synced));
    // Everything written was read: no send budget is left held (a leak would stall later streams).
    await("the send budget to be free").atMost(BOUND)
        .until(() -> registry.get("xds.delta.send.budget.in.flight").gauge().value() == 0);
    assertThat(registry.get("xds.delta.streams.waiting").gauge().value()).isZero();
  }

  @Test
  void proxyConnectingBeforeTheFirstMeshStateWaitsForItInsteadOfGettingEmptyConfig() throws Exception {
    var ads = TestAdsStream.stateOfTheWorld(channel);
    ads.send(request(CDS, null).toBuilder().setNode(WEB).build());
    await("the request to be seen").atMost(BOUND).until(() -> tracker.proxies().size() == 1);
    awaitWatches(1);
    assertThat(ads.pending()).isZero();

    publisher.publish();

    assertThat(ads.next().getResources(0).unpack(Cluster.class).getName()).isEqualTo("payments");
  }

  @Test
  void refusesAProxyWhoseNodeBreaksTheContract() throws Exception {
    publisher.publish();
    var ads = TestAdsStream.stateOfTheWorld(channel);

    ads.send(request(CDS, null).toBuilder().setNode(TestConfigs.node("nameless", "envoy", Map.of())).build());

    Status status = ads.awaitClosed();
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains("WEFT_NAMESPACE");
    assertThat(tracker.proxies()).isEmpty();
  }

  @Test
  void healthIsServingOnceTheFirstSnapshotIsPublished() {
    var health = HealthGrpc.newBlockingStub(channel);
    HealthCheckRequest any = HealthCheckRequest.newBuilder().setService("").build();
    assertThat(health.check(any).getStatus()).isEqualTo(ServingStatus.NOT_SERVING);

    publisher.publish();

    await("health to say SERVING").atMost(BOUND).until(() -> health.check(any).getStatus() == ServingStatus.SERVING);
  }

  @Test
  void stopClosesStreamsSoProxiesReconnectElsewhere() throws Exception {
    publisher.publish();
    var sotw = TestAdsStream.stateOfTheWorld(channel);
    sotw.send(request(CDS, null).toBuilder().setNode(WEB).build());
    sotw.next();
    var delta = TestAdsStream.delta(channel);
    delta.send(DeltaDiscoveryRequest.newBuilder().setNode(WEB).setTypeUrl(CDS).build());
    delta.next();
    await().atMost(BOUND).until(() -> tracker.proxies().size() == 2);

    long started = System.nanoTime();
    server.stop();

    assertThat(Duration.ofNanos(System.nanoTime() - started)).as("drain time").isLessThan(Duration.ofSeconds(2));
    assertThat(sotw.awaitClosed().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(delta.awaitClosed().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    await("the tracker to see both go").atMost(BOUND).until(() -> tracker.proxies().isEmpty());
    assertThat(tracker.recentlyDisconnected()).hasSize(2)
        .allSatisfy(d -> assertThat(d.reason()).contains("shutting down"));
    assertThat(publisher.groups()).singleElement().satisfies(g -> assertThat(g.connectedStreams()).isZero());
  }

  @Test
  void clientLeavingIsSeenByTrackerAndPublisher() throws Exception {
    publisher.publish();
    var ads = TestAdsStream.stateOfTheWorld(channel);
    ads.send(request(CDS, null).toBuilder().setNode(WEB).build());
    ads.next();

    ads.cancel();

    await("the tracker to see the proxy go").atMost(BOUND).until(() -> tracker.proxies().isEmpty());
    await("the publisher to see the group idle").atMost(BOUND)
        .until(() -> publisher.groups().get(0).connectedStreams() == 0);
  }
}
