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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SnapshotPublisherTest {

  private final TestClock clock = new TestClock(Instant.parse("2025-01-01T00:00:00Z"));
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<Collection<ProxyGroup>> asked = new ArrayList<>();
  private Function<ProxyGroup, ProxyConfig> configs = group -> TestConfigs.sidecar(15001, "payments");
  private final ConnectedProxies proxies = new ConnectedProxies(clock, registry);
  /** Join batches the publisher queued, run by the test when it says so. */
  private final List<Runnable> queuedJoins = new ArrayList<>();
  private final SnapshotPublisher publisher = new SnapshotPublisher(() -> this::configsFor, proxies, clock, registry,
      Duration.ofMinutes(5), queuedJoins::add);

  private void runJoins() {
    List<Runnable> batches = new ArrayList<>(queuedJoins);
    queuedJoins.clear();
    batches.forEach(Runnable::run);
  }

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
  void computesANewGroupOffTheProxysThreadBeforeServingIt() throws Exception {
    publisher.publish();

    connect(1, WEB);

    // Nothing translated on the connecting thread, and nothing served yet: the watch stays open.
    assertThat(asked).isEmpty();
    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isNull();
    runJoins();
    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isNotNull();
    assertThat(asked).singleElement().satisfies(groups ->
        assertThat(groups).extracting(ProxyGroup::id).containsExactly(WEB_GROUP));
  }

  @Test
  void groupsThatJoinTogetherAreComputedInOneCall() throws Exception {
    publisher.publish();

    connect(1, WEB);
    connect(2, API);
    connect(3, TestConfigs.sidecarNode("web-2", "shop", "web", "8080"));

    assertThat(queuedJoins).hasSize(1);
    runJoins();
    assertThat(asked).singleElement().satisfies(groups ->
        assertThat(groups).extracting(ProxyGroup::id).containsExactlyInAnyOrder(WEB_GROUP, API_GROUP));
    assertThat(publisher.cache().getSnapshot(API_GROUP)).isNotNull();
  }

  @Test
  void joinsAreComputedFromTheInputOfTheLastPublish() throws Exception {
    List<Integer> inputs = new ArrayList<>();
    int[] newest = {1};
    SnapshotPublisher bound = new SnapshotPublisher(() -> {
      int input = newest[0];
      return groups -> {
        inputs.add(input);
        return configsFor(groups);
      };
    }, proxies, clock, registry, Duration.ofMinutes(5), queuedJoins::add);
    connect(1, WEB);
    bound.publish();

    newest[0] = 2;
    connect(2, API);
    runJoins();

    assertThat(inputs).containsExactly(1, 1);
    assertThat(bound.cache().getSnapshot(API_GROUP)).isNotNull();
  }

  @Test
  void aJoinTranslatesWithoutHoldingTheLockConnectingProxiesNeed() throws Exception {
    publisher.publish();
    connect(1, WEB);
    runJoins();
    List<Integer> connectedDuringTranslation = new ArrayList<>();
    configs = group -> {
      // Another proxy connects (and the debug page reads the groups) from another thread while
      // this join translates; were the registry lock held here, that would wait forever.
      CompletableFuture<Integer> other = CompletableFuture.supplyAsync(() -> {
        try {
          connect(7, TestConfigs.sidecarNode("web-7", "shop", "web", "8080"));
        } catch (RequestException e) {
          throw new IllegalStateException(e);
        }
        return publisher.groups().size();
      });
      try {
        connectedDuringTranslation.add(other.get(30, TimeUnit.SECONDS));
      } catch (Exception e) {
        throw new IllegalStateException("a proxy could not connect while a join was translating", e);
      }
      return TestConfigs.sidecar(15001, "payments");
    };

    connect(2, API);
    runJoins();

    assertThat(connectedDuringTranslation).containsExactly(2);
    assertThat(publisher.cache().getSnapshot(API_GROUP)).isNotNull();
    assertThat(publisher.groups()).filteredOn(g -> g.group().id().equals(WEB_GROUP)).singleElement()
        .satisfies(g -> assertThat(g.connectedStreams()).isEqualTo(2));
  }

  @Test
  void aGroupRegisteredBeforeThePublishIsNotComputedAgainAsAJoin() throws Exception {
    connect(1, WEB);
    publisher.publish();

    runJoins();

    assertThat(asked).hasSize(1);
  }

  @Test
  void groupsWithOneConfigShareOneSnapshot() throws Exception {
    ProxyConfig shared = TestConfigs.sidecar(15001, "payments");
    configs = group -> shared;
    connect(1, WEB);
    connect(2, API);

    publisher.publish();

    assertThat(publisher.cache().getSnapshot(API_GROUP)).isSameAs(publisher.cache().getSnapshot(WEB_GROUP));
    assertThat(publisher.servedVersions(API_GROUP)).isSameAs(publisher.servedVersions(WEB_GROUP));
  }

  @Test
  void aJoiningGroupWithAnEqualConfigSharesTheServedSnapshot() throws Exception {
    connect(1, WEB);
    publisher.publish();

    connect(2, API);
    runJoins();

    // configsFor built a new, equal config for the join: it is dropped in favour of the served one.
    assertThat(publisher.cache().getSnapshot(API_GROUP)).isSameAs(publisher.cache().getSnapshot(WEB_GROUP));
  }

  @Test
  void groupsWithDifferentConfigsGetTheirOwnSnapshots() throws Exception {
    configs = group -> group.id().equals(WEB_GROUP)
        ? TestConfigs.sidecar(15001, "payments") : TestConfigs.sidecar(15002, "payments");
    connect(1, WEB);
    connect(2, API);

    publisher.publish();

    assertThat(publisher.cache().getSnapshot(API_GROUP)).isNotSameAs(publisher.cache().getSnapshot(WEB_GROUP));
    assertThat(publisher.servedVersions(API_GROUP).get(Resources.V3.LISTENER_TYPE_URL))
        .isNotEqualTo(publisher.servedVersions(WEB_GROUP).get(Resources.V3.LISTENER_TYPE_URL));
  }

  @Test
  void anInconsistentConfigSharedByGroupsFailsEachOfThem() throws Exception {
    ProxyConfig broken = TestConfigs.of(List.of(TestConfigs.edsCluster("payments")), List.of(), List.of(), List.of());
    configs = group -> broken;
    connect(1, WEB);
    connect(2, API);

    publisher.publish();

    assertThat(publisher.cache().getSnapshot(WEB_GROUP)).isNull();
    assertThat(publisher.groups()).hasSize(2).allSatisfy(g -> assertThat(g.lastError()).contains("'payments'"));
  }

  @Test
  void secondProxyOfAGroupReusesItsSnapshot() throws Exception {
    publisher.publish();
    connect(1, WEB);
    runJoins();

    connect(2, TestConfigs.sidecarNode("web-2", "shop", "web", "8080"));

    assertThat(queuedJoins).isEmpty();
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
