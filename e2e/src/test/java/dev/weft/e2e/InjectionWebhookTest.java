package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.awaitility.Awaitility.await;

import dev.weft.operator.certificates.CaSecrets;
import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.operator.injection.InjectionSettings;
import dev.weft.operator.webhook.InjectionWebhook;
import dev.weft.operator.webhook.WebhookSettings;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sidecar-injection webhook called by a real kube-apiserver over TLS: the operator's webhook
 * (in this JVM) serves with a certificate from the mesh CA and writes the CA bundle into the
 * Mutating- and ValidatingWebhookConfiguration it is named for; a pod created in a labelled
 * namespace is stored with the capture init container and the native Envoy sidecar (so the real
 * apiserver also validated what the injector wrote), an unlabelled namespace and an opted-out pod
 * are untouched, re-submitting an injected pod changes nothing, a pod borrowing another
 * ServiceAccount's identity Secret is refused with the reason, a malformed AdmissionReview gets a
 * 400 that says what is wrong, and the injected bootstrap is one a real Envoy accepts.
 */
@KubeApiServerTest
class InjectionWebhookTest {

  static final String MESH_NS = "inj-weft";
  static final String SHOP = "inj-shop";
  static final String PLAIN = "inj-plain";
  static final String CONFIGURATION = "weft-injection-e2e";
  static final Duration BOUND = Duration.ofSeconds(30);

  static KubernetesClient webhookClient;
  static InjectionWebhook webhook;
  static CertificateAuthority ca;

