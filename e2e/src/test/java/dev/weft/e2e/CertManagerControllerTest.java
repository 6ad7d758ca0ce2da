package dev.weft.e2e;

import static dev.weft.e2e.CertManagerSecretsTest.meshedPod;
import static dev.weft.e2e.CertManagerSecretsTest.serialOf;
import static dev.weft.e2e.CertManagerSecretsTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.api.v1alpha1.CertificateCounts;
import dev.weft.api.v1alpha1.MeshStatus;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.operator.certificates.CertManagerIssuer;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.operator.identity.Pem;
import dev.weft.operator.identity.TrustBundle;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.LoggedProcess;
import dev.weft.testsupport.WeftTools;
import io.fabric8.certmanager.api.model.v1.Certificate;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
 * The operator's cert-manager option against cert-manager's real controllers
 * ({@code .tools/bin/cert-manager-controller}, built by hack/tools.sh from the pinned module) on a
 * real kube-apiserver: a CA ClusterIssuer with a test root, a meshed pod; cert-manager issues the
 * operator's Certificate, the operator copies the result into {@code weft-identity-<sa>} and counts
 * it in MeshStatus; a reissue by cert-manager reaches the workload Secret; everything is deleted
 * with the last meshed pod.
 */
@KubeApiServerTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CertManagerControllerTest {

  static final String OPERATOR_NS = "cmr-weft";
  static final String CERT_MANAGER_NS = "cmr-cert-manager";
  static final String MESHED = "cmr-shop";
  /** cert-manager's controllers take a few seconds to start and sync their informers. */
  static final Duration BOUND = Duration.ofSeconds(60);
  static final IdentitySettings IDENTITY = new IdentitySettings("cluster.local", Duration.ofDays(1),
      Duration.ofHours(1), KeyAlgorithm.ECDSA_P256);
  static final CertificateAuthority TEST_ROOT = CertificateAuthority.selfSigned(
      new IdentitySettings("cert-manager.test", Duration.ofDays(2), Duration.ofHours(1), KeyAlgorithm.ECDSA_P256),
      Instant.now().minus(Duration.ofMinutes(5)), new SecureRandom());

  static LoggedProcess certManager;
  static KubernetesClient operatorClient;
  static WeftOperator operator;

  @BeforeAll
  static void start(KubeApiServer server, Kubectl kubectl) throws Exception {
    WeftTools tools = WeftTools.locate();
    WeftCrds.install(kubectl);
    CertManagerFixture.installCrds(tools, kubectl);
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
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: %s
        """.formatted(OPERATOR_NS, CERT_MANAGER_NS, MESHED)).requireSuccess();
    kubectl.apply("""
        apiVersion: v1
        kind: Secret
        metadata:
          name: mesh-root
          namespace: %s
        type: kubernetes.io/tls
        data:
          tls.crt: %s
          tls.key: %s
        ---
        apiVersion: cert-manager.io/v1
        kind: ClusterIssuer
        metadata:
          name: mesh-ca
        spec:
          ca:
            secretName: mesh-root
        """.formatted(CERT_MANAGER_NS, CertManagerSecretsTest.base64(TEST_ROOT.root().certificatePem()),
        CertManagerSecretsTest.base64(TEST_ROOT.root().privateKeyPem()))).requireSuccess();
    certManager = LoggedProcess.start("cert-manager-controller", List.of(
        tools.binary("cert-manager-controller").toString(), "-kubeconfig", server.kubeconfig().toString(),
        "-cluster-resource-namespace", CERT_MANAGER_NS), Map.of());
    await("the ClusterIssuer is Ready").atMost(BOUND).pollInterval(Duration.ofMillis(250))
        .until(() -> {
          certManager.requireAlive();
          return kubectl.run("get", "clusterissuer", "mesh-ca", "-o",
              "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}").stdout().strip();
        }, "True"::equals);

    operatorClient = server.newClient();
    CertificateSettings certificates = CertificateSettings.defaults().withIdentity(IDENTITY)
        .withCertManager(new CertManagerIssuer("mesh-ca", "ClusterIssuer", "cert-manager.io"));
    operator = WeftOperator.start(operatorClient, new WeftOperator.Config(Set.of(MESHED),
        new InetSocketAddress("127.0.0.1", 0), Optional.of(WeftOperator.LeaderElection.of(OPERATOR_NS, "op-cmr")
            .withTimings(Duration.ofSeconds(6), Duration.ofSeconds(4), Duration.ofMillis(500))))
        .withXdsNamespaces(Set.of(OPERATOR_NS)).withCertificates(Optional.of(certificates)));
  }

  @AfterAll
  static void stop() {
    if (operator != null) {
      operator.close();
    }
    if (operatorClient != null) {
      operatorClient.close();
    }
    if (certManager != null) {
      certManager.stop(Duration.ofSeconds(5));
    }
  }

  static Secret awaitWorkloadSecret(KubernetesClient client) {
    return await("weft-identity-web from cert-manager's certificate").atMost(BOUND)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          certManager.requireAlive();
          return client.secrets().inNamespace(MESHED).withName("weft-identity-web").get();
        }, s -> s != null);
  }

  @Test
  @Order(1)
  void certManagerIssuesTheWorkloadCertificate(Kubectl kubectl, KubernetesClient client) {
    kubectl.apply(meshedPod(MESHED, "web-1", "web")).requireSuccess();

    Secret workload = awaitWorkloadSecret(client);
    Secret issued = client.secrets().inNamespace(MESHED).withName("weft-issued-web").get();

    CertificateInfo leaf = CertificateInfo.ofPem(text(workload, "tls.crt"));
    assertThat(leaf.uris()).containsExactly("spiffe://cluster.local/ns/" + MESHED + "/sa/web");
    assertThat(leaf.issuer()).isEqualTo(TEST_ROOT.root().info().subject());
    assertThat(TrustBundle.of(TEST_ROOT.root().certificate())
        .verify(Pem.parseCertificate(text(workload, "tls.crt")), Instant.now())).isEmpty();
    assertThat(TrustBundle.fromPem(text(workload, "ca.crt")).fingerprints())
        .containsExactly(TEST_ROOT.root().info().fingerprint());
    assertThat(Pem.parsePrivateKey(text(workload, "tls.key")).getAlgorithm()).isIn("EC", "ECDSA");
    assertThat(Duration.between(leaf.notBefore(), leaf.notAfter())).isEqualTo(Duration.ofHours(1));
    assertThat(issued.getData()).isEqualTo(workload.getData());
    assertThat(issued.getMetadata().getAnnotations()).containsEntry("cert-manager.io/certificate-name",
        "weft-identity-web");
    Certificate certificate = client.resources(Certificate.class).inNamespace(MESHED).withName("weft-identity-web")
        .get();
    System.out.println("$ kubectl get certificate -n " + MESHED + "\n"
        + kubectl.run("get", "certificate", "-n", MESHED).requireSuccess().stdout());
    System.out.println("cert-manager issued " + leaf.spiffeId().orElseThrow() + " serial " + leaf.serial()
        + " notBefore=" + leaf.notBefore() + " notAfter=" + leaf.notAfter() + " issuer=" + leaf.issuer()
        + "; Certificate status " + certificate.getStatus().getConditions().stream()
            .map(c -> c.getType() + "=" + c.getStatus() + " (" + c.getMessage() + ")").toList()
        + ", renewalTime " + certificate.getStatus().getRenewalTime());

    CertificateCounts counts = await("MeshStatus counts the certificate").atMost(BOUND)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> Optional.ofNullable(client.resources(MeshStatus.class).withName(MeshStatus.NAME).get())
            .map(MeshStatus::getStatus).map(s -> s.getCertificates()).orElse(null),
            c -> c != null && c.getIssued() == 1);
    assertThat(counts.getExpiringSoon()).isZero();
    assertThat(Instant.parse(counts.getRootNotAfter())).isEqualTo(TEST_ROOT.root().info().notAfter());
    System.out.println("$ kubectl get meshstatus\n" + kubectl.run("get", "meshstatus").requireSuccess().stdout());
    System.out.println("$ kubectl get meshstatus mesh -o jsonpath={.status.certificates}\n"
        + kubectl.run("get", "meshstatus", "mesh", "-o", "jsonpath={.status.certificates}").requireSuccess().stdout());
  }

  @Test
  @Order(2)
  void aCertificateCertManagerIssuesAgainReachesTheWorkloadSecret(Kubectl kubectl, KubernetesClient client) {
    String before = serialOf(client, MESHED, "weft-identity-web");

    // cert-manager issues a Certificate again when its Secret is gone; the workload Secret keeps
    // the old certificate meanwhile, so the sidecars never lose theirs.
    kubectl.run("delete", "secret", "-n", MESHED, "weft-issued-web").requireSuccess();
    assertThat(serialOf(client, MESHED, "weft-identity-web")).isEqualTo(before);

    String after = await("a new certificate from cert-manager in weft-identity-web").atMost(BOUND)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          certManager.requireAlive();
          return serialOf(client, MESHED, "weft-identity-web");
        }, serial -> !serial.isEmpty() && !serial.equals(before));
    System.out.println("reissued by cert-manager: serial " + before + " -> " + after);
  }

  @Test
  @Order(3)
  void certificateAndSecretsAreDeletedWithTheLastMeshedPod(Kubectl kubectl, KubernetesClient client) {
    kubectl.run("delete", "pod", "-n", MESHED, "web-1", "--wait=false").requireSuccess();

    await("Certificate and both Secrets deleted").atMost(BOUND).pollInterval(Duration.ofMillis(100))
        .until(() -> client.resources(Certificate.class).inNamespace(MESHED).withName("weft-identity-web").get() == null
            && client.secrets().inNamespace(MESHED).withName("weft-issued-web").get() == null
            && client.secrets().inNamespace(MESHED).withName("weft-identity-web").get() == null);
    await("and stay deleted (cert-manager does not write the Secret again)").during(Duration.ofSeconds(3))
        .atMost(BOUND).until(() -> client.secrets().inNamespace(MESHED).withName("weft-issued-web").get() == null);
  }
}
