package dev.weft.xds.sync;

import static dev.weft.xds.sync.SyncFixtures.API;
import static dev.weft.xds.sync.SyncFixtures.CANARY;
import static dev.weft.xds.sync.SyncFixtures.CANARY_V4;
import static dev.weft.xds.sync.SyncFixtures.CDS;
import static dev.weft.xds.sync.SyncFixtures.LDS;
import static dev.weft.xds.sync.SyncFixtures.RDS;
import static dev.weft.xds.sync.SyncFixtures.ROUTES;
import static dev.weft.xds.sync.SyncFixtures.WEB;
import static dev.weft.xds.sync.SyncFixtures.acked;
import static dev.weft.xds.sync.SyncFixtures.nacked;
import static dev.weft.xds.sync.SyncFixtures.proxy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.SourceRef;
import dev.weft.xds.server.ProxyStatus;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ResourceSyncViewTest {

  private static ResourceSyncView.ResourceSync only(ResourceSyncView view, SourceRef source) {
    return view.resource(source).orElseThrow(() -> new AssertionError(source + " is not in " + view));
  }

  private static Function<String, Map<String, String>> served(Map<String, Map<String, String>> byGroup) {
    return group -> byGroup.getOrDefault(group, Map.of());
  }

  @Test
  void countsTheProxiesThatNeedAResourceAndThoseThatAckedIt() {
    SyncFixtures.Contents contents = new SyncFixtures.Contents()
        .with(WEB, RDS, "r2", CANARY, ROUTES)
        .with(API, RDS, "r7", CANARY);
    List<ProxyStatus> proxies = List.of(
        proxy("web-1.shop", WEB, 1, true, acked(CDS, "c1"), acked(RDS, "r2")),
        proxy("web-2.shop", WEB, 2, false, acked(CDS, "c1"), acked(RDS, "r1")),
        proxy("api-1.shop", API, 3, true, acked(RDS, "r7")));

    ResourceSyncView view = ResourceSyncView.of(proxies,
        served(Map.of(WEB, Map.of(CDS, "c1", RDS, "r2"), API, Map.of(RDS, "r7"))), contents);

    assertThat(only(view, CANARY)).extracting(r -> r.proxies(), r -> r.acked()).containsExactly(3, 2);
    assertThat(only(view, ROUTES)).extracting(r -> r.proxies(), r -> r.acked()).containsExactly(2, 1);
    assertThat(view.resources()).allSatisfy(r -> assertThat(r.nacked()).isEmpty());
    assertThat(only(view, CANARY).programmed()).isFalse();
  }

  @Test
  void countsAnAckOfAnOlderVersionThatHeldTheSameGeneration() {
    // r2 only changed a VirtualService; a proxy still on r1 has the split's generation 3 already.
    SyncFixtures.Contents contents = new SyncFixtures.Contents()
        .with(WEB, RDS, "r1", CANARY)
        .with(WEB, RDS, "r2", CANARY, ROUTES);

    ResourceSyncView view = ResourceSyncView.of(List.of(proxy("web-1.shop", WEB, 1, false, acked(RDS, "r1"))),
        served(Map.of(WEB, Map.of(RDS, "r2"))), contents);

    assertThat(only(view, CANARY)).extracting(r -> r.proxies(), r -> r.acked()).containsExactly(1, 1);
    assertThat(only(view, ROUTES)).extracting(r -> r.proxies(), r -> r.acked()).containsExactly(1, 0);
  }

  @Test
  void doesNotCountAnAckOfAnOlderGeneration() {
    SyncFixtures.Contents contents = new SyncFixtures.Contents()
        .with(WEB, RDS, "r1", CANARY)
        .with(WEB, RDS, "r2", CANARY_V4);

    ResourceSyncView view = ResourceSyncView.of(List.of(proxy("web-1.shop", WEB, 1, false, acked(RDS, "r1"))),
        served(Map.of(WEB, Map.of(RDS, "r2"))), contents);

    assertThat(only(view, CANARY_V4)).extracting(r -> r.proxies(), r -> r.acked()).containsExactly(1, 0);
    assertThat(view.resource(CANARY)).as("no proxy needs generation 3 any more").isEmpty();
  }

  @Test
  void listsTheProxiesThatRejectedAVersionContainingTheResourceWithEnvoysMessage() {
    SyncFixtures.Contents contents = new SyncFixtures.Contents()
        .with(WEB, RDS, "r1", ROUTES)
        .with(WEB, RDS, "r2", CANARY, ROUTES);
    List<ProxyStatus> proxies = List.of(
        proxy("web-2.shop", WEB, 2, false, nacked(RDS, "r1", "r2", "missing ): (bad")),
        proxy("web-1.shop", WEB, 1, true, acked(RDS, "r2")));

    ResourceSyncView view = ResourceSyncView.of(proxies, served(Map.of(WEB, Map.of(RDS, "r2"))), contents);

    ResourceSyncView.ResourceSync canary = only(view, CANARY);
    assertThat(canary.proxies()).isEqualTo(2);
    assertThat(canary.acked()).isEqualTo(1);
    assertThat(canary.nacked()).singleElement().satisfies(n -> {
      assertThat(n.proxy()).isEqualTo("web-2.shop");
      assertThat(n.typeUrl()).isEqualTo(RDS);
      assertThat(n.version()).isEqualTo("r2");
      assertThat(n.message()).isEqualTo("missing ): (bad");
      assertThat(n.at()).isEqualTo(SyncFixtures.T0.plusSeconds(30));
    });
    // ROUTES was in the kept r1 too, but a proxy with a standing rejection of it is not counted as acked.
    assertThat(only(view, ROUTES)).extracting(r -> r.acked(), r -> r.nacked().size()).containsExactly(1, 1);
  }

  @Test
  void doesNotBlameAResourceForARejectionOfAVersionWithoutIt() {
    SyncFixtures.Contents contents = new SyncFixtures.Contents()
        .with(WEB, LDS, "l2")
        .with(WEB, RDS, "r1", CANARY);

    ResourceSyncView view = ResourceSyncView.of(
        List.of(proxy("web-1.shop", WEB, 1, false, nacked(LDS, "l1", "l2", "bad listener"), acked(RDS, "r1"))),
        served(Map.of(WEB, Map.of(LDS, "l2", RDS, "r1"))), contents);

    assertThat(only(view, CANARY)).extracting(r -> r.proxies(), r -> r.acked(), r -> r.nacked().size())
        .containsExactly(1, 1, 0);
  }

  @Test
  void needsEveryTypeThatCarriesTheResourceAcked() {
    SourceRef tcpSplit = SyncFixtures.split("ledger-canary", 1);
    SyncFixtures.Contents contents = new SyncFixtures.Contents()
        .with(WEB, LDS, "l2", tcpSplit)
        .with(WEB, RDS, "r2", tcpSplit);

    ResourceSyncView view = ResourceSyncView.of(
        List.of(proxy("web-1.shop", WEB, 1, false, acked(LDS, "l1"), acked(RDS, "r2"))),
        served(Map.of(WEB, Map.of(LDS, "l2", RDS, "r2"))), contents);

    assertThat(only(view, tcpSplit)).extracting(r -> r.proxies(), r -> r.acked()).containsExactly(1, 0);
  }

  @Test
  void countsAProxyOnceByItsNewestStream() {
    SyncFixtures.Contents contents = new SyncFixtures.Contents().with(WEB, RDS, "r2", CANARY);
    List<ProxyStatus> proxies = List.of(
        proxy("web-1.shop", WEB, 5, true, acked(RDS, "r2")),
        proxy("web-1.shop", WEB, 4, false, nacked(RDS, "", "r2", "old stream")));

    ResourceSyncView view = ResourceSyncView.of(proxies, served(Map.of(WEB, Map.of(RDS, "r2"))), contents);

    assertThat(only(view, CANARY)).extracting(r -> r.proxies(), r -> r.acked(), r -> r.nacked().size())
        .containsExactly(1, 1, 0);
  }

  @Test
  void leavesOutProxiesWhoseGroupIsServedNothingYet() {
    SyncFixtures.Contents contents = new SyncFixtures.Contents().with(WEB, RDS, "r2", CANARY);

    ResourceSyncView view = ResourceSyncView.of(List.of(proxy("web-1.shop", WEB, 1, false)),
        served(Map.of()), contents);

    assertThat(view.resources()).isEmpty();
  }

  @Test
  void sortsResourcesByKindNamespaceNameAndGeneration() {
    SyncFixtures.Contents contents = new SyncFixtures.Contents()
        .with(WEB, RDS, "r2", ROUTES, CANARY_V4)
        .with(API, RDS, "r7", CANARY);

    ResourceSyncView view = ResourceSyncView.of(
        List.of(proxy("web-1.shop", WEB, 1, false), proxy("api-1.shop", API, 2, false)),
        served(Map.of(WEB, Map.of(RDS, "r2"), API, Map.of(RDS, "r7"))), contents);

    assertThat(view.resources()).extracting(ResourceSyncView.ResourceSync::source)
        .containsExactly(CANARY, CANARY_V4, ROUTES);
  }
}
