package dev.weft.e2e;

import dev.weft.demo.SecretVolume;
import dev.weft.operator.identity.CertificateInfo;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.weft.api.v1alpha1.AccessPolicy;
import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.MeshStatus;
import dev.weft.api.v1alpha1.ResourceStatus;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.testsupport.Command;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import dev.weft.xds.XdsServerApp;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The helm chart on the real helm and a real kube-apiserver: lint is clean, the rendered manifests
 * pass a server-side dry run, bad values fail with the schema's message, install creates every
 * object and Established CRDs, a second release installs beside the first without a name in
 * common, and uninstall leaves only the CRDs behind. No kubelet: nothing runs.
 */
@KubeApiServerTest
class HelmChartTest {

  static final Path CHART = WeftTools.repoRoot().resolve("helm/weft");
  static final String NS = "weft-system";
  static final String RELEASE = "weft";
  static final String INSTANCE = "app.kubernetes.io/instance=" + RELEASE;
  /** The release the docs install: its names carry no extra prefix. */
  static final Release WEFT = new Release(RELEASE, NS, "weft");
  /** A second release, in a namespace of its own. */
  static final Release WEFT_B = new Release("weft-b", "weft-b", "weft-b");
  static final List<String> CRDS = List.of("trafficsplits.weft.dev", "virtualservices.weft.dev",
      "accesspolicies.weft.dev", "meshstatuses.weft.dev");

  static Path helmHome;
  static Path kubeconfig;

  @BeforeAll
  static void helmHome(KubeApiServer server) throws IOException {
    helmHome = Files.createTempDirectory("weft-helm");
    kubeconfig = server.kubeconfig();
  }

  /** A helm release and the names the chart derives from it. */
  record Release(String name, String namespace, String prefix) {

    String operator() {
      return prefix + "-operator";
    }

    String xds() {
      return prefix + "-xds";
    }

    CommandResult install(String... more) {
      List<String> args = new ArrayList<>(List.of("install", name, CHART.toString(), "-n", namespace,
          "--create-namespace"));
      args.addAll(List.of(more));
      return helm(args.toArray(String[]::new));
    }

    CommandResult uninstall() {
      return helm("uninstall", name, "-n", namespace, "--ignore-not-found");
    }
  }

