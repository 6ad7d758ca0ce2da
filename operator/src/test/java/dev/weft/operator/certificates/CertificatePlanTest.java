package dev.weft.operator.certificates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.weft.operator.certificates.CertificatePlan.Action;
import dev.weft.operator.certificates.CertificatePlan.Kind;
import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.operator.identity.RenewalSchedule;
import dev.weft.operator.identity.TrustBundle;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CertificatePlanTest {

  static final Instant NOW = Instant.parse("2026-11-30T09:00:00Z");
  static final SecureRandom RANDOM = new SecureRandom();
  static final IdentitySettings SETTINGS = IdentitySettings.defaults();
  static final CertificateAuthority CA = CertificateAuthority.selfSigned(SETTINGS, NOW.minus(Duration.ofDays(1)), RANDOM);
  static final TrustBundle BUNDLE = TrustBundle.of(CA.root().certificate());
  static final ServiceAccountRef WEB = new ServiceAccountRef("shop", "web");
  static final ServiceAccountRef PAYMENTS = new ServiceAccountRef("shop", "payments");

  static StoredCertificate stored(CertificateAuthority ca, ServiceAccountRef account, TrustBundle bundle,
      Instant issuedAt) {
    CertifiedKey leaf = ca.issue(SETTINGS.identity(account.namespace(), account.name()), KeyAlgorithm.ECDSA_P256,
        SETTINGS.certificateLifetime(), issuedAt);
    return WorkloadSecrets.read(WorkloadSecrets.build(account, leaf, bundle));
  }

  static CertificatePlan plan(Set<ServiceAccountRef> meshed, List<StoredCertificate> stored, Instant now) {
    return CertificatePlan.plan(meshed, stored, CA.root().info(), BUNDLE.fingerprints(), SETTINGS.trustDomain(), now);
  }

  @Test
  void issuesForEveryMeshedServiceAccountWithoutACertificate() {
    CertificatePlan plan = plan(Set.of(WEB, PAYMENTS), List.of(), NOW);

    assertThat(plan.actions()).extracting(Action::kind, Action::account, Action::secret, Action::reason)
        .containsExactly(
            tuple(Kind.ISSUE, PAYMENTS, "weft-identity-payments", "no certificate yet"),
            tuple(Kind.ISSUE, WEB, "weft-identity-web", "no certificate yet"));
    assertThat(plan.nextRenewal()).isEmpty();
  }

  @Test
  void leavesAFreshCertificateAloneAndSaysWhenItIsDue() {
    StoredCertificate web = stored(CA, WEB, BUNDLE, NOW.minus(Duration.ofHours(1)));

    CertificatePlan plan = plan(Set.of(WEB), List.of(web), NOW);

    assertThat(plan.actions()).isEmpty();
    assertThat(plan.nextRenewal()).contains(RenewalSchedule.renewAt(web.leaf().orElseThrow()));
  }

  @Test
  void renewsACertificateOnceItsRenewalTimeHasCome() {
    StoredCertificate web = stored(CA, WEB, BUNDLE, NOW.minus(Duration.ofHours(1)));
    Instant due = web.renewAt().orElseThrow();

    assertThat(plan(Set.of(WEB), List.of(web), due.minusSeconds(1)).actions()).isEmpty();
    assertThat(plan(Set.of(WEB), List.of(web), due).actions()).singleElement().satisfies(action -> {
      assertThat(action.kind()).isEqualTo(Kind.ISSUE);
      assertThat(action.cause()).isEqualTo(CertificatePlan.Cause.RENEWAL);
      assertThat(action.reason()).startsWith("due for renewal since " + due);
    });
  }

  @Test
  void reissuesAnExpiredCertificate() {
    StoredCertificate web = stored(CA, WEB, BUNDLE, NOW.minus(Duration.ofHours(25)));

    assertThat(plan(Set.of(WEB), List.of(web), NOW).actions()).singleElement()
        .satisfies(action -> {
          assertThat(action.reason()).startsWith("it expired at");
          assertThat(action.cause()).isEqualTo(CertificatePlan.Cause.EXPIRED);
        });
  }

  @Test
  void reissuesACertificateFromARootThatNoLongerSigns() {
    CertificateAuthority old = CertificateAuthority.selfSigned(SETTINGS, NOW.minus(Duration.ofDays(2)), RANDOM);
    StoredCertificate web = stored(old, WEB, BUNDLE, NOW.minus(Duration.ofHours(1)));

    assertThat(plan(Set.of(WEB), List.of(web), NOW).actions()).singleElement().satisfies(action -> {
      assertThat(action.kind()).isEqualTo(Kind.ISSUE);
      assertThat(action.reason()).contains("not by the signing root");
      assertThat(action.cause().label()).isEqualTo("root_changed");
    });
  }

  @Test
  void reissuesACertificateThatNamesAnotherIdentity() {
    StoredCertificate forPayments = stored(CA, PAYMENTS, BUNDLE, NOW.minus(Duration.ofHours(1)));
    // The Secret says it is web's, the certificate inside is payments'.
    Secret tampered = new SecretBuilder(WorkloadSecrets.build(WEB,
        CA.issue(SETTINGS.identity("shop", "payments"), KeyAlgorithm.ECDSA_P256, Duration.ofHours(24),
            NOW.minus(Duration.ofHours(1))), BUNDLE)).build();

    assertThat(plan(Set.of(WEB), List.of(WorkloadSecrets.read(tampered)), NOW).actions()).singleElement()
        .satisfies(action -> {
          assertThat(action.kind()).isEqualTo(Kind.ISSUE);
          assertThat(action.reason()).isEqualTo("the certificate is for spiffe://cluster.local/ns/shop/sa/payments, "
              + "not spiffe://cluster.local/ns/shop/sa/web");
        });
    assertThat(forPayments.account()).contains(PAYMENTS);
  }

  @Test
  void reissuesAnUnreadableSecret() {
    Secret broken = new SecretBuilder(WorkloadSecrets.build(WEB,
        CA.issue(SETTINGS.identity("shop", "web"), KeyAlgorithm.ECDSA_P256, Duration.ofHours(24), NOW), BUNDLE))
        .addToData("tls.crt", CaSecrets.base64("not a certificate")).build();

    assertThat(plan(Set.of(WEB), List.of(WorkloadSecrets.read(broken)), NOW).actions()).singleElement()
        .satisfies(action -> assertThat(action.reason()).startsWith("the stored certificate cannot be read"));
  }

  @Test
  void rewritesOnlyTheBundleWhenTheTrustedRootsChange() {
    StoredCertificate web = stored(CA, WEB, BUNDLE, NOW.minus(Duration.ofHours(1)));
    CertificateAuthority next = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);
    TrustBundle both = BUNDLE.with(List.of(next.root().certificate()));

    CertificatePlan plan = CertificatePlan.plan(Set.of(WEB), List.of(web), CA.root().info(), both.fingerprints(),
        SETTINGS.trustDomain(), NOW);

    assertThat(plan.actions()).extracting(Action::kind, Action::reason)
        .containsExactly(tuple(Kind.UPDATE_BUNDLE, "the trusted roots changed"));
  }

  @Test
  void deletesTheCertificateOfAServiceAccountNoMeshedPodRunsAs() {
    StoredCertificate web = stored(CA, WEB, BUNDLE, NOW.minus(Duration.ofHours(1)));
    StoredCertificate payments = stored(CA, PAYMENTS, BUNDLE, NOW.minus(Duration.ofHours(1)));

    CertificatePlan plan = plan(Set.of(WEB), List.of(web, payments), NOW);

    assertThat(plan.actions()).extracting(Action::kind, Action::secret, Action::reason)
        .containsExactly(tuple(Kind.DELETE, "weft-identity-payments",
            "no meshed pod runs as ServiceAccount shop/payments any more"));
  }

  @Test
  void longServiceAccountNamesGetAShortenedSecretName() {
    String longName = "a".repeat(250);

    assertThat(WorkloadSecrets.name(longName)).hasSize(253).startsWith("weft-identity-aaa")
        .isEqualTo(WorkloadSecrets.name(longName)).isNotEqualTo(WorkloadSecrets.name(longName + "b"));
    assertThat(WorkloadSecrets.name("web")).isEqualTo("weft-identity-web");
  }

  @Test
  void reissuesTheXdsServersCertificateUntilItCarriesItsServicesDnsNames() {
    ServiceAccountRef xds = new ServiceAccountRef("weft-system", "weft-xds");
    CertificateSettings settings = CertificateSettings.defaults().withXdsServiceAccount("weft-xds")
        .withXdsService("weft-xds", "cluster.local");
    List<String> names = settings.xdsDnsNames("weft-system");
    StoredCertificate withoutNames = stored(CA, xds, BUNDLE, NOW.minus(Duration.ofHours(1)));
    StoredCertificate withNames = WorkloadSecrets.read(WorkloadSecrets.build(xds,
        CA.issue(SETTINGS.identity("weft-system", "weft-xds"), names, KeyAlgorithm.ECDSA_P256,
            SETTINGS.certificateLifetime(), NOW.minus(Duration.ofHours(1))), BUNDLE));

    assertThat(names).containsExactly("weft-xds", "weft-xds.weft-system", "weft-xds.weft-system.svc",
        "weft-xds.weft-system.svc.cluster.local");
    assertThat(CertificatePlan.plan(Set.of(xds), java.util.Map.of(xds, names), List.of(withoutNames),
        CA.root().info(), BUNDLE.fingerprints(), SETTINGS.trustDomain(), NOW).actions())
        .extracting(Action::kind, Action::reason)
        .containsExactly(tuple(Kind.ISSUE, "its DNS names [] are not " + names));
    assertThat(withNames.leaf().orElseThrow().dnsNames()).containsExactlyElementsOf(names);
    assertThat(withNames.leaf().orElseThrow().spiffeId()).contains("spiffe://cluster.local/ns/weft-system/sa/weft-xds");
    assertThat(CertificatePlan.plan(Set.of(xds), java.util.Map.of(xds, names), List.of(withNames),
        CA.root().info(), BUNDLE.fingerprints(), SETTINGS.trustDomain(), NOW).actions()).isEmpty();
  }

  @Test
  void aWorkloadCertificateCarriesNoDnsNames() {
    assertThat(CertificateSettings.defaults().withXdsService("weft-xds", "cluster.local").xdsDnsNames("weft-system"))
        .as("no xds-server ServiceAccount, no xds-server certificate").isEmpty();
    assertThat(stored(CA, WEB, BUNDLE, NOW).leaf().orElseThrow().dnsNames()).isEmpty();
  }
}
