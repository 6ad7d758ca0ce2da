package dev.weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.ProxyGroup;
import dev.weft.xds.translate.ProxyConfig;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SnapshotPublisherTest {

  private final TestClock clock = new TestClock(Instant.parse("2025-01-01T00:00:00Z"));
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<Collection<ProxyGroup>> asked = new ArrayList<>();
  private Function<ProxyGroup, ProxyConfig> configs = group -> TestConfigs.sidecar(15001, "payments");
  private final ConnectedProxies proxies = new ConnectedProxies(clock, registry);
  private final SnapshotPublisher publisher = new SnapshotPublisher(this::configsFor, proxies, clock, registry,
      Duration.ofMinutes(5));

  private Map<ProxyGroup, ProxyConfig> configsFor(Collection<ProxyGroup> groups) {
    asked.add(List.copyOf(groups));
    Map<ProxyGroup, ProxyConfig> result = new HashMap<>();
    groups.forEach(g -> result.put(g, configs.apply(g)));
    return result;
  }

  private static final Node WEB = TestConfigs.sidecarNode("web-1", "shop", "web", "8080");
  private static final Node API = TestConfigs.sidecarNode("api-1", "shop", "api", "9090");
  private static final String WEB_GROUP = NodeGroups.groupOf(WEB).id();
  private static final String API_GROUP = NodeGroups.groupOf(API).id();

  private void connect(long streamId, Node node) throws RequestException {
    proxies.onStreamOpen(streamId, "");
    proxies.onV3StreamRequest(streamId, DiscoveryRequest.newBuilder()
        .setNode(node).setTypeUrl(Resources.V3.CLUSTER_TYPE_URL).build());
  }

  @Test
  void computesNothingBeforeTheFirstMeshState() throws Exception {
    connect(1, WEB);

    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isNull();
    assertThat(asked).isEmpty();
    assertThat(publisher.isReady()).isFalse();
  }

  @Test
  void publishComputesEveryConnectedGroupAtOnce() throws Exception {
    connect(1, WEB);
    connect(2, API);

    publisher.publish();

    assertThat(asked).hasSize(1);
    assertThat(asked.get(0)).extracting(ProxyGroup::id).containsExactlyInAnyOrder(WEB_GROUP, API_GROUP);
    ProxyConfig expected = TestConfigs.sidecar(15001, "payments");
    Snapshot snapshot = publisher.cache().getSnapshot(WEB_GROUP);
    assertThat(snapshot.version(Resources.V3.CLUSTER_TYPE_URL)).isEqualTo(expected.clustersVersion());
    assertThat(snapshot.version(Resources.V3.LISTENER_TYPE_URL)).isEqualTo(expected.listenersVersion());
    assertThat(publisher.servedVersions(API_GROUP)).containsEntry(Resources.V3.ROUTE_TYPE_URL, expected.routesVersion());
    assertThat(publisher.isReady()).isTrue();
    assertThat(registry.get("xds.snapshot.compute").timer().count()).isEqualTo(1);
  }

  @Test
  void computesANewGroupOnItsFirstRequest() throws Exception {
    publisher.publish();

    connect(1, WEB);

    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isNotNull();
    assertThat(asked).hasSize(1);
    assertThat(asked.get(0)).extracting(ProxyGroup::id).containsExactly(WEB_GROUP);
  }

  @Test
  void secondProxyOfAGroupReusesItsSnapshot() throws Exception {
    publisher.publish();
    connect(1, WEB);

    connect(2, TestConfigs.sidecarNode("web-2", "shop", "web", "8080"));

    assertThat(asked).hasSize(1);
    assertThat(publisher.groups()).singleElement().satisfies(g -> assertThat(g.connectedStreams()).isEqualTo(2));
  }

  @Test
  void aGroupBecomesIdleOnlyWhenItsLastProxyLeaves() throws Exception {
    publisher.publish();
    connect(1, WEB);
    connect(2, TestConfigs.sidecarNode("web-2", "shop", "web", "8080"));

    proxies.onStreamClose(1, "");

    assertThat(publisher.groups()).singleElement().satisfies(g -> {
      assertThat(g.connectedStreams()).isEqualTo(1);
      assertThat(g.idleSince()).isNull();
    });
    clock.advance(Duration.ofSeconds(3));
    proxies.onStreamClose(2, "");
    assertThat(publisher.groups()).singleElement().satisfies(g -> {
      assertThat(g.connectedStreams()).isZero();
      assertThat(g.idleSince()).isEqualTo(clock.instant());
    });
  }

  @Test
  void keepsTheLastGoodSnapshotWhenANewOneIsInconsistent() throws Exception {
    connect(1, WEB);
    publisher.publish();
    Snapshot good = publisher.cache().getSnapshot(WEB_GROUP);

    configs = group -> TestConfigs.of(List.of(TestConfigs.edsCluster("payments")), List.of(), List.of(), List.of());
    publisher.publish();
    publisher.publish();

    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isSameAs(good);
    assertThat(publisher.groups()).singleElement()
        .satisfies(g -> assertThat(g.lastError()).contains("'payments'"));

    configs = group -> TestConfigs.sidecar(15002, "payments");
    publisher.publish();

    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isNotSameAs(good);
    assertThat(publisher.groups()).singleElement().satisfies(g -> assertThat(g.lastError()).isNull());
  }

  @Test
  void keepsEverySnapshotWhenTheConfigSourceFails() throws Exception {
    connect(1, WEB);
    publisher.publish();
    Snapshot good = publisher.cache().getSnapshot(WEB_GROUP);

    configs = group -> {
      throw new IllegalStateException("translator bug");
    };
    publisher.publish();

    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isSameAs(good);
    assertThat(publisher.groups()).singleElement()
        .satisfies(g -> assertThat(g.lastError()).contains("translator bug"));
  }

  @Test
  void leavesTheSnapshotAloneWhenNoVersionChanged() throws Exception {
    connect(1, WEB);
    publisher.publish();
    Snapshot first = publisher.cache().getSnapshot(WEB_GROUP);

    publisher.publish();

    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isSameAs(first);
  }

  @Test
  void dropsAGroupOnlyAfterItWasIdleForTheRetention() throws Exception {
    connect(1, WEB);
    publisher.publish();
    proxies.onStreamClose(1, "");
    assertThat(publisher.groups()).singleElement()
        .satisfies(g -> assertThat(g.idleSince()).isEqualTo(clock.instant()));

    clock.advance(Duration.ofMinutes(4));
    publisher.publish();
    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isNotNull();

    clock.advance(Duration.ofMinutes(1));
    publisher.publish();
    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isNull();
    assertThat(publisher.groups()).isEmpty();
    assertThat(publisher.servedVersions(WEB_GROUP)).isEmpty();
  }

  @Test
  void aReconnectingProxyKeepsItsGroup() throws Exception {
    connect(1, WEB);
    publisher.publish();
    proxies.onStreamCloseWithError(1, "", Status.UNAVAILABLE.asException());
    clock.advance(Duration.ofMinutes(10));

    connect(2, WEB);
    publisher.publish();

    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isNotNull();
    assertThat(publisher.groups()).singleElement().satisfies(g -> {
      assertThat(g.connectedStreams()).isEqualTo(1);
      assertThat(g.idleSince()).isNull();
    });
  }
}
