package dev.weft.operator.sync;

import static dev.weft.operator.sync.Reports.nacked;
import static dev.weft.operator.sync.Reports.report;
import static dev.weft.operator.sync.Reports.synced;
import static dev.weft.operator.sync.Reports.unsynced;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.CertificateCounts;
import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.MeshStatusStatus;
import dev.weft.api.v1alpha1.ProxyCounts;
import dev.weft.api.v1alpha1.ProxyReport;
import dev.weft.operator.certificates.CertificateSummary;
import dev.weft.sync.report.SyncReport;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MeshStatusAggregatorTest {

  static final Instant NOW = Instant.parse("2025-05-01T10:00:05Z");
  static final String FRESH = "2025-05-01T10:00:04Z";

  @Test
  void countsProxiesAcrossLiveReplicasAndIsReadyWhenAllAreSynced() {
    MeshStatusStatus status = MeshStatusAggregator.next(null, List.of(
        report("xds-0", FRESH, List.of(synced("a.shop"), synced("b.shop")), List.of()),
        report("xds-1", FRESH, List.of(synced("c.shop")), List.of())), 1, NOW);

    assertThat(status.getProxies()).isEqualTo(new ProxyCounts(3, 3, 0, 0));
    assertThat(status.getXdsReplicas()).isEqualTo(2);
    assertThat(status.getConditions().get(0)).satisfies(ready -> {
      assertThat(ready.getType()).isEqualTo("Ready");
      assertThat(ready.getStatus()).isEqualTo(Condition.Status.True);
      assertThat(ready.getReason()).isEqualTo("Synced");
    });
    assertThat(status.getLastUpdateTime()).isEqualTo("2025-05-01T10:00:05Z");
  }

  @Test
  void ignoresTheReportOfADeadReplica() {
    MeshStatusStatus status = MeshStatusAggregator.next(null, List.of(
        report("xds-0", FRESH, List.of(synced("a.shop")), List.of()),
        report("xds-1", "2025-05-01T09:59:34Z", List.of(synced("c.shop")), List.of())), 1, NOW);

    assertThat(status.getXdsReplicas()).isEqualTo(1);
    assertThat(status.getProxies().getConnected()).isEqualTo(1);
  }

  @Test
  void listsNackedProxiesWithTheNewestAsLastNackAndStaleOnesOnlyAfterTheGrace() {
    MeshStatusStatus status = MeshStatusAggregator.next(null, List.of(report("xds-0", FRESH, List.of(
        nacked("a.shop", "2025-05-01T09:59:00Z", "old"),
        nacked("b.shop", "2025-05-01T10:00:01Z", "new"),
        unsynced("c.shop", "2025-05-01T09:00:00Z"),
        unsynced("d.shop", "2025-05-01T10:00:00Z"),
        synced("e.shop")), List.of())), 1, NOW);

    assertThat(status.getProxies()).isEqualTo(new ProxyCounts(5, 1, 1, 2));
    assertThat(status.getLastNack().getProxy()).isEqualTo("b.shop");
    assertThat(status.getLastNack().getMessage()).isEqualTo("new");
    assertThat(status.getLastNack().getTypeUrl())
        .isEqualTo("type.googleapis.com/envoy.config.route.v3.RouteConfiguration");
    assertThat(status.getLastNack().getXdsReplica()).isEqualTo("xds-0");
    assertThat(status.getNackedProxies()).extracting(ProxyReport::getProxy).containsExactly("b.shop", "a.shop");
    assertThat(status.getStaleProxies()).extracting(ProxyReport::getProxy).containsExactly("c.shop");
    assertThat(status.getConditions().get(0).getReason()).isEqualTo("ProxiesRejected");
  }

  @Test
  void listsAtMostFiftyProxiesButCountsAll() {
    List<SyncReport.ProxyEntry> proxies = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      proxies.add(unsynced("p" + i + ".shop", "2025-05-01T09:00:00Z"));
    }

    MeshStatusStatus status = MeshStatusAggregator.next(null, List.of(report("xds-0", FRESH, proxies, List.of())),
        1, NOW);

    assertThat(status.getProxies().getStale()).isEqualTo(60);
    assertThat(status.getStaleProxies()).hasSize(MeshStatusStatus.MAX_LISTED_PROXIES);
    assertThat(status.getConditions().get(0).getReason()).isEqualTo("ProxiesNotSynced");
  }

  @Test
  void isNotReadyWithoutALiveReplica() {
    MeshStatusStatus status = MeshStatusAggregator.next(null, List.of(), 1, NOW);

    assertThat(status.getXdsReplicas()).isZero();
    assertThat(status.getConditions().get(0).getStatus()).isEqualTo(Condition.Status.False);
    assertThat(status.getConditions().get(0).getReason()).isEqualTo("NoXdsServer");
  }

  @Test
  void keepsTimesWhenNothingChangedSoNoWriteIsNeeded() {
    List<SyncReport> reports = List.of(report("xds-0", FRESH, List.of(synced("a.shop")), List.of()));
    MeshStatusStatus first = MeshStatusAggregator.next(null, reports, 1, NOW);

    MeshStatusStatus again = MeshStatusAggregator.next(first, reports, 1, NOW.plusSeconds(3));

    assertThat(again).isEqualTo(first);
  }

  @Test
  void movesReadyTransitionTimeOnlyWhenItsStatusChanges() {
    MeshStatusStatus first = MeshStatusAggregator.next(null,
        List.of(report("xds-0", FRESH, List.of(synced("a.shop")), List.of())), 1, NOW);

    MeshStatusStatus second = MeshStatusAggregator.next(first,
        List.of(report("xds-0", FRESH, List.of(synced("a.shop"), synced("b.shop")), List.of())), 1,
        NOW.plusSeconds(2));
    MeshStatusStatus third = MeshStatusAggregator.next(second,
        List.of(report("xds-0", FRESH, List.of(nacked("a.shop", FRESH, "bad")), List.of())), 1,
        NOW.plusSeconds(4));

    assertThat(second.getConditions().get(0).getLastTransitionTime()).isEqualTo("2025-05-01T10:00:05Z");
    assertThat(second.getLastUpdateTime()).isEqualTo("2025-05-01T10:00:07Z");
    assertThat(third.getConditions().get(0).getLastTransitionTime()).isEqualTo("2025-05-01T10:00:09Z");
  }

  @Test
  void leavesCertificateCountsOutWhenCertificatesAreTurnedOff() {
    MeshStatusStatus status = MeshStatusAggregator.next(null,
        List.of(report("xds-0", FRESH, List.of(synced("a.shop")), List.of())), 1, NOW);

    assertThat(status.getCertificates()).as("no counts: CERTS-EXPIRING stays empty").isNull();
    assertThat(status.getConditions()).extracting(Condition::getType).containsExactly("Ready", "CertificatesIssued");
    assertThat(status.getConditions().get(1)).satisfies(certificates -> {
      assertThat(certificates.getStatus()).isEqualTo(Condition.Status.False);
      assertThat(certificates.getReason()).isEqualTo("Disabled");
      assertThat(certificates.getMessage()).contains("WEFT_CERTIFICATES=false", "identity.enabled=false");
    });
  }

  @Test
  void saysCertificatesArePendingUntilTheFirstPass() {
    MeshStatusStatus status = MeshStatusAggregator.next(null, List.of(), List.of(),
        new MeshStatusAggregator.Certificates.Pending(), 1, NOW);

    assertThat(status.getCertificates()).isNull();
    assertThat(status.getConditions().get(1).getStatus()).isEqualTo(Condition.Status.Unknown);
    assertThat(status.getConditions().get(1).getReason()).isEqualTo("Pending");
  }

  @Test
  void countsRealCertificatesAndNamesThoseExpiring() {
    CertificateSummary.Entry overdue = new CertificateSummary.Entry("shop", "payments", "weft-identity-payments",
        "spiffe://cluster.local/ns/shop/sa/payments", Instant.parse("2025-05-01T12:00:00Z"), false);
    CertificateSummary summary = new CertificateSummary(3, List.of(overdue),
        Optional.of(Instant.parse("2025-05-01T12:00:00Z")), Optional.empty(), Optional.of("CN=weft root"),
        Optional.of(Instant.parse("2026-05-01T10:00:00Z")));

    MeshStatusStatus status = MeshStatusAggregator.next(null, List.of(), List.of(),
        new MeshStatusAggregator.Certificates.Found(summary), 1, NOW);

    CertificateCounts counts = status.getCertificates();
    assertThat(counts.getIssued()).isEqualTo(3);
    assertThat(counts.getExpiringSoon()).isEqualTo(1);
    assertThat(counts.getNextExpiry()).isEqualTo("2025-05-01T12:00:00Z");
    assertThat(counts.getRootNotAfter()).isEqualTo("2026-05-01T10:00:00Z");
    assertThat(counts.getExpiring()).singleElement().satisfies(entry -> {
      assertThat(entry.getSecret()).isEqualTo("weft-identity-payments");
      assertThat(entry.getServiceAccount()).isEqualTo("payments");
      assertThat(entry.getIdentity()).isEqualTo("spiffe://cluster.local/ns/shop/sa/payments");
      assertThat(entry.getMessage()).contains("renewal");
    });
    assertThat(status.getConditions().get(1)).satisfies(condition -> {
      assertThat(condition.getStatus()).isEqualTo(Condition.Status.False);
      assertThat(condition.getReason()).isEqualTo("CertificatesExpiring");
      assertThat(condition.getMessage()).startsWith("1 of 3 workload certificates missed their renewal, the first "
          + "shop/weft-identity-payments (expires 2025-05-01T12:00:00Z)");
    });
  }

  @Test
  void isIssuedWhenNoCertificateIsExpiringAndSaysWhyWhenTheCaIsUnusable() {
    CertificateSummary healthy = new CertificateSummary(2, List.of(), Optional.empty(), Optional.empty(),
        Optional.of("CN=weft root"), Optional.of(Instant.parse("2026-05-01T10:00:00Z")));
    CertificateSummary noCa = new CertificateSummary(0, List.of(), Optional.empty(),
        Optional.of("the CA Secret weft-system/my-root does not exist"), Optional.empty(), Optional.empty());

    Condition issued = MeshStatusAggregator.next(null, List.of(), List.of(),
        new MeshStatusAggregator.Certificates.Found(healthy), 1, NOW).getConditions().get(1);
    MeshStatusStatus unusable = MeshStatusAggregator.next(null, List.of(), List.of(),
        new MeshStatusAggregator.Certificates.Found(noCa), 1, NOW);

    assertThat(issued.getStatus()).isEqualTo(Condition.Status.True);
    assertThat(issued.getReason()).isEqualTo("Issued");
    assertThat(issued.getMessage()).startsWith("2 workload certificate(s) issued by the mesh root CN=weft root");
    assertThat(unusable.getConditions().get(1).getReason()).isEqualTo("CaUnavailable");
    assertThat(unusable.getConditions().get(1).getMessage()).contains("does not exist");
    assertThat(unusable.getCertificates().getExpiringSoon()).as("a real count: 0").isZero();
  }

  @Test
  void stampsItsConditionsWithTheObservedGeneration() {
    MeshStatusStatus status = MeshStatusAggregator.next(null,
        List.of(report("xds-0", FRESH, List.of(synced("a.shop")), List.of())), 3, NOW);

    assertThat(status.getConditions()).extracting(Condition::getObservedGeneration).containsOnly(3L);
  }

  @Test
  void isNotReadyWhileAReplicaReportsInANewerSchema() {
    MeshStatusStatus status = MeshStatusAggregator.next(null,
        List.of(report("xds-0", FRESH, List.of(synced("a.shop")), List.of())),
        List.of("weft-system/weft-xds-sync-b (version 2)"), new MeshStatusAggregator.Certificates.Disabled(), 1, NOW);

    assertThat(status.getProxies().getConnected()).as("the newer report's proxies are not counted").isEqualTo(1);
    assertThat(status.getConditions().get(0)).satisfies(ready -> {
      assertThat(ready.getStatus()).isEqualTo(Condition.Status.False);
      assertThat(ready.getReason()).isEqualTo("NewerReportSchema");
      assertThat(ready.getMessage()).startsWith("the sync reports in weft-system/weft-xds-sync-b (version 2) are in "
          + "a schema newer than version 1").endsWith("upgrade the operator to the xds-server's release");
    });
  }
}
