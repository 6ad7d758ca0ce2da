package dev.weft.operator.certificates;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.operator.identity.TrustBundle;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CertificateSummaryTest {

  static final Instant NOW = Instant.parse("2026-11-30T09:00:00Z");
  static final IdentitySettings SETTINGS = IdentitySettings.defaults();
  static final CertificateAuthority CA =
      CertificateAuthority.selfSigned(SETTINGS, NOW.minus(Duration.ofDays(3)), new SecureRandom());
  static final MeshCa MESH_CA = new MeshCa(CA, TrustBundle.of(CA.root().certificate()), "weft-system/weft-ca");

  static StoredCertificate issuedAt(String sa, Instant at) {
    ServiceAccountRef account = new ServiceAccountRef("shop", sa);
    return WorkloadSecrets.read(WorkloadSecrets.build(account, CA.issue(SETTINGS.identity("shop", sa),
        KeyAlgorithm.ECDSA_P256, Duration.ofHours(24), at), MESH_CA.bundle()));
  }

  @Test
  void countsRealCertificatesAndListsThoseThatMissedTheirRenewal() {
    StoredCertificate fresh = issuedAt("web", NOW.minus(Duration.ofHours(2)));
    StoredCertificate overdue = issuedAt("payments", NOW.minus(Duration.ofHours(20)));
    StoredCertificate expired = issuedAt("batch", NOW.minus(Duration.ofHours(30)));

    CertificateSummary summary = CertificateSummary.of(List.of(fresh, overdue, expired), MESH_CA, NOW);

    assertThat(summary.issued()).isEqualTo(3);
    assertThat(summary.expiring()).extracting(CertificateSummary.Entry::secret, CertificateSummary.Entry::expired)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("weft-identity-batch", true),
            org.assertj.core.groups.Tuple.tuple("weft-identity-payments", false));
    assertThat(summary.expiring().get(1).spiffeId()).isEqualTo("spiffe://cluster.local/ns/shop/sa/payments");
    assertThat(summary.nextExpiry()).contains(expired.notAfter().orElseThrow());
    assertThat(summary.caExpiry()).contains(CA.root().info().notAfter());
  }

  @Test
  void aCertificateRenewedOnScheduleIsNeverExpiring() {
    // Renewed at 70% of its life at the latest: 30% left, above the 20% warning line.
    StoredCertificate latest = issuedAt("web", NOW.minus(Duration.ofMinutes((long) (24 * 60 * 0.7))));

    assertThat(CertificateSummary.of(List.of(latest), MESH_CA, NOW).expiring()).isEmpty();
  }
}
