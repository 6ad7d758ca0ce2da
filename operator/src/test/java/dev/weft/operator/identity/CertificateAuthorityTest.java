package dev.weft.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CertificateAuthorityTest {

  static final Instant NOW = Instant.parse("2026-11-30T09:00:00Z");
  static final SecureRandom RANDOM = new SecureRandom();
  static final IdentitySettings SETTINGS = IdentitySettings.defaults();
  static final WorkloadIdentity WEB = SETTINGS.identity("shop", "web");

  @Test
  void aSelfSignedRootIsAnEcdsaP256CaValidForAYearByDefault() {
    CertificateAuthority ca = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);

    X509Certificate root = ca.root().certificate();
    assertThat(root.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(root.getPublicKey().toString()).contains("secp256r1");
    assertThat(root.getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(root.getBasicConstraints()).isGreaterThanOrEqualTo(0);
    assertThat(root.getSubjectX500Principal()).isEqualTo(root.getIssuerX500Principal());
    CertificateInfo info = ca.root().info();
    assertThat(info.ca()).isTrue();
    assertThat(info.notAfter()).isEqualTo(NOW.plus(Duration.ofDays(365)));
    assertThat(info.uris()).containsExactly("spiffe://cluster.local");
    assertThat(TrustBundle.of(root).verify(root, NOW)).isEmpty();
  }

  @Test
  void theRootLifetimeAndKeyTypeAreConfigurable() {
    IdentitySettings settings = new IdentitySettings("mesh.example", Duration.ofDays(30), Duration.ofHours(1),
        KeyAlgorithm.RSA_2048);

    CertificateAuthority ca = CertificateAuthority.selfSigned(settings, NOW, RANDOM);

    assertThat(ca.root().info().notAfter()).isEqualTo(NOW.plus(Duration.ofDays(30)));
    assertThat(ca.root().certificate().getPublicKey().getAlgorithm()).isEqualTo("RSA");
    CertifiedKey leaf = ca.issue(settings.identity("shop", "web"), KeyAlgorithm.RSA_2048, Duration.ofHours(1), NOW);
    assertThat(leaf.info().spiffeId()).contains("spiffe://mesh.example/ns/shop/sa/web");
    assertThat(TrustBundle.of(ca.root().certificate()).verify(leaf.certificate(), NOW)).isEmpty();
  }

  @Test
  void aWorkloadCertificateCarriesItsSpiffeIdAndLivesADayByDefault() throws Exception {
    CertificateAuthority ca = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);

    CertifiedKey leaf = ca.issue(WEB, KeyAlgorithm.ECDSA_P256, SETTINGS.certificateLifetime(), NOW);

    CertificateInfo info = leaf.info();
    assertThat(info.uris()).containsExactly("spiffe://cluster.local/ns/shop/sa/web");
    assertThat(info.spiffeId()).contains(WEB.spiffeId());
    assertThat(info.identity()).contains(WEB);
    assertThat(info.ca()).isFalse();
    assertThat(info.notAfter()).isEqualTo(NOW.plus(Duration.ofHours(24)));
    assertThat(info.notBefore()).isEqualTo(NOW.minus(CertificateAuthority.BACKDATE));
    assertThat(info.issuer()).isEqualTo(ca.root().info().subject());
    assertThat(leaf.certificate().getExtendedKeyUsage())
        .containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
  }

  @Test
  void aServerCertificateNamesItsDnsNamesAndAddressesForServerAuthOnly() throws Exception {
    CertificateAuthority ca = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);

    CertifiedKey server = ca.issueServer("weft-webhook", List.of("weft-webhook.weft-system.svc"), List.of("127.0.0.1"),
        KeyAlgorithm.ECDSA_P256, Duration.ofDays(7), NOW);

    X509Certificate certificate = server.certificate();
    assertThat(certificate.getSubjectAlternativeNames()).extracting(san -> san.get(0) + "=" + san.get(1))
        .containsExactly("2=weft-webhook.weft-system.svc", "7=127.0.0.1");
    assertThat(certificate.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(certificate.getBasicConstraints()).isEqualTo(-1);
    assertThat(server.info().spiffeId()).isEmpty();
    assertThat(certificate.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(7)));
    assertThat(TrustBundle.of(ca.root().certificate()).verify(certificate, NOW.plusSeconds(60))).isEmpty();
    assertThatThrownBy(() -> ca.issueServer("nobody", List.of(), List.of(), KeyAlgorithm.ECDSA_P256,
        Duration.ofDays(7), NOW)).hasMessageContaining("at least one DNS name or IP address");
  }

  @Test
  void aLeafVerifiesAgainstItsRootAndNotAgainstAnotherRoot() {
    CertificateAuthority ca = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);
    CertificateAuthority other = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);
    CertifiedKey leaf = ca.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofHours(24), NOW);

    assertThat(TrustBundle.of(ca.root().certificate()).verify(leaf.certificate(), NOW.plusSeconds(60))).isEmpty();
    assertThat(TrustBundle.of(other.root().certificate()).verify(leaf.certificate(), NOW.plusSeconds(60)))
        .hasValueSatisfying(reason -> assertThat(reason).isNotBlank());
  }

  @Test
  void aLeafDoesNotVerifyAfterItExpires() {
    CertificateAuthority ca = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);
    CertifiedKey leaf = ca.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofHours(24), NOW);

    assertThat(TrustBundle.of(ca.root().certificate()).verify(leaf.certificate(), NOW.plus(Duration.ofHours(25))))
        .hasValueSatisfying(reason -> assertThat(reason).containsIgnoringCase("expired"));
    assertThat(leaf.info().expiredAt(NOW.plus(Duration.ofHours(24)))).isTrue();
  }

  @Test
  void aBundleWithBothRootsVerifiesLeavesOfEitherDuringARotation() {
    CertificateAuthority old = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);
    CertificateAuthority next = CertificateAuthority.selfSigned(SETTINGS, NOW.plusSeconds(10), RANDOM);
    TrustBundle both = TrustBundle.of(next.root().certificate(), old.root().certificate());

    assertThat(both.roots()).hasSize(2);
    assertThat(both.verify(old.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofHours(1), NOW).certificate(),
        NOW.plusSeconds(60))).isEmpty();
    assertThat(both.verify(next.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofHours(1), NOW).certificate(),
        NOW.plusSeconds(60))).isEmpty();
    assertThat(TrustBundle.fromPem(both.pem()).fingerprints()).isEqualTo(both.fingerprints());
  }

  @Test
  void tellsWhichRootIssuedALeaf() {
    CertificateAuthority ca = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);
    CertificateAuthority other = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);
    CertifiedKey leaf = ca.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofHours(1), NOW);

    assertThat(leaf.info().issuedBy(ca.root().info())).isTrue();
    assertThat(leaf.info().issuedBy(other.root().info())).isFalse();
    assertThat(leaf.info().authorityKeyId()).isEqualTo(ca.root().info().subjectKeyId()).isNotEmpty();
  }

  @Test
  void aBundleKeepsOneCopyOfEachRootSigningRootFirst() {
    CertificateAuthority ca = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);
    X509Certificate root = ca.root().certificate();

    assertThat(TrustBundle.of(root, root).roots()).containsExactly(root);
    assertThatThrownBy(() -> new TrustBundle(List.of())).hasMessageContaining("at least one root");
  }

  @Test
  void detectsACertificateForAnotherIdentity() {
    CertificateAuthority ca = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);
    CertifiedKey leaf = ca.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofHours(1), NOW);

    assertThat(leaf.info().mismatch(WEB)).isEmpty();
    assertThat(leaf.info().mismatch(SETTINGS.identity("shop", "payments")))
        .contains("the certificate is for spiffe://cluster.local/ns/shop/sa/web, not "
            + "spiffe://cluster.local/ns/shop/sa/payments");
    assertThat(leaf.info().mismatch(SETTINGS.withTrustDomain("other.mesh").identity("shop", "web")))
        .hasValueSatisfying(m -> assertThat(m).contains("not spiffe://other.mesh/ns/shop/sa/web"));
    assertThat(ca.root().info().mismatch(WEB))
        .as("the root's trust-domain URI is not a workload's ID").isPresent();
  }

  @Test
  void aCertificateLivingSecondsIsBackdatedByATenthOfItsLifeOnly() {
    CertificateAuthority ca = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);

    CertifiedKey leaf = ca.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofSeconds(10), NOW);

    assertThat(leaf.info().notBefore()).isEqualTo(NOW.minusSeconds(1));
    assertThat(RenewalSchedule.renewAt(leaf.info())).isAfter(NOW);
  }

  @Test
  void aLeafNeverOutlivesItsRoot() {
    IdentitySettings shortRoot = new IdentitySettings("cluster.local", Duration.ofHours(2), Duration.ofHours(1),
        KeyAlgorithm.ECDSA_P256);
    CertificateAuthority ca = CertificateAuthority.selfSigned(shortRoot, NOW, RANDOM);

    CertifiedKey leaf = ca.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofHours(1), NOW.plus(Duration.ofMinutes(90)));

    assertThat(leaf.info().notAfter()).isEqualTo(ca.root().info().notAfter());
    assertThatThrownBy(() -> ca.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofHours(1), NOW.plus(Duration.ofHours(3))))
        .hasMessageContaining("expired").hasMessageContaining("rotate it");
  }

  @Test
  void refusesToSignWithACertificateThatIsNotACa() {
    CertificateAuthority ca = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);
    CertifiedKey leaf = ca.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofHours(1), NOW);

    assertThatThrownBy(() -> CertificateAuthority.of(leaf, RANDOM)).hasMessageContaining("not a CA certificate");
  }

  @Test
  void certificatesAndKeysRoundTripThroughPem() {
    CertificateAuthority ca = CertificateAuthority.selfSigned(SETTINGS, NOW, RANDOM);
    CertifiedKey leaf = ca.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofHours(1), NOW);

    assertThat(leaf.certificatePem()).startsWith("-----BEGIN CERTIFICATE-----");
    assertThat(leaf.privateKeyPem()).startsWith("-----BEGIN PRIVATE KEY-----");
    CertifiedKey read = new CertifiedKey(Pem.parseCertificate(leaf.certificatePem()),
        Pem.parsePrivateKey(leaf.privateKeyPem()));
    assertThat(read.certificate()).isEqualTo(leaf.certificate());
    assertThat(read.privateKey().getEncoded()).isEqualTo(leaf.privateKey().getEncoded());
    assertThat(CertificateInfo.ofPem(leaf.certificatePem())).isEqualTo(leaf.info());

    // A root read back from its PEM signs certificates that verify against the original.
    CertificateAuthority reloaded = CertificateAuthority.of(new CertifiedKey(
        Pem.parseCertificate(ca.root().certificatePem()), Pem.parsePrivateKey(ca.root().privateKeyPem())), RANDOM);
    assertThat(TrustBundle.of(ca.root().certificate())
        .verify(reloaded.issue(WEB, KeyAlgorithm.ECDSA_P256, Duration.ofHours(1), NOW).certificate(), NOW))
        .isEmpty();
  }

  @Test
  void readsATraditionalEcKeyAsOpensslWritesIt() {
    // openssl ecparam -name prime256v1 -genkey -noout
    String sec1 = """
        -----BEGIN EC PRIVATE KEY-----
        MHcCAQEEIBYt3oQVJ5q1KZ5a8c6OgL8fYgq0Xs8HPLBGkz4qu/SaoAoGCCqGSM49
        AwEHoUQDQgAE3+9gSkTtEvwLwtYcYzhaGPwhUJ9vthd0oRUKBrXX+IQK1RbfhAEW
        fLq4ZfBYbuI6qS3zijVukMx2uVnKn0sBRg==
        -----END EC PRIVATE KEY-----
        """;

    assertThat(Pem.parsePrivateKey(sec1).getAlgorithm()).isIn("EC", "ECDSA");
  }

  @Test
  void pemErrorsSayWhatWasExpected() {
    assertThatThrownBy(() -> Pem.parseCertificate("hello")).hasMessageContaining("-----BEGIN CERTIFICATE-----");
    assertThatThrownBy(() -> Pem.parsePrivateKey("")).hasMessageContaining("-----BEGIN PRIVATE KEY-----");
  }
}
