package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.operator.certificates.CaSecrets;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.injection.InjectionSettings;
import dev.weft.operator.webhook.InjectionWebhook;
import dev.weft.operator.webhook.WebhookSettings;
import dev.weft.testsupport.Command;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chart's sidecar-injection part on the real helm and a real kube-apiserver: both webhook
 * configurations render with the selection and policies docs/injection.md describes and pass a
 * server-side dry run; values turn them off or change the failure policy; an install creates the
 * webhook Service and gives the operator exactly the RBAC the webhook needs (patching its own two
 * configurations, by name); the operator's webhook, run with the chart's environment as the
 * chart's ServiceAccount, writes the CA bundle into them; uninstall removes them.
 */
@KubeApiServerTest
class HelmInjectionChartTest {

  static final Path CHART = WeftTools.repoRoot().resolve("helm/weft");
  static final String RELEASE = "weft-inj";
  static final String NS = "weft-inj";
  static final String CONFIGURATION = "weft-inj-injection";
  static final String OPERATOR = "weft-inj-operator";

  static Path helmHome;
  static Path kubeconfig;

  @BeforeAll
  static void helmHome(KubeApiServer server) throws IOException {
    helmHome = Files.createTempDirectory("weft-helm-inj");
    kubeconfig = server.kubeconfig();
  }

