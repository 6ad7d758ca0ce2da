package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.api.v1alpha1.CertificateCounts;
import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.MeshStatus;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.operator.identity.Pem;
import dev.weft.operator.identity.TrustBundle;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The operator's workload certificates on a real kube-apiserver: a meshed pod's ServiceAccount
 * gets a Secret with a leaf that verifies against the root the operator keeps in its own
 * namespace and names the pod's SPIFFE ID; an unmeshed pod gets nothing; the certificate is
 * renewed on schedule (lifetimes shortened to seconds); `kubectl get meshstatus` counts the real
 * certificates; the Secret is garbage-collected when its last meshed pod is gone.
 */
@KubeApiServerTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkloadCertificatesTest {

  static final String OPERATOR_NS = "certs-weft";
  static final String MESHED = "certs-shop";
  static final String PLAIN = "certs-plain";
  static final Duration BOUND = Duration.ofSeconds(30);
  /** Short enough to watch a renewal, long enough that the test does not race it. */
  static final Duration LIFETIME = Duration.ofSeconds(20);

  static KubernetesClient operatorClient;
  static WeftOperator operator;

  @BeforeAll
  static void startOperator(KubeApiServer server, Kubectl kubectl) throws Exception {
    WeftCrds.install(kubectl);
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
          labels:
            weft.dev/inject: enabled
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: %s
        """.formatted(OPERATOR_NS, MESHED, PLAIN)).requireSuccess();
    operatorClient = server.newClient();
    CertificateSettings certificates = CertificateSettings.defaults().withIdentity(new IdentitySettings(
        "cluster.local", Duration.ofDays(1), LIFETIME, KeyAlgorithm.ECDSA_P256));
    operator = WeftOperator.start(operatorClient, new WeftOperator.Config(Set.of(MESHED, PLAIN),
        new InetSocketAddress("127.0.0.1", 0), Optional.of(WeftOperator.LeaderElection.of(OPERATOR_NS, "op-certs")
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

  static String pod(String namespace, String name, String serviceAccount) {
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
        """.formatted(name, namespace, serviceAccount);
  }

  static String text(Secret secret, String key) {
    return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
  }

  static Secret awaitSecret(KubernetesClient client, String namespace, String name) {
    return await("Secret " + namespace + "/" + name).atMost(BOUND).pollInterval(Duration.ofMillis(100))
        .until(() -> client.secrets().inNamespace(namespace).withName(name).get(), s -> s != null);
  }

  @Test
  @Order(1)
  void aMeshedPodsServiceAccountGetsASecretWithAValidLeaf(Kubectl kubectl, KubernetesClient client) {
    kubectl.apply(pod(MESHED, "web-1", "web") + "---\n" + pod(PLAIN, "web-1", "web")).requireSuccess();

    Secret secret = awaitSecret(client, MESHED, "weft-identity-web");
    Secret ca = awaitSecret(client, OPERATOR_NS, "weft-ca");

    TrustBundle root = TrustBundle.fromPem(text(ca, "tls.crt"));
    CertificateInfo leaf = CertificateInfo.ofPem(text(secret, "tls.crt"));
    assertThat(root.verify(Pem.parseCertificate(text(secret, "tls.crt")), Instant.now())).isEmpty();
    assertThat(leaf.uris()).containsExactly("spiffe://cluster.local/ns/" + MESHED + "/sa/web");
    assertThat(TrustBundle.fromPem(text(secret, "ca.crt")).fingerprints()).isEqualTo(root.fingerprints());
    assertThat(Pem.parsePrivateKey(text(secret, "tls.key")).getAlgorithm()).isIn("EC", "ECDSA");
    assertThat(ca.getData()).containsKeys("tls.crt", "tls.key", "ca.crt");
    System.out.println("$ kubectl get secret -n " + MESHED + " weft-identity-web -o yaml (annotations)\n"
        + kubectl.run("get", "secret", "-n", MESHED, "weft-identity-web", "-o",
            "jsonpath={.metadata.annotations}").requireSuccess().stdout());
    System.out.println("leaf " + leaf.spiffeId().orElseThrow() + " notBefore=" + leaf.notBefore() + " notAfter="
        + leaf.notAfter() + " issuer=" + leaf.issuer());

    await("the operator looked at the unmeshed namespace too").during(Duration.ofSeconds(1)).atMost(BOUND)
        .until(() -> client.secrets().inNamespace(PLAIN).list().getItems().isEmpty());
  }

  @Test
  @Order(2)
  void theCertificateIsRenewedOnScheduleAndMeshStatusCountsIt(Kubectl kubectl, KubernetesClient client) {
    Secret first = awaitSecret(client, MESHED, "weft-identity-web");
    CertificateInfo before = CertificateInfo.ofPem(text(first, "tls.crt"));

    CertificateInfo after = await("renewed at about two thirds of its " + LIFETIME.toSeconds() + " s life")
        .atMost(LIFETIME.plus(Duration.ofSeconds(10))).pollInterval(Duration.ofMillis(200))
        .until(() -> CertificateInfo.ofPem(text(client.secrets().inNamespace(MESHED).withName("weft-identity-web")
            .get(), "tls.crt")), info -> !info.serial().equals(before.serial()));
    Instant renewedAt = Instant.now();
    System.out.println("renewed " + Duration.between(before.notBefore(), renewedAt).toMillis() + " ms after the first "
        + "certificate's notBefore (life " + Duration.between(before.notBefore(), before.notAfter()).toMillis()
        + " ms); the new one expires " + after.notAfter());
    assertThat(renewedAt).isBefore(before.notAfter());
    assertThat(after.spiffeId()).isEqualTo(before.spiffeId());

    CertificateCounts counts = await("MeshStatus counts the certificate").atMost(BOUND)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> Optional.ofNullable(client.resources(MeshStatus.class).withName(MeshStatus.NAME).get())
            .map(MeshStatus::getStatus).map(s -> s.getCertificates()).orElse(null),
            c -> c != null && c.getIssued() == 1);
    assertThat(counts.getExpiringSoon()).isZero();
    assertThat(counts.getRootNotAfter()).isNotNull();
    Condition issued = client.resources(MeshStatus.class).withName(MeshStatus.NAME).get().getStatus()
        .getConditions().stream().filter(c -> "CertificatesIssued".equals(c.getType())).findFirst().orElseThrow();
    assertThat(issued.getStatus()).as(issued.toString()).isEqualTo(Condition.Status.True);
    String table = kubectl.run("get", "meshstatus").requireSuccess().stdout();
    System.out.println("$ kubectl get meshstatus\n" + table);
    assertThat(table).containsPattern("mesh\\s+0\\s+0\\s+0\\s+0\\s+0\\s+0\\s+\\d+[smhd]");
    System.out.println("$ kubectl get meshstatus mesh -o jsonpath={.status.certificates}\n"
        + kubectl.run("get", "meshstatus", "mesh", "-o", "jsonpath={.status.certificates}").requireSuccess().stdout());
  }

  @Test
  @Order(3)
  void theSecretIsGarbageCollectedWhenTheLastMeshedPodIsGone(Kubectl kubectl, KubernetesClient client) {
    kubectl.apply(pod(MESHED, "web-2", "web")).requireSuccess();
    kubectl.run("delete", "pod", "-n", MESHED, "web-1", "--wait=false").requireSuccess();
    await("web-2 still runs as web").during(Duration.ofSeconds(1)).atMost(BOUND)
        .until(() -> client.secrets().inNamespace(MESHED).withName("weft-identity-web").get() != null);

    kubectl.run("delete", "pod", "-n", MESHED, "web-2", "--wait=false").requireSuccess();

    await("the Secret is deleted").atMost(BOUND).pollInterval(Duration.ofMillis(100))
        .until(() -> client.secrets().inNamespace(MESHED).withName("weft-identity-web").get() == null);
    assertThat(client.secrets().inNamespace(OPERATOR_NS).withName("weft-ca").get())
        .as("the root stays").isNotNull();
  }
}
