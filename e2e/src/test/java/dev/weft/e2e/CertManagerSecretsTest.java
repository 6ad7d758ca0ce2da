package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.api.v1alpha1.CertificateCounts;
import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.MeshStatus;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.operator.certificates.CertManagerIssuer;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.operator.identity.Pem;
import dev.weft.operator.identity.TrustBundle;
import dev.weft.operator.identity.WorkloadIdentity;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import io.fabric8.certmanager.api.model.v1.Certificate;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The operator's cert-manager option on a real kube-apiserver with cert-manager's own CRDs, the
 * test playing cert-manager: the operator creates the right {@code Certificate} for a meshed
 * ServiceAccount; a Secret written in cert-manager's format (signed by a test CA) is checked and
 * copied into {@code weft-identity-<sa>} and counted in MeshStatus; a renewal is followed, a
 * Secret for another identity is not; all of it is deleted when the last meshed pod is gone.
 * {@link CertManagerControllerTest} runs the same with cert-manager's real controllers.
 */
@KubeApiServerTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CertManagerSecretsTest {

  static final String OPERATOR_NS = "cm-weft";
  static final String MESHED = "cm-shop";
  static final Duration BOUND = Duration.ofSeconds(30);
  static final IdentitySettings IDENTITY = new IdentitySettings("cluster.local", Duration.ofDays(1),
      Duration.ofHours(1), KeyAlgorithm.ECDSA_P256);
  static final CertManagerIssuer ISSUER = new CertManagerIssuer("mesh-ca", "ClusterIssuer", "cert-manager.io");
  static final CertificateAuthority TEST_CA = CertificateAuthority.selfSigned(
      new IdentitySettings("cert-manager.test", Duration.ofDays(2), Duration.ofHours(1), KeyAlgorithm.ECDSA_P256),
      Instant.now().minus(Duration.ofMinutes(5)), new SecureRandom());

  static KubernetesClient operatorClient;
  static WeftOperator operator;

  @BeforeAll
  static void startOperator(KubeApiServer server, Kubectl kubectl) throws Exception {
    WeftCrds.install(kubectl);
    CertManagerFixture.installCrds(WeftTools.locate(), kubectl);
    kubectl.apply("""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: %s
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: %s
        """.formatted(OPERATOR_NS, MESHED)).requireSuccess();
    operatorClient = server.newClient();
    CertificateSettings certificates = CertificateSettings.defaults().withIdentity(IDENTITY).withCertManager(ISSUER);
    operator = WeftOperator.start(operatorClient, new WeftOperator.Config(Set.of(MESHED),
        new InetSocketAddress("127.0.0.1", 0), Optional.of(WeftOperator.LeaderElection.of(OPERATOR_NS, "op-cm")
            .withTimings(Duration.ofSeconds(6), Duration.ofSeconds(4), Duration.ofMillis(500))))
        .withXdsNamespaces(Set.of(OPERATOR_NS)).withCertificates(Optional.of(certificates)));
  }

  @AfterAll
  static void stopOperator() {
    if (operator != null) {
      operator.close();
    }
    if (operatorClient != null) {
      operatorClient.close();
    }
  }

  static String meshedPod(String namespace, String name, String serviceAccount) {
    return """
        apiVersion: v1
        kind: Pod
        metadata:
          name: %s
          namespace: %s
        spec:
          serviceAccountName: %s
          containers:
          - name: app
            image: registry.invalid/app:1
          - name: weft-proxy
            image: registry.invalid/proxy:1
        """.formatted(name, namespace, serviceAccount);
  }

  static String text(Secret secret, String key) {
    return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
  }

  static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * What cert-manager's CA issuer writes for {@code certificate}: its secretName, the template's
   * labels and annotations, cert-manager's own annotations, tls.crt/tls.key/ca.crt.
   */
  static Secret asCertManagerWouldWrite(Certificate certificate, CertifiedKey leaf) {
    Map<String, String> annotations = new HashMap<>(certificate.getSpec().getSecretTemplate().getAnnotations());
    annotations.put("cert-manager.io/certificate-name", certificate.getMetadata().getName());
    annotations.put("cert-manager.io/issuer-name", certificate.getSpec().getIssuerRef().getName());
    annotations.put("cert-manager.io/issuer-kind", certificate.getSpec().getIssuerRef().getKind());
    annotations.put("cert-manager.io/issuer-group", certificate.getSpec().getIssuerRef().getGroup());
    annotations.put("cert-manager.io/uri-sans", String.join(",", certificate.getSpec().getUris()));
    return new SecretBuilder().withNewMetadata().withNamespace(certificate.getMetadata().getNamespace())
        .withName(certificate.getSpec().getSecretName())
        .withLabels(certificate.getSpec().getSecretTemplate().getLabels())
        .withAnnotations(annotations).endMetadata()
        .withType("kubernetes.io/tls")
        .withData(Map.of("tls.crt", base64(leaf.certificatePem()), "tls.key", base64(leaf.privateKeyPem()),
            "ca.crt", base64(TEST_CA.root().certificatePem())))
        .build();
  }

  static CertifiedKey sign(String namespace, String serviceAccount) {
    return TEST_CA.issue(new WorkloadIdentity("cluster.local", namespace, serviceAccount), KeyAlgorithm.ECDSA_P256,
        IDENTITY.certificateLifetime(), Instant.now());
  }

  static Certificate awaitCertificate(KubernetesClient client, String namespace, String name) {
    return await("Certificate " + namespace + "/" + name).atMost(BOUND).pollInterval(Duration.ofMillis(100))
        .until(() -> client.resources(Certificate.class).inNamespace(namespace).withName(name).get(), c -> c != null);
  }

  static String serialOf(KubernetesClient client, String namespace, String name) {
    Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
    return secret == null ? "" : CertificateInfo.ofPem(text(secret, "tls.crt")).serial();
  }

  @Test
  @Order(1)
  void aMeshedServiceAccountGetsACertificateForItsSpiffeId(Kubectl kubectl, KubernetesClient client) {
    kubectl.apply(meshedPod(MESHED, "web-1", "web")).requireSuccess();

    Certificate certificate = awaitCertificate(client, MESHED, "weft-identity-web");

    assertThat(certificate.getSpec().getUris()).containsExactly("spiffe://cluster.local/ns/" + MESHED + "/sa/web");
    assertThat(certificate.getSpec().getSecretName()).isEqualTo("weft-issued-web");
    assertThat(certificate.getSpec().getIssuerRef().getName()).isEqualTo("mesh-ca");
    assertThat(certificate.getSpec().getIssuerRef().getKind()).isEqualTo("ClusterIssuer");
    assertThat(certificate.getSpec().getDuration().getDuration()).isEqualTo(Duration.ofHours(1));
    assertThat(certificate.getSpec().getRenewBefore().getDuration()).isEqualTo(Duration.ofMinutes(20));
    assertThat(certificate.getSpec().getPrivateKey().getAlgorithm()).isEqualTo("ECDSA");
    assertThat(certificate.getSpec().getPrivateKey().getSize()).isEqualTo(256);
    assertThat(certificate.getSpec().getPrivateKey().getRotationPolicy()).isEqualTo("Always");
    assertThat(certificate.getSpec().getUsages()).containsExactly("digital signature", "server auth", "client auth");
    System.out.println("$ kubectl get certificate -n " + MESHED + " weft-identity-web -o jsonpath={.spec}\n"
        + kubectl.run("get", "certificate", "-n", MESHED, "weft-identity-web", "-o", "jsonpath={.spec}")
            .requireSuccess().stdout());
    await("no workload Secret before cert-manager wrote one").during(Duration.ofSeconds(1)).atMost(BOUND)
        .until(() -> client.secrets().inNamespace(MESHED).withName("weft-identity-web").get() == null);
  }

  @Test
  @Order(2)
  void theSecretCertManagerWritesIsCopiedIntoTheWorkloadSecretAndCounted(Kubectl kubectl,
      KubernetesClient client) {
    Certificate certificate = awaitCertificate(client, MESHED, "weft-identity-web");
    CertifiedKey leaf = sign(MESHED, "web");
    client.secrets().inNamespace(MESHED).resource(asCertManagerWouldWrite(certificate, leaf)).create();

    Secret workload = await("weft-identity-web").atMost(BOUND).pollInterval(Duration.ofMillis(100))
        .until(() -> client.secrets().inNamespace(MESHED).withName("weft-identity-web").get(), s -> s != null);

    assertThat(workload.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(workload.getMetadata().getLabels()).containsEntry("weft.dev/identity", "workload");
    assertThat(text(workload, "tls.crt")).isEqualTo(leaf.certificatePem());
    assertThat(text(workload, "tls.key")).isEqualTo(leaf.privateKeyPem());
    TrustBundle bundle = TrustBundle.fromPem(text(workload, "ca.crt"));
    assertThat(bundle.verify(Pem.parseCertificate(text(workload, "tls.crt")), Instant.now())).isEmpty();
    assertThat(workload.getMetadata().getAnnotations())
        .containsEntry("weft.dev/spiffe-id", "spiffe://cluster.local/ns/" + MESHED + "/sa/web");

    CertificateCounts counts = await("MeshStatus counts the certificate").atMost(BOUND)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> Optional.ofNullable(client.resources(MeshStatus.class).withName(MeshStatus.NAME).get())
            .map(MeshStatus::getStatus).map(s -> s.getCertificates()).orElse(null),
            c -> c != null && c.getIssued() == 1);
    assertThat(counts.getExpiringSoon()).isZero();
    assertThat(Instant.parse(counts.getNextExpiry())).isEqualTo(leaf.info().notAfter());
    assertThat(Instant.parse(counts.getRootNotAfter())).isEqualTo(TEST_CA.root().info().notAfter());
    Condition issued = client.resources(MeshStatus.class).withName(MeshStatus.NAME).get().getStatus()
        .getConditions().stream().filter(c -> "CertificatesIssued".equals(c.getType())).findFirst().orElseThrow();
    assertThat(issued.getStatus()).as(issued.toString()).isEqualTo(Condition.Status.True);
    System.out.println("$ kubectl get meshstatus\n" + kubectl.run("get", "meshstatus").requireSuccess().stdout());
    System.out.println("$ kubectl get meshstatus mesh -o jsonpath={.status.certificates}\n"
        + kubectl.run("get", "meshstatus", "mesh", "-o", "jsonpath={.status.certificates}").requireSuccess().stdout());
    System.out.println("CertificatesIssued: " + issued.getMessage());
  }

  @Test
  @Order(3)
  void aRenewalIsFollowedAndASecretForAnotherIdentityIsNot(KubernetesClient client) {
    Certificate certificate = awaitCertificate(client, MESHED, "weft-identity-web");
    String first = serialOf(client, MESHED, "weft-identity-web");

    CertifiedKey wrong = sign(MESHED, "payments");
    client.secrets().inNamespace(MESHED).resource(asCertManagerWouldWrite(certificate, wrong)).update();
    await("a certificate for payments is not web's").during(Duration.ofSeconds(2)).atMost(BOUND)
        .until(() -> serialOf(client, MESHED, "weft-identity-web").equals(first));

    CertifiedKey renewed = sign(MESHED, "web");
    client.secrets().inNamespace(MESHED).resource(asCertManagerWouldWrite(certificate, renewed)).update();
    await("the renewed certificate reaches weft-identity-web").atMost(BOUND).pollInterval(Duration.ofMillis(100))
        .until(() -> serialOf(client, MESHED, "weft-identity-web").equals(renewed.info().serial()));
    System.out.println("renewal followed: serial " + first + " -> " + renewed.info().serial()
        + "; a Secret naming spiffe://cluster.local/ns/" + MESHED + "/sa/payments was not copied");
  }

  @Test
  @Order(4)
  void certificateAndSecretsAreDeletedWhenTheLastMeshedPodIsGone(Kubectl kubectl, KubernetesClient client) {
    kubectl.run("delete", "pod", "-n", MESHED, "web-1", "--wait=false").requireSuccess();

    await("Certificate and both Secrets deleted").atMost(BOUND).pollInterval(Duration.ofMillis(100))
        .until(() -> client.resources(Certificate.class).inNamespace(MESHED).withName("weft-identity-web").get() == null
            && client.secrets().inNamespace(MESHED).withName("weft-issued-web").get() == null
            && client.secrets().inNamespace(MESHED).withName("weft-identity-web").get() == null);
    await("MeshStatus counts none").atMost(BOUND).pollInterval(Duration.ofMillis(200))
        .until(() -> client.resources(MeshStatus.class).withName(MeshStatus.NAME).get().getStatus()
            .getCertificates().getIssued() == 0);
  }
}