  @BeforeAll
  static void startTheWebhookAndRegisterIt(KubeApiServer server, Kubectl kubectl, KubernetesClient client)
      throws Exception {
    assumeTrue(server.isLocal(), "the apiserver must reach the webhook on this machine's loopback");
    kubectl.apply("""
        apiVersion: v1
        kind: Namespace
        metadata: {name: %s}
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: %s
          labels: {weft.dev/inject: enabled}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: %s}
        """.formatted(MESH_NS, SHOP, PLAIN)).requireSuccess();
    webhookClient = server.newClient();
    webhook = InjectionWebhook.start(webhookClient, new WebhookSettings(new InetSocketAddress("127.0.0.1", 0), "", "",
        List.of("127.0.0.1"), CONFIGURATION, MESH_NS, "weft-ca", KeyAlgorithm.ECDSA_P256, Duration.ofHours(1),
        Duration.ofSeconds(1)), InjectionSettings.of("weft-xds." + MESH_NS + ".svc", 18000, MESH_NS),
        Clock.systemUTC());
    // Before the mesh CA exists it has no certificate, and says so (the operator's /readyz with it).
    assertThat(webhook.notReadyBecause()).hasValueSatisfying(reason ->
        assertThat(reason).contains("no serving certificate").contains(MESH_NS + "/weft-ca"));
    // The root the operator's certificate controller would keep in its namespace.
    ca = CertificateAuthority.selfSigned(IdentitySettings.defaults(), Instant.now(), new SecureRandom());
    client.resource(CaSecrets.build(MESH_NS, "weft-ca", ca)).create();
    String url = "https://127.0.0.1:" + webhook.port();
    // No caBundle: the webhook writes it, and until then the apiserver cannot call it.
    kubectl.apply("""
        apiVersion: admissionregistration.k8s.io/v1
        kind: MutatingWebhookConfiguration
        metadata: {name: %1$s}
        webhooks:
        - name: inject.weft.dev
          clientConfig: {url: "%2$s/inject"}
          rules:
          - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods], scope: Namespaced}
          namespaceSelector:
            matchLabels: {weft.dev/inject: enabled}
          failurePolicy: Fail
          sideEffects: None
          admissionReviewVersions: [v1]
          reinvocationPolicy: Never
          timeoutSeconds: 10
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingWebhookConfiguration
        metadata: {name: %1$s}
        webhooks:
        - name: identity.weft.dev
          clientConfig: {url: "%2$s/validate"}
          rules:
          - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods], scope: Namespaced}
          namespaceSelector:
            matchLabels: {weft.dev/inject: enabled}
          failurePolicy: Fail
          sideEffects: None
          admissionReviewVersions: [v1]
          timeoutSeconds: 10
        """.formatted(CONFIGURATION, url)).requireSuccess();
    String bundle = Base64.getEncoder().encodeToString(ca.root().certificatePem().getBytes());
    await("the webhook writes the CA bundle into both configurations").atMost(BOUND)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> bundle.equals(client.admissionRegistration().v1().mutatingWebhookConfigurations()
            .withName(CONFIGURATION).get().getWebhooks().get(0).getClientConfig().getCaBundle())
            && bundle.equals(client.admissionRegistration().v1().validatingWebhookConfigurations()
            .withName(CONFIGURATION).get().getWebhooks().get(0).getClientConfig().getCaBundle()));
    assertThat(webhook.notReadyBecause()).isEmpty();
  }

  @AfterAll
  static void stopTheWebhook(Kubectl kubectl) {
    if (kubectl != null) {
      kubectl.run("delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration", CONFIGURATION,
          "--ignore-not-found");
    }
    if (webhook != null) {
      webhook.close();
    }
    if (webhookClient != null) {
      webhookClient.close();
    }
  }

  static Pod deploymentPod(String namespace, String serviceAccount) {
    // As a ReplicaSet creates them: no name yet, only generateName.
    return new PodBuilder().withNewMetadata().withGenerateName("payments-v1-").withNamespace(namespace)
        .addToLabels("app", "payments").endMetadata()
        .withNewSpec().withServiceAccountName(serviceAccount)
        .addNewContainer().withName("app").withImage("registry.invalid/payments:1")
        .addNewPort().withContainerPort(8080).endPort().endContainer().endSpec().build();
  }

  static List<String> names(List<Container> containers) {
    return containers == null ? List.of() : containers.stream().map(Container::getName).toList();
  }

  @Test
  void aPodInALabelledNamespaceIsStoredWithTheInitContainerAndTheNativeSidecar(KubernetesClient client,
      Kubectl kubectl) {
    Pod stored = client.resource(deploymentPod(SHOP, "payments")).create();

    assertThat(names(stored.getSpec().getInitContainers())).containsExactly("weft-init", "weft-proxy");
    assertThat(names(stored.getSpec().getContainers())).containsExactly("app");
    Container proxy = stored.getSpec().getInitContainers().get(1);
    assertThat(proxy.getRestartPolicy()).isEqualTo("Always");
    assertThat(proxy.getSecurityContext().getRunAsUser()).isEqualTo(1337L);
    assertThat(stored.getSpec().getVolumes()).anySatisfy(v ->
        assertThat(v.getSecret() == null ? null : v.getSecret().getSecretName()).isEqualTo("weft-identity-payments"));
    assertThat(stored.getMetadata().getAnnotations()).containsEntry("prometheus.io/port", "15090");
    System.out.println("$ kubectl get pod -n " + SHOP + " " + stored.getMetadata().getName()
        + " -o jsonpath='{.spec.initContainers[*].name} | {.spec.containers[*].name}'\n"
        + kubectl.run("get", "pod", "-n", SHOP, stored.getMetadata().getName(), "-o",
            "jsonpath={.spec.initContainers[*].name} | {.spec.containers[*].name}").requireSuccess().stdout());
  }

  @Test
  void aPodInAnUnlabelledNamespaceIsUntouched(KubernetesClient client) {
    Pod stored = client.resource(deploymentPod(PLAIN, "payments")).create();

    assertThat(names(stored.getSpec().getInitContainers())).isEmpty();
    assertThat(stored.getMetadata().getAnnotations()).isNullOrEmpty();
  }

  @Test
  void aPodThatOptsOutIsUntouched(KubernetesClient client) {
    Pod optedOut = new PodBuilder(deploymentPod(SHOP, "batch")).editMetadata()
        .addToAnnotations("weft.dev/inject", "false").endMetadata().build();

    Pod stored = client.resource(optedOut).create();

    assertThat(names(stored.getSpec().getInitContainers())).isEmpty();
    assertThat(stored.getMetadata().getAnnotations()).containsOnlyKeys("weft.dev/inject");
  }

  @Test
  void reSubmittingAnInjectedPodChangesNothing(KubernetesClient client) {
    Pod first = client.resource(deploymentPod(SHOP, "payments")).create();
    Pod again = new PodBuilder(first).editMetadata().withName(null).withUid(null).withResourceVersion(null)
        .withCreationTimestamp(null).withManagedFields(List.of()).endMetadata().withStatus(null).build();

    Pod second = client.resource(again).create();

    assertThat(second.getSpec().getInitContainers()).isEqualTo(first.getSpec().getInitContainers());
    assertThat(second.getSpec().getVolumes()).isEqualTo(first.getSpec().getVolumes());
    assertThat(second.getMetadata().getAnnotations()).isEqualTo(first.getMetadata().getAnnotations());
  }

  @Test
  void aPodBorrowingAnotherServiceAccountsIdentityIsRefused(Kubectl kubectl) {
    CommandResult refused = kubectl.apply("""
        apiVersion: v1
        kind: Pod
        metadata: {name: impostor, namespace: %s}
        spec:
          serviceAccountName: client
          containers:
          - {name: app, image: registry.invalid/app:1}
          volumes:
          - name: borrowed
            secret: {secretName: weft-identity-payments}
        """.formatted(SHOP));

    assertThat(refused.succeeded()).isFalse();
    assertThat(refused.stderr()).contains("identity.weft.dev").contains("denied the request")
        .contains("may mount only its own identity Secret 'weft-identity-client'")
        .contains("'weft-identity-payments'");
    System.out.println("$ kubectl apply -f impostor.yaml\n" + refused.stderr());
  }

  @Test
  void aPodWithAnUnreadableAnnotationIsRefusedNamingIt(Kubectl kubectl) {
    CommandResult refused = kubectl.apply("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: typo
          namespace: %s
          annotations: {weft.dev/exclude-outbound-ports: "postgres"}
        spec:
          containers:
          - {name: app, image: registry.invalid/app:1}
        """.formatted(SHOP));

    assertThat(refused.succeeded()).isFalse();
    assertThat(refused.stderr()).contains("inject.weft.dev").contains("'postgres' is not a port");
  }

  @Test
  void aMalformedAdmissionReviewGetsA400ThatSaysWhy() throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry("weft", CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(ca.root().certificatePem().getBytes())));
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, factory.getTrustManagers(), null);
    HttpClient http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();

    HttpResponse<String> response = http.send(HttpRequest.newBuilder(
            URI.create("https://127.0.0.1:" + webhook.port() + "/inject"))
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofString("{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": "
            + "\"AdmissionReview\", \"request\": {\"uid\": \"1\", \"kind\": {\"kind\": \"Pod\"}}}"))
        .build(), HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("malformed AdmissionReview: request.operation is missing");
    System.out.println("POST /inject (no operation, no object) -> " + response.statusCode() + " " + response.body());
  }

  @Test
  void theInjectedBootstrapIsOneARealEnvoyAccepts(KubernetesClient client) throws Exception {
    // With an HTTP readiness probe, which the sidecar's bootstrap forwards to the app.
    Pod probed = new PodBuilder(deploymentPod(SHOP, "payments")).editSpec().editFirstContainer()
        .withNewReadinessProbe().withNewHttpGet().withPath("/healthz").withNewPort(8080).endHttpGet()
        .endReadinessProbe().endContainer().endSpec().build();
    Pod stored = client.resource(probed).create();
    assertThat(stored.getSpec().getContainers().get(0).getReadinessProbe().getHttpGet().getPort().getIntVal())
        .isEqualTo(15021);
    Container proxy = stored.getSpec().getInitContainers().get(1);
    // What the kubelet does with $(WEFT_POD_NAME) in the arguments.
    List<String> args = proxy.getArgs().stream()
        .map(a -> a.replace("$(WEFT_POD_NAME)", stored.getMetadata().getName())).toList();
    Path log = Files.createTempFile("weft-envoy-validate", ".log");
    List<String> command = new java.util.ArrayList<>(List.of(WeftTools.locate().envoy().toString(),
        "--mode", "validate"));
    command.addAll(args);
    Process envoy = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();

    assertThat(envoy.waitFor(60, TimeUnit.SECONDS)).as("envoy --mode validate finished").isTrue();
    String output = Files.readString(log);
    assertThat(envoy.exitValue()).as(output).isZero();
    assertThat(String.join(" ", args)).contains("\"id\": \"" + stored.getMetadata().getName() + "." + SHOP + "\"")
        .contains("weft-app-probes");
  }
}
