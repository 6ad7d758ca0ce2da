package dev.weft.operator.certificates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.Pem;
import dev.weft.operator.identity.TrustBundle;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The controller against the fabric8 mock server in CRUD mode (a fresh server per test). */
@EnableKubernetesMockClient(crud = true)
class WorkloadCertificateControllerTest {

  static final Duration BOUND = Duration.ofSeconds(10);
  static final String OPERATOR_NS = "weft-system";

  KubernetesClient client;
  io.fabric8.kubernetes.client.server.mock.KubernetesMockServer server;
  WorkloadCertificateController controller;
  final AtomicBoolean leading = new AtomicBoolean(true);

  @AfterEach
  void stop() {
    if (controller != null) {
      controller.close();
    }
  }

  void start(CertificateSettings settings) {
    controller = WorkloadCertificateController.start(client, Set.of(), settings, OPERATOR_NS, leading::get,
        Clock.systemUTC());
  }

  void namespace(String name, Map<String, String> labels) {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).withLabels(labels)
        .endMetadata().build()).create();
  }

  void pod(String namespace, String name, String serviceAccount) {
    client.pods().inNamespace(namespace).resource(MeshedPodsTest.pod(namespace, name, serviceAccount).build()).create();
  }

  Secret awaitSecret(String namespace, String name) {
    return await("Secret " + namespace + "/" + name).atMost(BOUND).pollInterval(Duration.ofMillis(50))
        .until(() -> client.secrets().inNamespace(namespace).withName(name).get(), s -> s != null);
  }

  static String text(Secret secret, String key) {
    return CaSecrets.decode(secret.getData().get(key));
  }

  @Test
  void issuesAVerifiableCertificateForTheServiceAccountOfAMeshedPod() {
    namespace("shop", Map.of("weft.dev/inject", "enabled"));
    pod("shop", "web-1", "web");

    start(CertificateSettings.defaults());

    Secret secret = awaitSecret("shop", "weft-identity-web");
    Secret ca = awaitSecret(OPERATOR_NS, "weft-ca");
    TrustBundle root = TrustBundle.fromPem(text(ca, "tls.crt"));
    CertificateInfo leaf = CertificateInfo.ofPem(text(secret, "tls.crt"));
    assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(leaf.spiffeId()).contains("spiffe://cluster.local/ns/shop/sa/web");
    assertThat(root.verify(Pem.parseCertificate(text(secret, "tls.crt")), Instant.now())).isEmpty();
    assertThat(TrustBundle.fromPem(text(secret, "ca.crt")).fingerprints()).isEqualTo(root.fingerprints());
    assertThat(Pem.parsePrivateKey(text(secret, "tls.key")).getAlgorithm()).isIn("EC", "ECDSA");
    assertThat(secret.getMetadata().getLabels()).containsEntry("weft.dev/identity", "workload");
    assertThat(secret.getMetadata().getAnnotations()).containsEntry("weft.dev/service-account", "web")
        .containsEntry("weft.dev/spiffe-id", "spiffe://cluster.local/ns/shop/sa/web");
    await("the summary counts it").atMost(BOUND)
        .until(() -> controller.report().map(CertificateSummary::issued).orElse(0) == 1);
    assertThat(controller.report().orElseThrow().expiring()).isEmpty();
    assertThat(client.secrets().inNamespace("shop").list().getItems()).hasSize(1);
  }

  @Test
  void keepsTheXdsServersCertificateInItsOwnNamespaceWithoutAMeshedPod() {
    controller = WorkloadCertificateController.start(client, Set.of("shop"),
        CertificateSettings.defaults().withXdsServiceAccount("weft-xds"), OPERATOR_NS, leading::get,
        Clock.systemUTC());

    Secret secret = awaitSecret(OPERATOR_NS, "weft-identity-weft-xds");
    assertThat(CertificateInfo.ofPem(text(secret, "tls.crt")).spiffeId())
        .contains("spiffe://cluster.local/ns/" + OPERATOR_NS + "/sa/weft-xds");
    await("a pass that counts it").atMost(BOUND)
        .until(() -> controller.report().map(CertificateSummary::issued).orElse(0) == 1);
    String version = client.secrets().inNamespace(OPERATOR_NS).withName("weft-identity-weft-xds").get()
        .getMetadata().getResourceVersion();
    assertThat(client.secrets().inNamespace(OPERATOR_NS).withName("weft-identity-weft-xds").get()
        .getMetadata().getResourceVersion()).as("kept, not reissued on every pass").isEqualTo(version);
  }

  @Test
  void issuesNothingForPodsOutsideTheMesh() {
    namespace("plain", Map.of());
    pod("plain", "web-1", "web");

    start(CertificateSettings.defaults());

    await("a pass").atMost(BOUND).until(() -> controller.report().isPresent());
    assertThat(client.secrets().inNamespace("plain").list().getItems()).isEmpty();
    assertThat(controller.report().orElseThrow().issued()).isZero();
  }

  @Test
  void deletesTheCertificateWhenNoMeshedPodUsesItAnyMore() {
    namespace("shop", Map.of("weft.dev/inject", "enabled"));
    pod("shop", "web-1", "web");
    pod("shop", "web-2", "web");
    start(CertificateSettings.defaults());
    awaitSecret("shop", "weft-identity-web");

    client.pods().inNamespace("shop").withName("web-1").delete();
    await("one pod still runs as web").during(Duration.ofMillis(600)).atMost(BOUND)
        .until(() -> client.secrets().inNamespace("shop").withName("weft-identity-web").get() != null);
    client.pods().inNamespace("shop").withName("web-2").delete();

    await("the Secret is garbage-collected").atMost(BOUND)
        .until(() -> client.secrets().inNamespace("shop").withName("weft-identity-web").get() == null);
  }

  @Test
  void renewsOnScheduleWithShortLifetimes() {
    namespace("shop", Map.of("weft.dev/inject", "enabled"));
    pod("shop", "web-1", "web");
    start(CertificateSettings.defaults().withIdentity(IdentitySettings.defaults()
        .withCertificateLifetime(Duration.ofSeconds(3))));
    String first = CertificateInfo.ofPem(text(awaitSecret("shop", "weft-identity-web"), "tls.crt")).serial();

    String second = await("renewed").atMost(BOUND).pollInterval(Duration.ofMillis(50)).until(
        () -> CertificateInfo.ofPem(text(client.secrets().inNamespace("shop").withName("weft-identity-web").get(),
            "tls.crt")).serial(), serial -> !serial.equals(first));

    assertThat(second).isNotEqualTo(first);
    assertThat(controller.report().orElseThrow().expiring()).as("renewed in time").isEmpty();
  }

  @Test
  void honoursABringYourOwnRootAndNeverWritesIt() {
    CertificateAuthority own = CertificateAuthority.selfSigned(IdentitySettings.defaults(), Instant.now(),
        new SecureRandom());
    Secret mine = new SecretBuilder().withNewMetadata().withNamespace(OPERATOR_NS).withName("my-root").endMetadata()
        .withType("kubernetes.io/tls")
        .withData(Map.of("tls.crt", CaSecrets.base64(own.root().certificatePem()),
            "tls.key", CaSecrets.base64(own.root().privateKeyPem())))
        .build();
    client.secrets().inNamespace(OPERATOR_NS).resource(mine).create();
    namespace("shop", Map.of("weft.dev/inject", "enabled"));
    pod("shop", "web-1", "web");

    start(new CertificateSettings(IdentitySettings.defaults(), "my-root", false, Duration.ofMinutes(1)));

    Secret secret = awaitSecret("shop", "weft-identity-web");
    assertThat(TrustBundle.of(own.root().certificate())
        .verify(Pem.parseCertificate(text(secret, "tls.crt")), Instant.now())).isEmpty();
    assertThat(client.secrets().inNamespace(OPERATOR_NS).withName("weft-ca").get()).isNull();
    assertThat(client.secrets().inNamespace(OPERATOR_NS).withName("my-root").get().getData())
        .isEqualTo(mine.getData());
  }

  @Test
  void saysWhenTheBroughtRootIsMissing() {
    namespace("shop", Map.of("weft.dev/inject", "enabled"));
    pod("shop", "web-1", "web");

    start(new CertificateSettings(IdentitySettings.defaults(), "my-root", false, Duration.ofMinutes(1)));

    CertificateSummary summary = await("a pass").atMost(BOUND)
        .until(() -> controller.report().orElse(null), r -> r != null);
    assertThat(summary.caProblem()).hasValueSatisfying(p -> assertThat(p)
        .contains("the CA Secret weft-system/my-root does not exist", "kubectl create secret tls"));
    assertThat(client.secrets().inNamespace("shop").list().getItems()).isEmpty();
  }

  @Test
  void putsASecondTrustedRootInEveryBundleWithoutReissuing() {
    namespace("shop", Map.of("weft.dev/inject", "enabled"));
    pod("shop", "web-1", "web");
    start(CertificateSettings.defaults());
    String serial = CertificateInfo.ofPem(text(awaitSecret("shop", "weft-identity-web"), "tls.crt")).serial();

    // Rotation, step 1: the next root joins ca.crt of the CA Secret.
    CertificateAuthority next = CertificateAuthority.selfSigned(IdentitySettings.defaults(), Instant.now(),
        new SecureRandom());
    Secret ca = client.secrets().inNamespace(OPERATOR_NS).withName("weft-ca").get();
    client.secrets().inNamespace(OPERATOR_NS).resource(new SecretBuilder(ca)
        .addToData("ca.crt", CaSecrets.base64(text(ca, "tls.crt") + next.root().certificatePem())).build()).update();
    // A pod event makes the controller look again before its resync.
    pod("shop", "web-2", "web");

    Secret updated = await("both roots in the bundle").atMost(BOUND).pollInterval(Duration.ofMillis(50))
        .until(() -> client.secrets().inNamespace("shop").withName("weft-identity-web").get(),
            s -> TrustBundle.fromPem(text(s, "ca.crt")).roots().size() == 2);
    assertThat(CertificateInfo.ofPem(text(updated, "tls.crt")).serial()).as("same leaf").isEqualTo(serial);
  }

  @Test
  void neverOverwritesASecretThatIsNotWefts() {
    namespace("shop", Map.of("weft.dev/inject", "enabled"));
    client.secrets().inNamespace("shop").resource(new SecretBuilder().withNewMetadata().withNamespace("shop")
        .withName("weft-identity-web").endMetadata().addToData("password", CaSecrets.base64("hunter2")).build()).create();
    pod("shop", "web-1", "web");

    start(CertificateSettings.defaults());

    await("a pass").atMost(BOUND).until(() -> controller.report().isPresent());
    assertThat(client.secrets().inNamespace("shop").withName("weft-identity-web").get().getData())
        .containsOnlyKeys("password");
  }

  @Test
  void aStandbyWritesNothing() {
    leading.set(false);
    namespace("shop", Map.of("weft.dev/inject", "enabled"));
    pod("shop", "web-1", "web");

    start(CertificateSettings.defaults());

    await("no Secret while standing by").during(Duration.ofMillis(800)).atMost(BOUND)
        .until(() -> client.secrets().inAnyNamespace().list().getItems().isEmpty());
    assertThat(controller.report()).isEmpty();
  }

  @Test
  void rotatesItsSelfSignedRootWithoutEverLeavingAWorkloadUntrusted() {
    namespace("shop", Map.of("weft.dev/inject", "enabled"));
    pod("shop", "web-1", "web");
    // A root living 10 s is due after about 6-7 s; each step then waits 1 s.
    start(CertificateSettings.defaults()
        .withIdentity(new IdentitySettings("cluster.local", Duration.ofSeconds(10), Duration.ofSeconds(4),
            dev.weft.operator.identity.KeyAlgorithm.ECDSA_P256))
        .withResync(Duration.ofMillis(200)).withRootOverlap(Duration.ofSeconds(1)));
    String firstRoot = CertificateInfo.ofPem(text(awaitSecret(OPERATOR_NS, "weft-ca"), "tls.crt")).fingerprint();
    java.util.List<String> untrusted = new java.util.concurrent.CopyOnWriteArrayList<>();
    long started = System.nanoTime();

    // Until the new root signs, finishes, and the bundle is back to one root, check on every poll
    // that the workload's leaf verifies against the workload's own bundle.
    await("the root rotated and the rotation finished").atMost(Duration.ofSeconds(40))
        .pollInterval(Duration.ofMillis(50)).until(() -> {
          Secret ca = client.secrets().inNamespace(OPERATOR_NS).withName("weft-ca").get();
          Secret web = client.secrets().inNamespace("shop").withName("weft-identity-web").get();
          TrustBundle bundle = TrustBundle.fromPem(text(web, "ca.crt"));
          // Trust, not timeliness: checked inside the leaf's validity, so a renewal a loaded machine
          // delays cannot pass for a broken chain.
          var leaf = Pem.parseCertificate(text(web, "tls.crt"));
          bundle.verify(leaf, leaf.getNotBefore().toInstant().plusMillis(200)).ifPresent(untrusted::add);
          boolean newRootSigns = !CertificateInfo.ofPem(text(ca, "tls.crt")).fingerprint().equals(firstRoot);
          boolean finished = ca.getMetadata().getAnnotations() == null
              || !ca.getMetadata().getAnnotations().containsKey(RootRotation.PHASE);
          return newRootSigns && finished && bundle.roots().size() == 1;
        });
    Secret ca = client.secrets().inNamespace(OPERATOR_NS).withName("weft-ca").get();
    Secret web = client.secrets().inNamespace("shop").withName("weft-identity-web").get();
    assertThat(TrustBundle.fromPem(text(ca, "tls.crt"))
        .verify(Pem.parseCertificate(text(web, "tls.crt")), Instant.now())).as("the leaf is the new root's").isEmpty();
    assertThat(untrusted).as("moments when the workload's leaf did not verify against its own bundle").isEmpty();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).as("not before the root was due")
        .isGreaterThan(Duration.ofSeconds(5));
  }

  @Test
  void aNamespaceThatRefusesTheSecretDoesNotHoldTheOthersBack() {
    server.expect().post().withPath("/api/v1/namespaces/locked/secrets")
        .andReturn(403, new io.fabric8.kubernetes.api.model.StatusBuilder().withCode(403)
            .withMessage("secrets is forbidden: exceeded quota").build())
        .always();
    namespace("locked", Map.of("weft.dev/inject", "enabled"));
    namespace("shop", Map.of("weft.dev/inject", "enabled"));
    pod("locked", "batch-1", "batch");
    pod("shop", "web-1", "web");

    start(CertificateSettings.defaults());

    awaitSecret("shop", "weft-identity-web");
    assertThat(client.secrets().inNamespace("locked").list().getItems()).isEmpty();
  }
}
