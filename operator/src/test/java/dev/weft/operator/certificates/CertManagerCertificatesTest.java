package dev.weft.operator.certificates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import io.fabric8.certmanager.api.model.v1.Certificate;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CertManagerCertificatesTest {

  static final Instant NOW = Instant.parse("2026-11-30T09:00:00Z");
  static final IdentitySettings SETTINGS = IdentitySettings.defaults();
  static final CertificateAuthority ISSUER_CA =
      CertificateAuthority.selfSigned(SETTINGS, NOW.minus(Duration.ofDays(1)), new SecureRandom());
  static final ServiceAccountRef WEB = new ServiceAccountRef("shop", "web");
  static final CertManagerIssuer MESH_CA = new CertManagerIssuer("mesh-ca", null, null);

  /** A Secret as cert-manager's CA issuer writes it: type kubernetes.io/tls, tls.crt, tls.key, ca.crt. */
  static Secret writtenByCertManager(ServiceAccountRef account, CertifiedKey leaf, String caPem) {
    return new SecretBuilder().withNewMetadata().withNamespace(account.namespace())
        .withName(CertManagerCertificates.issuedSecretName(account.name()))
        .withAnnotations(Map.of(CertManagerCertificates.CERTIFICATE_NAME,
            CertManagerCertificates.certificateName(account.name()), WorkloadSecrets.SERVICE_ACCOUNT, account.name()))
        .endMetadata().withType("kubernetes.io/tls")
        .withData(Map.of("tls.crt", CaSecrets.base64(leaf.certificatePem()), "tls.key",
            CaSecrets.base64(leaf.privateKeyPem()), "ca.crt", CaSecrets.base64(caPem)))
        .build();
  }

  static CertifiedKey leaf(ServiceAccountRef account, Instant at) {
    return ISSUER_CA.issue(SETTINGS.identity(account.namespace(), account.name()), KeyAlgorithm.ECDSA_P256,
        Duration.ofHours(24), at);
  }

  @Test
  void certificateNamesTheSpiffeIdTheIssuerAndASecretOfItsOwn() {
    Certificate certificate = CertManagerCertificates.desired(WEB, List.of(), SETTINGS, MESH_CA);

    assertThat(certificate.getMetadata().getNamespace()).isEqualTo("shop");
    assertThat(certificate.getMetadata().getName()).isEqualTo("weft-identity-web");
    assertThat(certificate.getMetadata().getLabels()).containsEntry("weft.dev/identity", "workload");
    assertThat(certificate.getSpec().getUris()).containsExactly("spiffe://cluster.local/ns/shop/sa/web");
    assertThat(certificate.getSpec().getDnsNames()).isNull();
    assertThat(certificate.getSpec().getSecretName()).isEqualTo("weft-issued-web");
    assertThat(certificate.getSpec().getSecretTemplate().getLabels()).containsEntry("weft.dev/identity", "cert-manager");
    assertThat(certificate.getSpec().getSecretTemplate().getAnnotations())
        .containsEntry("weft.dev/service-account", "web");
    assertThat(certificate.getSpec().getIssuerRef().getName()).isEqualTo("mesh-ca");
    assertThat(certificate.getSpec().getIssuerRef().getKind()).isEqualTo("ClusterIssuer");
    assertThat(certificate.getSpec().getIssuerRef().getGroup()).isEqualTo("cert-manager.io");
    assertThat(certificate.getSpec().getUsages()).containsExactly("digital signature", "server auth", "client auth");
  }

  @Test
  void certificateTakesLifetimeAndKeyFromTheSettingsAndRenewsWithAThirdLeft() {
    IdentitySettings settings = new IdentitySettings("example.org", Duration.ofDays(365), Duration.ofHours(12),
        KeyAlgorithm.ECDSA_P256);

    Certificate certificate = CertManagerCertificates.desired(WEB, List.of(), settings, MESH_CA);

    assertThat(certificate.getSpec().getUris()).containsExactly("spiffe://example.org/ns/shop/sa/web");
    assertThat(certificate.getSpec().getDuration().getDuration()).isEqualTo(Duration.ofHours(12));
    assertThat(certificate.getSpec().getRenewBefore().getDuration()).isEqualTo(Duration.ofHours(4));
    assertThat(certificate.getSpec().getPrivateKey().getAlgorithm()).isEqualTo("ECDSA");
    assertThat(certificate.getSpec().getPrivateKey().getSize()).isEqualTo(256);
    assertThat(certificate.getSpec().getPrivateKey().getEncoding()).isEqualTo("PKCS8");
    assertThat(certificate.getSpec().getPrivateKey().getRotationPolicy()).isEqualTo("Always");

    IdentitySettings rsa = new IdentitySettings("example.org", Duration.ofDays(365), Duration.ofHours(12),
        KeyAlgorithm.RSA_2048);
    assertThat(CertManagerCertificates.desired(WEB, List.of(), rsa, MESH_CA).getSpec().getPrivateKey())
        .satisfies(key -> {
          assertThat(key.getAlgorithm()).isEqualTo("RSA");
          assertThat(key.getSize()).isEqualTo(2048);
        });
  }

  @Test
  void xdsServerCertificateCarriesItsDnsNames() {
    Certificate certificate = CertManagerCertificates.desired(new ServiceAccountRef("weft-system", "weft-xds"),
        List.of("weft-xds", "weft-xds.weft-system"), SETTINGS, MESH_CA);

    assertThat(certificate.getSpec().getDnsNames()).containsExactly("weft-xds", "weft-xds.weft-system");
    assertThat(certificate.getSpec().getUris())
        .containsExactly("spiffe://cluster.local/ns/weft-system/sa/weft-xds");
  }

  @Test
  void specChangeIsNoticedAndAnEqualSpecIsNot() {
    Certificate desired = CertManagerCertificates.desired(WEB, List.of(), SETTINGS, MESH_CA);
    Certificate same = CertManagerCertificates.desired(WEB, List.of(), SETTINGS, MESH_CA);
    Certificate otherIssuer = CertManagerCertificates.desired(WEB, List.of(), SETTINGS,
        new CertManagerIssuer("other", "Issuer", null));

    assertThat(CertManagerCertificates.sameSpec(same, desired)).isTrue();
    assertThat(CertManagerCertificates.sameSpec(otherIssuer, desired)).isFalse();
  }

  @Test
  void consumesCertManagersSecretIntoTheWorkloadSecretLayout() {
    CertifiedKey leaf = leaf(WEB, NOW.minus(Duration.ofHours(1)));
    Secret issued = writtenByCertManager(WEB, leaf, ISSUER_CA.root().certificatePem());

    CertManagerCertificates.Consumed consumed = CertManagerCertificates.consume(WEB,
        SETTINGS.identity("shop", "web"), issued, Duration.ofHours(8), NOW);

    assertThat(consumed).isInstanceOf(CertManagerCertificates.Consumed.Usable.class);
    Secret secret = ((CertManagerCertificates.Consumed.Usable) consumed).secret();
    assertThat(secret.getMetadata().getName()).isEqualTo("weft-identity-web");
    assertThat(secret.getMetadata().getNamespace()).isEqualTo("shop");
    assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(secret.getData()).isEqualTo(issued.getData());
    StoredCertificate stored = WorkloadSecrets.read(secret);
    assertThat(stored.problem()).isEmpty();
    assertThat(stored.serviceAccount()).contains("web");
    assertThat(stored.leaf().flatMap(CertificateInfo::spiffeId)).contains("spiffe://cluster.local/ns/shop/sa/web");
    assertThat(secret.getMetadata().getAnnotations())
        .containsEntry("weft.dev/renew-at", leaf.info().notAfter().minus(Duration.ofHours(8)).toString());
  }

  @Test
  void refusesASecretForAnotherIdentityWithoutAKeyOrExpired() {
    Secret forPayments = writtenByCertManager(WEB, leaf(new ServiceAccountRef("shop", "payments"), NOW),
        ISSUER_CA.root().certificatePem());
    Secret expired = writtenByCertManager(WEB, leaf(WEB, NOW.minus(Duration.ofDays(2))),
        ISSUER_CA.root().certificatePem());
    Secret noBundle = writtenByCertManager(WEB, leaf(WEB, NOW), ISSUER_CA.root().certificatePem());
    Map<String, String> data = new HashMap<>(noBundle.getData());
    data.remove("ca.crt");
    noBundle.setData(data);

    assertThat(reason(forPayments)).contains("spiffe://cluster.local/ns/shop/sa/payments");
    assertThat(reason(expired)).contains("expired");
    assertThat(reason(noBundle)).contains("no ca.crt");
  }

  @Test
  void unchangedContentIsNotWrittenAgain() {
    Secret issued = writtenByCertManager(WEB, leaf(WEB, NOW), ISSUER_CA.root().certificatePem());
    Secret first = ((CertManagerCertificates.Consumed.Usable) CertManagerCertificates.consume(WEB,
        SETTINGS.identity("shop", "web"), issued, Duration.ofHours(8), NOW)).secret();
    Secret renewed = ((CertManagerCertificates.Consumed.Usable) CertManagerCertificates.consume(WEB,
        SETTINGS.identity("shop", "web"), writtenByCertManager(WEB, leaf(WEB, NOW), ISSUER_CA.root().certificatePem()),
        Duration.ofHours(8), NOW)).secret();

    assertThat(CertManagerCertificates.sameContent(first, first)).isTrue();
    assertThat(CertManagerCertificates.sameContent(first, renewed)).isFalse();
    assertThat(CertManagerCertificates.sameContent(null, first)).isFalse();
  }

  @Test
  void issuerComesFromTheEnvironmentWithClusterIssuerByDefault() {
    assertThat(CertManagerIssuer.fromEnvironment(Map.of())).isEmpty();
    assertThat(CertManagerIssuer.fromEnvironment(Map.of("WEFT_CERT_MANAGER_ISSUER", "mesh-ca")))
        .contains(new CertManagerIssuer("mesh-ca", "ClusterIssuer", "cert-manager.io"));
    assertThat(CertManagerIssuer.fromEnvironment(Map.of("WEFT_CERT_MANAGER_ISSUER", "ca",
        "WEFT_CERT_MANAGER_ISSUER_KIND", "Issuer"))).contains(new CertManagerIssuer("ca", "Issuer", "cert-manager.io"));
    assertThatThrownBy(() -> new CertManagerIssuer("ca", "Certificate", "cert-manager.io"))
        .hasMessageContaining("identity.certManager.issuerRef.kind");
    assertThat(CertificateSettings.fromEnvironment(Map.of("WEFT_CERT_MANAGER_ISSUER", "mesh-ca")).orElseThrow()
        .certManager()).contains(new CertManagerIssuer("mesh-ca", null, null));
    assertThat(CertificateSettings.defaults().certManager()).isEmpty();
  }

  private static String reason(Secret issued) {
    CertManagerCertificates.Consumed consumed = CertManagerCertificates.consume(WEB, SETTINGS.identity("shop", "web"),
        issued, Duration.ofHours(8), NOW);
    assertThat(consumed).isInstanceOf(CertManagerCertificates.Consumed.Unusable.class);
    return ((CertManagerCertificates.Consumed.Unusable) consumed).reason();
  }
}