  @AfterAll
  static void cleanUp() throws IOException {
    // Leave no release behind for the classes that run after this one.
    WEFT.uninstall();
    WEFT_B.uninstall();
    if (helmHome != null) {
      try (var files = Files.walk(helmHome)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** helm with its own config/cache/data dirs and the test apiserver's kubeconfig. */
  static CommandResult helm(String... args) {
    List<String> command = new ArrayList<>();
    command.add(WeftTools.locate().helm().toString());
    command.addAll(List.of(args));
    if (!List.of(args).contains("lint") && !List.of(args).contains("template")) {
      command.add("--kubeconfig=" + kubeconfig);
    }
    Map<String, String> env = Map.of(
        "HELM_CONFIG_HOME", helmHome.resolve("config").toString(),
        "HELM_CACHE_HOME", helmHome.resolve("cache").toString(),
        "HELM_DATA_HOME", helmHome.resolve("data").toString(),
        "KUBECONFIG", kubeconfig.toString());
    return Command.run(command, env, null, Command.DEFAULT_TIMEOUT);
  }

  @Test
  void lintIsCleanEvenStrict() {
    CommandResult lint = helm("lint", "--strict", CHART.toString()).requireSuccess();
    assertThat(lint.stdout()).contains("1 chart(s) linted, 0 chart(s) failed")
        .doesNotContain("[WARNING]").doesNotContain("[ERROR]");
  }

  @Test
  void renderedManifestsPassServerSideDryRun(Kubectl kubectl) {
    String dryRunNs = "weft-dryrun";
    kubectl.apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + dryRunNs + "\n").requireSuccess();
    String rendered = helm("template", RELEASE, CHART.toString(), "-n", dryRunNs, "--include-crds")
        .requireSuccess().stdout();
    assertThat(rendered).contains("kind: \"CustomResourceDefinition\"", "kind: Deployment",
        "kind: PodDisruptionBudget", "kind: ClusterRole", "kind: RoleBinding");

    CommandResult dryRun = kubectl.runWithInput(rendered, "apply", "--dry-run=server", "-f", "-")
        .requireSuccess();
    // Every object the chart renders was accepted by the apiserver's validation and admission.
    long objects = rendered.lines().filter(l -> l.startsWith("kind: ")).count();
    assertThat(dryRun.stdout().lines().filter(l -> l.contains("(server dry run)")).count())
        .as(dryRun.stdout()).isEqualTo(objects);
  }

  @ParameterizedTest(name = "{0} fails with \"{1}\"")
  @CsvSource(delimiter = '|', value = {
      "xds.replicas=zero          | at '/xds/replicas': got string, want integer",
      "xds.replicas=0             | at '/xds/replicas': minimum: got 0, want 1",
      "operator.replicas=-1       | at '/operator/replicas': minimum: got -1, want 1",
      "xds.xdsPort=70000          | at '/xds/xdsPort': maximum",
      "image.pullPolicy=Sometimes | at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'",
      "image.xds.repository=      | at '/image/xds/repository': minLength",
      "replicas=2                 | additional properties 'replicas' not allowed",
      "fullnameOverride=Weft      | at '/fullnameOverride': 'Weft' does not match pattern",
  })
  void badValuesFailWithTheSchemasMessage(String set, String message) {
    CommandResult template = helm("template", RELEASE, CHART.toString(), "--set", set);
    assertThat(template.exitCode()).as(template.toString()).isNotZero();
    assertThat(template.stderr()).contains("values don't meet the specifications of the schema", message);

    CommandResult install = helm("install", "weft-bad", CHART.toString(), "-n", "weft-bad",
        "--create-namespace", "--set", set);
    assertThat(install.exitCode()).as(install.toString()).isNotZero();
    assertThat(install.stderr()).contains(message);
    assertThat(helm("status", "weft-bad", "-n", "weft-bad").exitCode()).isNotZero();
  }

  @Test
  void installCreatesEveryObjectAndUninstallLeavesOnlyTheCrds(KubernetesClient client, Kubectl kubectl,
      KubeApiServer server) throws Exception {
    // Other classes in this JVM may have applied the CRDs with kubectl already: helm then skips them
    // (crds/ is install-only), otherwise it creates them. Either way they end up Established.
    boolean crdsExisted = CRDS.stream()
        .allMatch(n -> client.apiextensions().v1().customResourceDefinitions().withName(n).get() != null);

    CommandResult install = helm("install", RELEASE, CHART.toString(), "-n", NS, "--create-namespace")
        .requireSuccess();
    assertThat(install.stdout()).contains("STATUS: deployed", "kubectl get meshstatus", "TrafficSplit");
    System.out.println("helm install (CRDs existed before: " + crdsExisted + ")\n" + install.stdout());

    kubectl.withTimeout(Duration.ofSeconds(90)).run(concat(List.of("wait", "--for=condition=Established",
        "--timeout=60s"), CRDS.stream().map(n -> "crd/" + n).toList()).toArray(String[]::new)).requireSuccess();
    for (String name : CRDS) {
      CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().withName(name).get();
      assertThat(crd.getStatus().getConditions()).as(name)
          .anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Established");
            assertThat(c.getStatus()).isEqualTo("True");
          });
    }

    // Deployments: replicas, hardening, probes, environment.
    Deployment operator = client.apps().deployments().inNamespace(NS).withName("weft-operator").get();
    assertThat(operator).isNotNull();
    assertThat(operator.getSpec().getReplicas()).isEqualTo(2);
    Container op = assertHardened(operator.getSpec().getTemplate().getSpec(), "weft-operator");
    assertThat(op.getImage()).isEqualTo("ghcr.io/weft-mesh/weft-operator:0.1.0");
    assertThat(op.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(op.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(op.getPorts()).anySatisfy(p -> assertThat(p.getContainerPort()).isEqualTo(8080));
    Map<String, EnvVar> opEnv = env(op);
    assertThat(opEnv.get("WEFT_LEADER_ELECTION").getValue()).isEqualTo("true");
    assertThat(opEnv.get("WEFT_XDS_NAMESPACE").getValue()).isEqualTo(NS);
    assertThat(opEnv.get("WEFT_LEASE_NAME").getValue()).isEqualTo("weft-operator");
    assertThat(opEnv.get("WEFT_POD_NAME").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
    assertThat(opEnv.get("WEFT_POD_NAMESPACE").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("metadata.namespace");
    // Authenticated xDS by default: the operator issues the xds-server's certificate with its
    // Service's DNS names, and the xds-server mounts it (optional: the operator may not lead yet).
    assertThat(opEnv.get("WEFT_XDS_SERVICE_ACCOUNT").getValue()).isEqualTo("weft-xds");
    assertThat(opEnv.get("WEFT_XDS_SERVICE").getValue()).isEqualTo("weft-xds");
    assertThat(opEnv.get("WEFT_CLUSTER_DOMAIN").getValue()).isEqualTo("cluster.local");

    Deployment xds = client.apps().deployments().inNamespace(NS).withName("weft-xds").get();
    assertThat(xds).isNotNull();
    assertThat(xds.getSpec().getReplicas()).isEqualTo(2);
    PodSpec xdsPod = xds.getSpec().getTemplate().getSpec();
    Container xc = assertHardened(xdsPod, "weft-xds");
    assertThat(xc.getImage()).isEqualTo("ghcr.io/weft-mesh/weft-xds-server:0.1.0");
    assertThat(xc.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http-monitoring");
    assertThat(xc.getPorts()).extracting(p -> p.getContainerPort()).containsExactly(18000, 15014);
    Map<String, EnvVar> xdsEnv = env(xc);
    assertThat(xdsEnv.get("WEFT_SYNC_REPORT").getValue()).isEqualTo("true");
    assertThat(xdsEnv.get("WEFT_XDS_TLS_DIRECTORY").getValue()).isEqualTo("/var/run/weft/xds-tls");
    // The heap ScaleBench measures the 1,000-Service mesh at, with room beside it in the limit.
    assertThat(xdsEnv.get("JDK_JAVA_OPTIONS").getValue()).isEqualTo("-Xmx256m -XX:+UseG1GC");
    assertThat(xc.getResources().getLimits().get("memory").toString()).isEqualTo("1Gi");
    assertThat(xc.getVolumeMounts()).anySatisfy(m -> {
      assertThat(m.getMountPath()).isEqualTo("/var/run/weft/xds-tls");
      assertThat(m.getReadOnly()).isTrue();
    });
    assertThat(xdsPod.getVolumes()).filteredOn(v -> v.getSecret() != null).singleElement().satisfies(v -> {
      assertThat(v.getSecret().getSecretName()).isEqualTo("weft-identity-weft-xds");
      assertThat(v.getSecret().getOptional()).isTrue();
    });
    assertThat(xdsEnv.get("WEFT_POD_NAME").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
    assertThat(xdsPod.getTopologySpreadConstraints()).singleElement()
        .satisfies(t -> assertThat(t.getTopologyKey()).isEqualTo("kubernetes.io/hostname"));

    PodDisruptionBudget pdb = client.policy().v1().podDisruptionBudget().inNamespace(NS).withName("weft-xds").get();
    assertThat(pdb).isNotNull();
    assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isEqualTo(1);

    // Services and ServiceAccounts.
    Service xdsService = client.services().inNamespace(NS).withName("weft-xds").get();
    assertThat(xdsService.getSpec().getPorts()).extracting(ServicePort::getName, ServicePort::getPort)
        .containsExactly(tuple("grpc", 18000),
            tuple("http-monitoring", 15014));
    Service opService = client.services().inNamespace(NS).withName("weft-operator").get();
    assertThat(opService.getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(8080);
    assertThat(client.serviceAccounts().inNamespace(NS).withName("weft-operator").get()).isNotNull();
    assertThat(client.serviceAccounts().inNamespace(NS).withName("weft-xds").get()).isNotNull();

    // RBAC: the roles exist, are bound, and the xds-server's cluster-wide role is read-only.
    for (String name : List.of("weft-operator", "weft-xds")) {
      assertThat(client.rbac().clusterRoles().withName(name).get()).as("ClusterRole " + name).isNotNull();
      assertThat(client.rbac().clusterRoleBindings().withName(name).get()).as("ClusterRoleBinding " + name)
          .isNotNull();
      assertThat(client.rbac().roles().inNamespace(NS).withName(name).get()).as("Role " + name).isNotNull();
      assertThat(client.rbac().roleBindings().inNamespace(NS).withName(name).get()).as("RoleBinding " + name)
          .isNotNull();
    }
    ClusterRole xdsRole = client.rbac().clusterRoles().withName("weft-xds").get();
    assertThat(xdsRole.getRules()).flatExtracting(PolicyRule::getVerbs).containsOnly("get", "list", "watch");
    Role operatorRole = client.rbac().roles().inNamespace(NS).withName("weft-operator").get();
    assertThat(operatorRole.getRules()).anySatisfy(r -> {
      assertThat(r.getResources()).containsExactly("leases");
      assertThat(r.getResourceNames()).containsExactly("weft-operator");
      assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "update", "patch");
    });
    // NetworkPolicies: the ADS and monitoring ports of the xds-server, metrics and webhook of the operator.
    assertThat(client.network().v1().networkPolicies().inNamespace(NS).list().getItems())
        .extracting(np -> np.getMetadata().getName()).containsExactlyInAnyOrder("weft-operator", "weft-xds");
    assertThat(client.network().v1().networkPolicies().inNamespace(NS).withName("weft-xds").get().getSpec()
        .getIngress()).flatExtracting(rule -> rule.getPorts()).extracting(port -> port.getPort().getStrVal())
        .containsExactly("grpc", "http-monitoring");
    assertThat(xdsEnv.get("WEFT_DEBUG_PAGES_ADDRESS").getValue()).isEqualTo("127.0.0.1");
    // The service accounts may do what the components need, and the xds-server not more.
    assertChartPermissions(kubectl, WEFT);

    componentsWorkWithOnlyTheChartsPermissions(server, client, kubectl, WEFT, "helm-rbac");

    // Uninstall: nothing of the release is left but the CRDs.
    helm("uninstall", RELEASE, "-n", NS).requireSuccess();
    List<String> leftovers = new ArrayList<>();
    for (String kind : List.of("deployments", "services", "serviceaccounts", "poddisruptionbudgets",
        "roles", "rolebindings", "configmaps", "secrets")) {
      String out = kubectl.run("get", kind, "-n", NS, "-l", INSTANCE, "-o", "name").requireSuccess().stdout();
      out.lines().filter(l -> !l.isBlank()).forEach(leftovers::add);
    }
    for (String kind : List.of("clusterroles", "clusterrolebindings")) {
      String out = kubectl.run("get", kind, "-l", INSTANCE, "-o", "name").requireSuccess().stdout();
      out.lines().filter(l -> !l.isBlank()).forEach(leftovers::add);
    }
    // helm's own release record (Secret sh.helm.release.v1.weft.v1) goes too.
    kubectl.run("get", "secrets", "-n", NS, "-l", "owner=helm,name=" + RELEASE, "-o", "name").requireSuccess()
        .stdout().lines().filter(l -> !l.isBlank()).forEach(leftovers::add);
    assertThat(leftovers).as("objects left after helm uninstall").isEmpty();
    assertThat(client.apps().deployments().inNamespace(NS).withName("weft-xds").get()).isNull();
    assertThat(client.rbac().clusterRoles().withName("weft-operator").get()).isNull();
    for (String name : CRDS) {
      assertThat(client.apiextensions().v1().customResourceDefinitions().withName(name).get())
          .as("CRD %s stays after uninstall", name).isNotNull();
    }
  }

  @Test
  void watchNamespacesGrantsTheReadsInThoseNamespacesOnly(KubeApiServer server, KubernetesClient client,
      Kubectl kubectl) throws Exception {
    String watched = "helm-scoped";
    // The Roles go into the watched namespaces, so they exist before the install (docs/install.md).
    new MeshObjects(client, watched).createNamespace();
    try {
      helm("upgrade", "--install", RELEASE, CHART.toString(), "-n", NS, "--create-namespace",
          "--set", "watchNamespaces={" + watched + "}").requireSuccess();

      assertCan(kubectl, NS, "weft-xds", "list", "services", watched, true);
      assertCan(kubectl, NS, "weft-xds", "list", "endpointslices.discovery.k8s.io", watched, true);
      assertCan(kubectl, NS, "weft-xds", "list", "services", "shop", false);
      assertCan(kubectl, NS, "weft-xds", "list", "trafficsplits.weft.dev", "shop", false);
      assertCan(kubectl, NS, "weft-xds", "list", "pods", watched, true);
      assertCan(kubectl, NS, "weft-xds", "list", "pods", "shop", false);
      assertCanNamed(kubectl, NS, "weft-xds", "watch", "namespaces", watched, "", true);
      assertCanNamed(kubectl, NS, "weft-xds", "get", "namespaces", "shop", "", false);
      assertCan(kubectl, NS, "weft-operator", "patch", "trafficsplits.weft.dev/status", watched, true);
      assertCan(kubectl, NS, "weft-operator", "patch", "trafficsplits.weft.dev/status", "shop", false);
      assertCan(kubectl, NS, "weft-operator", "list", "services", "shop", false);
      assertCan(kubectl, NS, "weft-operator", "create", "events", "shop", false);
      assertCan(kubectl, NS, "weft-operator", "update", "meshstatuses.weft.dev/status", "", true);
      // The xds-server's certificate lives in the release namespace, which is not watched here.
      assertCanNamed(kubectl, NS, "weft-operator", "update", "secrets", "weft-identity-weft-xds", NS, true);
      assertCanNamed(kubectl, NS, "weft-operator", "update", "secrets", "some-other-secret", NS, false);
      assertCanNamed(kubectl, NS, "weft-operator", "delete", "secrets", "weft-identity-weft-xds", NS, false);
      assertThat(client.rbac().clusterRoles().withName("weft-xds").get())
          .as("no cluster-wide role for the xds-server when it watches named namespaces").isNull();

      componentsWorkWithOnlyTheChartsPermissions(server, client, kubectl, WEFT, watched);
    } finally {
      helm("uninstall", RELEASE, "-n", NS, "--ignore-not-found");
    }
  }

  @Test
  void aSecondReleaseInstallsBesideTheFirstWithoutANameInCommon(KubeApiServer server, KubernetesClient client,
      Kubectl kubectl) throws Exception {
    try {
      WEFT.install().requireSuccess();
      CommandResult second = WEFT_B.install().requireSuccess();
      assertThat(second.stdout()).contains("deployment/weft-b-operator", "weft-b-xds.weft-b.svc:18000");

      for (Release release : List.of(WEFT, WEFT_B)) {
        String ns = release.namespace();
        Deployment operator = client.apps().deployments().inNamespace(ns).withName(release.operator()).get();
        assertThat(operator).as("Deployment %s/%s", ns, release.operator()).isNotNull();
        assertThat(operator.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo(release.operator());
        Map<String, EnvVar> opEnv = env(operator.getSpec().getTemplate().getSpec().getContainers().get(0));
        assertThat(opEnv.get("WEFT_LEASE_NAME").getValue()).isEqualTo(release.operator());
        assertThat(opEnv.get("WEFT_XDS_NAMESPACE").getValue()).isEqualTo(ns);
        assertThat(operator.getSpec().getSelector().getMatchLabels())
            .containsEntry("app.kubernetes.io/instance", release.name());
        Deployment xds = client.apps().deployments().inNamespace(ns).withName(release.xds()).get();
        assertThat(xds.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo(release.xds());
        assertThat(client.services().inNamespace(ns).withName(release.xds()).get()).isNotNull();
        assertThat(client.services().inNamespace(ns).withName(release.operator()).get()).isNotNull();
        assertThat(client.policy().v1().podDisruptionBudget().inNamespace(ns).withName(release.xds()).get())
            .isNotNull();
        for (String name : List.of(release.operator(), release.xds())) {
          ClusterRoleBinding binding = client.rbac().clusterRoleBindings().withName(name).get();
          assertThat(binding).as("ClusterRoleBinding " + name).isNotNull();
          assertThat(binding.getRoleRef().getName()).isEqualTo(name);
          assertThat(binding.getSubjects()).singleElement().satisfies(subject -> {
            assertThat(subject.getName()).isEqualTo(name);
            assertThat(subject.getNamespace()).isEqualTo(ns);
          });
          assertThat(client.rbac().clusterRoles().withName(name).get().getMetadata().getLabels())
              .containsEntry("app.kubernetes.io/instance", release.name());
        }
        assertChartPermissions(kubectl, release);
      }

      // The second release's components elect a leader on their own Lease and work with their own RBAC.
      componentsWorkWithOnlyTheChartsPermissions(server, client, kubectl, WEFT_B, "helm-b");

      // A second release in the same namespace would read the first one's sync reports: refused.
      CommandResult third = new Release("weft-c", NS, "weft-c").install();
      assertThat(third.exitCode()).as(third.toString()).isNotZero();
      assertThat(third.stderr()).contains("namespace weft-system already holds the Weft release weft; install each "
          + "Weft release into its own namespace");

      // Removing one release leaves the other whole.
      WEFT_B.uninstall().requireSuccess();
      assertThat(client.apps().deployments().inNamespace(WEFT_B.namespace()).withName(WEFT_B.operator()).get())
          .isNull();
      assertThat(client.rbac().clusterRoles().withName(WEFT_B.operator()).get()).isNull();
      assertThat(client.apps().deployments().inNamespace(NS).withName(WEFT.operator()).get()).isNotNull();
      for (String name : List.of(WEFT.operator(), WEFT.xds())) {
        assertThat(client.rbac().clusterRoles().withName(name).get()).as("ClusterRole " + name).isNotNull();
        assertThat(client.rbac().clusterRoleBindings().withName(name).get()).as("ClusterRoleBinding " + name)
            .isNotNull();
      }
    } finally {
      WEFT_B.uninstall();
      WEFT.uninstall();
    }
  }

  /** What each of the release's ServiceAccounts may and may not do, with the default (cluster-wide) values. */
  private static void assertChartPermissions(Kubectl kubectl, Release release) {
    String ns = release.namespace();
    assertCan(kubectl, ns, release.operator(), "patch", "trafficsplits.weft.dev/status", "shop", true);
    assertCan(kubectl, ns, release.operator(), "patch", "accesspolicies.weft.dev/status", "shop", true);
    // Leader election: only the release's own Lease.
    assertCanNamed(kubectl, ns, release.operator(), "update", "leases.coordination.k8s.io", release.operator(), ns,
        true);
    assertCanNamed(kubectl, ns, release.operator(), "update", "leases.coordination.k8s.io", "someone-elses", ns,
        false);
    assertCanNamed(kubectl, ns, release.operator(), "delete", "leases.coordination.k8s.io", release.operator(), ns,
        false);
    assertCan(kubectl, ns, release.operator(), "update", "trafficsplits.weft.dev", "shop", false);
    assertCan(kubectl, ns, release.operator(), "create", "events", "shop", true);
    assertCan(kubectl, ns, release.operator(), "update", "meshstatuses.weft.dev/status", "", true);
    assertCan(kubectl, ns, release.operator(), "delete", "meshstatuses.weft.dev", "", false);
    assertCan(kubectl, ns, release.operator(), "list", "configmaps", "shop", false);
    assertCan(kubectl, ns, release.xds(), "list", "endpointslices.discovery.k8s.io", "shop", true);
    // mTLS: which endpoints are meshed and as whom (Pods), which namespaces are permissive.
    assertCan(kubectl, ns, release.xds(), "watch", "pods", "shop", true);
    assertCan(kubectl, ns, release.xds(), "create", "pods", "shop", false);
    assertCan(kubectl, ns, release.xds(), "watch", "namespaces", "", true);
    assertCan(kubectl, ns, release.xds(), "update", "namespaces", "", false);
    assertCan(kubectl, ns, release.xds(), "patch", "configmaps", ns, true);
    assertCan(kubectl, ns, release.xds(), "update", "configmaps", ns, false);
    assertCan(kubectl, ns, release.xds(), "patch", "configmaps", "shop", false);
    assertCan(kubectl, ns, release.xds(), "patch", "trafficsplits.weft.dev/status", "shop", false);
    // Identity: the operator keeps the CA Secret and the workload certificate Secrets; the xds-server
    // may read no Secret at all, least of all the CA's.
    String ca = release.prefix() + "-ca";
    assertCanNamed(kubectl, ns, release.operator(), "get", "secrets", ca, ns, true);
    assertCanNamed(kubectl, ns, release.operator(), "update", "secrets", ca, ns, true);
    assertCan(kubectl, ns, release.operator(), "create", "secrets", "shop", true);
    assertCan(kubectl, ns, release.operator(), "delete", "secrets", "shop", true);
    assertCan(kubectl, ns, release.operator(), "patch", "secrets", "shop", false);
    assertCan(kubectl, ns, release.operator(), "list", "pods", "shop", true);
    assertCan(kubectl, ns, release.operator(), "create", "pods", "shop", false);
    assertCan(kubectl, ns, release.operator(), "list", "namespaces", "", true);
    assertCan(kubectl, ns, release.operator(), "update", "namespaces", "", false);
    assertCanNamed(kubectl, ns, release.xds(), "get", "secrets", ca, ns, false);
    assertCan(kubectl, ns, release.xds(), "list", "secrets", ns, false);
    assertCan(kubectl, ns, release.xds(), "get", "secrets", "shop", false);
  }

  /** Like {@link #assertCan} for one named object ({@code kubectl auth can-i VERB TYPE/NAME}). */
  private static void assertCanNamed(Kubectl kubectl, String saNamespace, String sa, String verb, String resource,
      String name, String namespace, boolean expected) {
    CommandResult result = kubectl.run("auth", "can-i", verb, resource + "/" + name, "-n", namespace,
        "--as=system:serviceaccount:" + saNamespace + ":" + sa);
    assertThat(result.stdout().strip()).as(result.toString()).isEqualTo(expected ? "yes" : "no");
  }

  /**
   * The real operator and xds-server, in this JVM, configured from the environment the chart sets and
   * authenticated as the chart's ServiceAccounts: leader election, validation, status writes, the
   * sync report and MeshStatus all work with the chart's RBAC and nothing more.
   */
  private static void componentsWorkWithOnlyTheChartsPermissions(KubeApiServer server, KubernetesClient admin,
      Kubectl kubectl, Release release, String appNs) throws Exception {
    String ns = release.namespace();
    MeshObjects objects = new MeshObjects(admin, appNs);
    objects.createNamespace();
    for (String service : List.of("payments", "payments-v1", "payments-v2")) {
      objects.service(service, 80);
    }
    String xdsPod = release.xds() + "-test";
    String operatorPod = release.operator() + "-test";
    // The environment the chart gives each container, then what a pod would get from the downward API
    // and what the test needs (loopback, free ports, only the app namespace of this test).
    Map<String, String> xdsEnv = chartEnv(admin, ns, release.xds());
    assertThat(xdsEnv.get("WEFT_XDS_TLS_DIRECTORY")).as("authenticated xDS by default").isNotBlank();
    // Where the kubelet would mount the xds-server's certificate Secret (optional, so empty at first).
    Path xdsTls = Files.createTempDirectory("weft-xds-tls");
    xdsEnv.putAll(Map.of("WEFT_BIND_ADDRESS", "127.0.0.1", "WEFT_XDS_PORT", "0", "WEFT_DEBUG_PORT", "0",
        "WEFT_WATCH_NAMESPACES", appNs, "WEFT_POD_NAME", xdsPod, "WEFT_POD_NAMESPACE", ns,
        "WEFT_XDS_TLS_DIRECTORY", xdsTls.toString()));
    Map<String, String> operatorEnv = chartEnv(admin, ns, release.operator());
    operatorEnv.putAll(Map.of("WEFT_BIND_ADDRESS", "127.0.0.1", "WEFT_OPERATOR_HTTP_PORT", "0",
        "WEFT_WATCH_NAMESPACES", appNs, "WEFT_POD_NAME", operatorPod, "WEFT_POD_NAMESPACE", ns));
    String lease = operatorEnv.get("WEFT_LEASE_NAME");
    assertThat(lease).as("the Lease the chart names").isEqualTo(release.operator());
    String[] saGroups = {"system:serviceaccounts", "system:serviceaccounts:" + ns};
    try (KubernetesClient xdsClient = asPod(server, ns, release.xds(), xdsPod);
        KubernetesClient operatorClient =
            server.newClientAs("system:serviceaccount:" + ns + ":" + release.operator(), saGroups);
        XdsServerApp xds = XdsServerApp.start(xdsClient, XdsServerApp.Config.fromEnvironment(xdsEnv));
        WeftOperator operator = WeftOperator.start(operatorClient, WeftOperator.Config.fromEnvironment(operatorEnv))) {
      admin.resource(new GenericKubernetesResourceBuilder()
          .withApiVersion("weft.dev/v1alpha1").withKind("TrafficSplit")
          .withNewMetadata().withName("payments-canary").withNamespace(appNs).endMetadata()
          .addToAdditionalProperties("spec", Map.of("service", "payments", "backends", List.of(
              Map.of("service", "payments-v1", "weight", 90), Map.of("service", "payments-v2", "weight", 10))))
          .build()).serverSideApply();
      kubectl.apply("""
          apiVersion: weft.dev/v1alpha1
          kind: AccessPolicy
          metadata:
            name: payments-callers
            namespace: %s
          spec:
            service: payments
            rules:
            - from:
              - serviceAccount: checkout
          """.formatted(appNs)).requireSuccess();

      Condition accepted = awaitCondition(admin, TrafficSplit.class, appNs, "payments-canary", "Accepted",
          "the operator, as " + release.operator() + ", writes Accepted");
      assertThat(accepted.getStatus()).as(accepted.toString()).isEqualTo(Condition.Status.True);
      // An AccessPolicy is valid (Accepted) but says it is not enforced, in a condition and a column.
      Condition enforced = awaitCondition(admin, AccessPolicy.class, appNs, "payments-callers", "Enforced",
          "the operator writes Enforced on an AccessPolicy");
      assertThat(enforced.getStatus()).as(enforced.toString()).isEqualTo(Condition.Status.False);
      assertThat(enforced.getReason()).isEqualTo("NotImplemented");
      assertThat(enforced.getMessage()).contains("sidecars do not enforce AccessPolicy yet");
      CommandResult policies = kubectl.run("get", "accesspolicies", "-n", appNs).requireSuccess();
      assertThat(policies.stdout().lines().findFirst().orElseThrow().split("\\s+"))
          .containsExactly("NAME", "SERVICE", "ACTION", "ACCEPTED", "ENFORCED", "AGE");
      assertThat(policies.stdout()).containsPattern("payments-callers\\s+payments\\s+Allow\\s+True\\s+False\\s");
      System.out.println(policies.stdout());

      await("the xds-server, as " + release.xds() + ", writes its sync report")
          .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> admin.configMaps().inNamespace(ns).withName("weft-xds-sync-" + xdsPod).get() != null);
      // One replica may write only its own report: the admission policy compares the ConfigMap's name
      // with the pod the caller's token is bound to.
      String otherReport = "weft-xds-sync-" + release.xds() + "-other";
      admin.configMaps().inNamespace(ns).withName(otherReport).delete();
      try (KubernetesClient otherReplica = asPod(server, ns, release.xds(), release.xds() + "-other")) {
        otherReplica.configMaps().inNamespace(ns).resource(new ConfigMapBuilder().withNewMetadata()
            .withName(otherReport).endMetadata().addToData("report", "{}").build()).create();
        // The way the replica writes its own (server-side apply), aimed at the other one.
        assertThatThrownBy(() -> xdsClient.configMaps().inNamespace(ns).resource(new ConfigMapBuilder()
            .withNewMetadata().withName(otherReport).endMetadata().addToData("report", "forged").build())
            .fieldManager("weft-xds-sync-report").forceConflicts().serverSideApply())
            .as("a replica rewrites another's report")
            .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getMessage())
                .contains("may write only its own pod's sync report"));
        assertThatThrownBy(() -> xdsClient.configMaps().inNamespace(ns).withName(otherReport).delete())
            .as("a replica deletes another's report")
            .isInstanceOf(KubernetesClientException.class);
        assertThatThrownBy(() -> xdsClient.configMaps().inNamespace(ns).resource(new ConfigMapBuilder()
            .withNewMetadata().withName("weft-unrelated").endMetadata().build()).create())
            .as("the xds-server creates another ConfigMap").isInstanceOf(KubernetesClientException.class);
        otherReplica.configMaps().inNamespace(ns).withName(otherReport).delete();
        System.out.println("as " + release.xds() + " in pod " + xdsPod + ": its own report written; "
            + otherReport + " (another pod's) cannot be rewritten or deleted, no other ConfigMap created");
      }
      await("the operator, as " + release.operator() + ", keeps MeshStatus")
          .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> {
            MeshStatus mesh = admin.resources(MeshStatus.class).withName(MeshStatus.NAME).get();
            return mesh != null && mesh.getStatus() != null;
          });
      var held = admin.resources(Lease.class).inNamespace(ns).withName(lease).get();
      assertThat(held).as("the Lease " + lease).isNotNull();
      assertThat(held.getSpec().getHolderIdentity()).isEqualTo(operatorPod);
      // The leader renews the Lease every retry period (2 s): a renewal the RBAC refuses would make it
      // lose the Lease and exit, so wait for one to land.
      var firstRenewal = held.getSpec().getRenewTime();
      await("the leader, as " + release.operator() + ", renews its Lease")
          .atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
          .until(() -> {
            var now = admin.resources(Lease.class).inNamespace(ns).withName(lease).get().getSpec();
            return operatorPod.equals(now.getHolderIdentity()) && !firstRenewal.equals(now.getRenewTime());
          });
      // Identity under the chart's RBAC: a meshed pod's ServiceAccount gets its certificate Secret, the
      // operator created the CA Secret, and the xds-server's ServiceAccount cannot read that Secret.
      // Every release's injection webhooks would be called for this pod, but here no operator pod
      // serves them and the apiserver would dial the webhook Service's cluster IP, off this
      // machine's loopback: they go first (HelmInjectionChartTest and InjectionWebhookTest cover them).
      kubectl.run("delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration",
          "-l", "app.kubernetes.io/part-of=weft", "--ignore-not-found").requireSuccess();
      kubectl.run("label", "namespace", appNs, "weft.dev/inject=enabled", "--overwrite").requireSuccess();
      kubectl.apply("""
          apiVersion: v1
          kind: Pod
          metadata:
            name: web-1
            namespace: %s
          spec:
            serviceAccountName: web
            containers:
            - name: app
              image: registry.invalid/app:1
          """.formatted(appNs)).requireSuccess();
      String caSecret = release.prefix() + "-ca";
      await("the operator, as " + release.operator() + ", issues web's certificate in " + appNs)
          .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> admin.secrets().inNamespace(appNs).withName("weft-identity-web").get() != null);
      assertThat(admin.secrets().inNamespace(ns).withName(caSecret).get()).as("CA Secret " + caSecret).isNotNull();
      assertThatThrownBy(() -> xdsClient.secrets().inNamespace(ns).withName(caSecret).get())
          .as("the xds-server reads the CA Secret")
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
      assertThatThrownBy(() -> xdsClient.secrets().inNamespace(appNs).withName("weft-identity-web").get())
          .as("the xds-server reads a workload's key")
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
      // The ADS port's certificate: issued by the operator under the chart's RBAC (also when the
      // release namespace is not watched), with the xds Service's DNS names; the xds-server is
      // unready until the kubelet would have mounted it, and ready after.
      String xdsSecret = "weft-identity-" + release.xds();
      Secret issued = await("the operator, as " + release.operator() + ", issues the xds-server's certificate")
          .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> admin.secrets().inNamespace(ns).withName(xdsSecret).get(), secret -> secret != null);
      CertificateInfo xdsCertificate = CertificateInfo.ofPem(
          new String(Base64.getDecoder().decode(issued.getData().get("tls.crt")), StandardCharsets.UTF_8));
      assertThat(xdsCertificate.spiffeId()).contains("spiffe://cluster.local/ns/" + ns + "/sa/" + release.xds());
      assertThat(xdsCertificate.dnsNames()).containsExactly(release.xds(), release.xds() + "." + ns,
          release.xds() + "." + ns + ".svc", release.xds() + "." + ns + ".svc.cluster.local");
      HttpClient http = HttpClient.newHttpClient();
      URI readyz = URI.create("http://127.0.0.1:" + xds.debugPort() + "/readyz");
      assertThat(http.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.ofString()).body())
          .as("unready without its certificate").contains("no usable certificate for the ADS port");
      Map<String, String> files = new HashMap<>();
      issued.getData().forEach((key, value) ->
          files.put(key, new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8)));
      SecretVolume.update(xdsTls, files);
      await("the xds-server ready once its certificate is mounted").atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> http.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.ofString())
              .statusCode(), code -> code == 200);
      System.out.println("the xds-server's certificate " + ns + "/" + xdsSecret + ": " + xdsCertificate.spiffeId()
          .orElseThrow() + " DNS " + xdsCertificate.dnsNames() + "; /readyz 200 once mounted");
      System.out.println("as the chart's ServiceAccounts of " + release.name() + ": " + accepted
          + "; weft-identity-web issued in " + appNs + "; " + release.xds() + " refused the CA Secret " + ns + "/"
          + caSecret);
    } finally {
      admin.resources(Lease.class).inNamespace(ns).withName(lease).delete();
      admin.pods().inNamespace(appNs).withName("web-1").delete();
    }
  }

  /**
   * A client authenticated as the ServiceAccount {@code sa} with a token bound to the pod
   * {@code pod}, as the kubelet gives one: the apiserver puts the pod's name in the user info.
   */
  private static KubernetesClient asPod(KubeApiServer server, String namespace, String sa, String pod) {
    io.fabric8.kubernetes.client.Config config = server.clientConfig();
    config.setImpersonateUsername("system:serviceaccount:" + namespace + ":" + sa);
    config.setImpersonateGroups("system:serviceaccounts", "system:serviceaccounts:" + namespace,
        "system:authenticated");
    // The header name carries the key percent-encoded (a '/' is not allowed there); the apiserver decodes it.
    config.setImpersonateExtras(Map.of("authentication.kubernetes.io%2Fpod-name", List.of(pod)));
    return new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(config).build();
  }

  /** The plain values of the env the chart sets on the Deployment's container (downward API ones left out). */
  private static Map<String, String> chartEnv(KubernetesClient client, String namespace, String deployment) {
    Container container = client.apps().deployments().inNamespace(namespace).withName(deployment).get()
        .getSpec().getTemplate().getSpec().getContainers().get(0);
    Map<String, String> env = new HashMap<>();
    for (EnvVar var : container.getEnv()) {
      if (var.getValue() != null) {
        env.put(var.getName(), var.getValue());
      }
    }
    return env;
  }

  private static <T extends CustomResource<?, ResourceStatus>> Condition awaitCondition(
      KubernetesClient client, Class<T> kind, String namespace, String name, String type, String what) {
    return await(what).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> Optional.ofNullable(client.resources(kind).inNamespace(namespace).withName(name).get())
            .map(CustomResource::getStatus)
            .flatMap(status -> status.condition(type))
            .orElse(null), c -> c != null);
  }

  private static void assertCan(Kubectl kubectl, String saNamespace, String sa, String verb, String resource,
      String namespace, boolean expected) {
    List<String> args = new ArrayList<>(List.of("auth", "can-i", verb));
    int slash = resource.indexOf('/');
    args.add(slash < 0 ? resource : resource.substring(0, slash));
    if (slash >= 0) {
      args.add("--subresource=" + resource.substring(slash + 1));
    }
    if (!namespace.isEmpty()) {
      args.addAll(List.of("-n", namespace));
    }
    args.add("--as=system:serviceaccount:" + saNamespace + ":" + sa);
    CommandResult result = kubectl.run(args.toArray(String[]::new));
    assertThat(result.stdout().strip()).as(result.toString()).isEqualTo(expected ? "yes" : "no");
  }

  private static Container assertHardened(PodSpec pod, String serviceAccount) {
    assertThat(pod.getServiceAccountName()).isEqualTo(serviceAccount);
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getEmptyDir()).isNotNull());
    Container container = pod.getContainers().get(0);
    var sc = container.getSecurityContext();
    assertThat(sc.getRunAsNonRoot()).isTrue();
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(container.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
    assertThat(container.getResources().getRequests()).containsKeys("cpu", "memory");
    return container;
  }

  private static Map<String, EnvVar> env(Container container) {
    return container.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