  @AfterAll
  static void cleanUp() throws IOException {
    if (helmHome == null) {
      return;
    }
    helm("uninstall", RELEASE, "-n", NS, "--ignore-not-found");
    try (var files = Files.walk(helmHome)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static CommandResult helm(String... args) {
    List<String> command = new ArrayList<>(List.of(WeftTools.locate().helm().toString()));
    command.addAll(List.of(args));
    if (!List.of(args).contains("template")) {
      command.add("--kubeconfig=" + kubeconfig);
    }
    return Command.run(command, Map.of("HELM_CONFIG_HOME", helmHome.resolve("config").toString(),
        "HELM_CACHE_HOME", helmHome.resolve("cache").toString(), "HELM_DATA_HOME", helmHome.resolve("data").toString(),
        "KUBECONFIG", kubeconfig.toString()), null, Command.DEFAULT_TIMEOUT);
  }

  static List<HasMetadata> render(KubernetesClient client, String... set) {
    List<String> args = new ArrayList<>(List.of("template", RELEASE, CHART.toString(), "-n", NS));
    for (String s : set) {
      args.addAll(List.of("--set", s));
    }
    String yaml = helm(args.toArray(String[]::new)).requireSuccess().stdout();
    return client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
  }

  static <T extends HasMetadata> List<T> ofKind(List<HasMetadata> objects, Class<T> kind) {
    return objects.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  @Test
  void theMutatingWebhookSeesOnlyLabelledNamespacesAndFailsClosedByDefault(KubernetesClient client) {
    List<HasMetadata> objects = render(client);

    MutatingWebhookConfiguration mutating = ofKind(objects, MutatingWebhookConfiguration.class).get(0);
    assertThat(mutating.getMetadata().getName()).isEqualTo(CONFIGURATION);
    MutatingWebhook inject = mutating.getWebhooks().get(0);
    assertThat(inject.getName()).isEqualTo("inject.weft.dev");
    assertThat(inject.getClientConfig().getService().getName()).isEqualTo("weft-inj-webhook");
    assertThat(inject.getClientConfig().getService().getPath()).isEqualTo("/inject");
    assertThat(inject.getClientConfig().getCaBundle()).as("the operator writes it").isNull();
    assertThat(inject.getFailurePolicy()).isEqualTo("Fail");
    assertThat(inject.getSideEffects()).isEqualTo("None");
    assertThat(inject.getAdmissionReviewVersions()).containsExactly("v1");
    assertThat(inject.getReinvocationPolicy()).isEqualTo("Never");
    assertThat(inject.getTimeoutSeconds()).isEqualTo(10);
    assertThat(inject.getRules()).singleElement().satisfies(rule -> {
      assertThat(rule.getResources()).containsExactly("pods");
      assertThat(rule.getOperations()).containsExactly("CREATE");
    });
    assertThat(inject.getNamespaceSelector().getMatchExpressions()).anySatisfy(e -> {
      assertThat(e.getKey()).isEqualTo("weft.dev/inject");
      assertThat(e.getOperator()).isEqualTo("In");
      assertThat(e.getValues()).containsExactly("enabled");
    }).anySatisfy(e -> {
      assertThat(e.getKey()).isEqualTo("kubernetes.io/metadata.name");
      assertThat(e.getOperator()).isEqualTo("NotIn");
      assertThat(e.getValues()).containsExactly("kube-system", NS);
    });
    ValidatingWebhookConfiguration validating = ofKind(objects, ValidatingWebhookConfiguration.class).get(0);
    assertThat(validating.getWebhooks()).singleElement().satisfies(w -> {
      assertThat(w.getName()).isEqualTo("identity.weft.dev");
      assertThat(w.getClientConfig().getService().getPath()).isEqualTo("/validate");
      assertThat(w.getNamespaceSelector()).isEqualTo(inject.getNamespaceSelector());
    });
  }

  @Test
  void valuesSetTheFailurePolicyOrTurnInjectionOff(KubernetesClient client) {
    assertThat(ofKind(render(client, "injection.failurePolicy=Ignore"), MutatingWebhookConfiguration.class).get(0)
        .getWebhooks().get(0).getFailurePolicy()).isEqualTo("Ignore");
    // Without identities there is no certificate for the ADS port either: xDS must be plaintext too.
    for (String off : List.of("injection.enabled=false", "identity.enabled=false,xds.tls.enabled=false")) {
      List<HasMetadata> objects = render(client, off);
      assertThat(ofKind(objects, MutatingWebhookConfiguration.class)).as(off).isEmpty();
      assertThat(ofKind(objects, ValidatingWebhookConfiguration.class)).as(off).isEmpty();
      assertThat(ofKind(objects, Service.class)).extracting(s -> s.getMetadata().getName()).as(off)
          .doesNotContain("weft-inj-webhook");
    }
    CommandResult bad = helm("template", RELEASE, CHART.toString(), "--set", "injection.failurePolicy=Sometimes");
    assertThat(bad.exitCode()).isNotZero();
    assertThat(bad.stderr()).contains("at '/injection/failurePolicy'");
  }

  @Test
  void renderedWebhookConfigurationsPassServerSideDryRun(Kubectl kubectl) {
    String rendered = helm("template", RELEASE, CHART.toString(), "-n", "default", "--show-only",
        "templates/webhook-configurations.yaml").requireSuccess().stdout();

    CommandResult dryRun = kubectl.runWithInput(rendered, "apply", "--dry-run=server", "-f", "-").requireSuccess();

    assertThat(dryRun.stdout()).contains("mutatingwebhookconfiguration.admissionregistration.k8s.io/" + CONFIGURATION,
        "validatingwebhookconfiguration.admissionregistration.k8s.io/" + CONFIGURATION);
  }

  @Test
  void installGivesTheOperatorTheWebhookItsCertificateAndOnlyTheRbacItNeeds(KubeApiServer server,
      KubernetesClient client, Kubectl kubectl) throws Exception {
    CommandResult install = helm("install", RELEASE, CHART.toString(), "-n", NS, "--create-namespace",
        "--set", "injection.excludeOutboundPorts={5432}").requireSuccess();
    assertThat(install.stdout()).contains("kubectl label namespace shop weft.dev/inject=enabled");
    try {
      Service service = client.services().inNamespace(NS).withName("weft-inj-webhook").get();
      assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> {
        assertThat(p.getPort()).isEqualTo(443);
        assertThat(p.getTargetPort().getStrVal()).isEqualTo("webhook");
      });
      Container operator = client.apps().deployments().inNamespace(NS).withName(OPERATOR).get()
          .getSpec().getTemplate().getSpec().getContainers().get(0);
      assertThat(operator.getPorts()).anySatisfy(p -> {
        assertThat(p.getName()).isEqualTo("webhook");
        assertThat(p.getContainerPort()).isEqualTo(8443);
      });

      // What the operator makes of the chart's environment.
      Map<String, String> env = new HashMap<>();
      for (EnvVar var : operator.getEnv()) {
        if (var.getValue() != null) {
          env.put(var.getName(), var.getValue());
        }
      }
      env.put("WEFT_POD_NAMESPACE", NS);
      InjectionSettings injection = InjectionSettings.fromEnvironment(env).orElseThrow();
      assertThat(injection.xdsHost()).isEqualTo("weft-inj-xds." + NS + ".svc");
      assertThat(injection.xdsPort()).isEqualTo(18000);
      assertThat(injection.xdsServerId()).isEqualTo("spiffe://cluster.local/ns/" + NS + "/sa/weft-inj-xds");
      assertThat(injection.proxyImage()).isEqualTo("weft.local/envoy:1.40.0");
      assertThat(injection.initImage()).isEqualTo("weft.local/iptables:1.8.9");
      assertThat(injection.meshNamespace()).isEqualTo(NS);
      assertThat(injection.exclusions().outboundPorts()).containsExactly(5432);
      assertThat(injection.proxyResources().memoryLimit()).isEqualTo("256Mi");
      CertificateSettings certificates = CertificateSettings.fromEnvironment(env).orElseThrow();
      WebhookSettings webhook = WebhookSettings.fromEnvironment(env, certificates).orElseThrow();
      assertThat(webhook.dnsNames()).contains("weft-inj-webhook." + NS + ".svc");
      assertThat(webhook.configurationName()).isEqualTo(CONFIGURATION);

      // RBAC: its own two configurations by name, nobody else's.
      for (String kind : List.of("mutatingwebhookconfigurations", "validatingwebhookconfigurations")) {
        assertCan(kubectl, "patch", kind + "/" + CONFIGURATION, true);
        assertCan(kubectl, "get", kind + "/" + CONFIGURATION, true);
        assertCan(kubectl, "patch", kind + "/someone-elses", false);
        assertCan(kubectl, "delete", kind + "/" + CONFIGURATION, false);
        assertCan(kubectl, "create", kind, false);
      }

      // The webhook, as the chart's operator ServiceAccount with the chart's settings (but on
      // loopback), signs its certificate with the mesh CA and writes the bundle into both.
      CertificateAuthority ca = CertificateAuthority.selfSigned(IdentitySettings.defaults(), Instant.now(),
          new SecureRandom());
      client.resource(CaSecrets.build(NS, certificates.caSecret(), ca)).create();
      String bundle = Base64.getEncoder().encodeToString(ca.root().certificatePem().getBytes(StandardCharsets.UTF_8));
      WebhookSettings local = new WebhookSettings(new java.net.InetSocketAddress("127.0.0.1", 0),
          webhook.serviceName(), webhook.serviceNamespace(), List.of(), webhook.configurationName(),
          webhook.caNamespace(), webhook.caSecret(), webhook.keyAlgorithm(), webhook.certificateLifetime(),
          Duration.ofSeconds(1));
      try (KubernetesClient asOperator = server.newClientAs("system:serviceaccount:" + NS + ":" + OPERATOR,
              "system:serviceaccounts", "system:serviceaccounts:" + NS);
          InjectionWebhook running = InjectionWebhook.start(asOperator, local, injection, Clock.systemUTC())) {
        await("the webhook, as " + OPERATOR + ", writes the CA bundle").atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> bundle.equals(client.admissionRegistration().v1().mutatingWebhookConfigurations()
                .withName(CONFIGURATION).get().getWebhooks().get(0).getClientConfig().getCaBundle())
                && bundle.equals(client.admissionRegistration().v1().validatingWebhookConfigurations()
                .withName(CONFIGURATION).get().getWebhooks().get(0).getClientConfig().getCaBundle()));
        assertThat(running.notReadyBecause()).isEmpty();
      }
    } finally {
      helm("uninstall", RELEASE, "-n", NS).requireSuccess();
    }
    assertThat(client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(CONFIGURATION).get())
        .isNull();
    assertThat(client.admissionRegistration().v1().validatingWebhookConfigurations().withName(CONFIGURATION).get())
        .isNull();
    assertThat(client.services().inNamespace(NS).withName("weft-inj-webhook").get()).isNull();
  }

  private static void assertCan(Kubectl kubectl, String verb, String resource, boolean expected) {
    CommandResult result = kubectl.run("auth", "can-i", verb, resource,
        "--as=system:serviceaccount:" + NS + ":" + OPERATOR);
    assertThat(result.stdout().strip()).as(verb + " " + resource + ": " + result).isEqualTo(expected ? "yes" : "no");
  }
}
