package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.MeshStatus;
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
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The helm chart on the real helm and a real kube-apiserver: lint is clean, the rendered manifests
 * pass a server-side dry run, bad values fail with the schema's message, install creates every
 * object and Established CRDs, and uninstall leaves only the CRDs behind. No kubelet: nothing runs.
 */
@KubeApiServerTest
class HelmChartTest {

  static final Path CHART = WeftTools.repoRoot().resolve("helm/weft");
  static final String NS = "weft-system";
  static final String RELEASE = "weft";
  static final String INSTANCE = "app.kubernetes.io/instance=" + RELEASE;
  static final List<String> CRDS = List.of("trafficsplits.weft.dev", "virtualservices.weft.dev",
      "accesspolicies.weft.dev", "meshstatuses.weft.dev");

  static Path helmHome;
  static Path kubeconfig;

  @BeforeAll
  static void helmHome(KubeApiServer server) throws IOException {
    helmHome = Files.createTempDirectory("weft-helm");
    kubeconfig = server.kubeconfig();
  }

  @AfterAll
  static void cleanUp() throws IOException {
    // Leave no release behind for the classes that run after this one.
    helm("uninstall", RELEASE, "-n", NS, "--ignore-not-found");
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
    assertThat(opEnv.get("WEFT_POD_NAME").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
    assertThat(opEnv.get("WEFT_POD_NAMESPACE").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("metadata.namespace");

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
      assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "create", "update", "patch");
    });
    // The service accounts may do what the components need, and the xds-server not more.
    assertCan(kubectl, "weft-operator", "patch", "trafficsplits.weft.dev/status", "shop", true);
    assertCan(kubectl, "weft-operator", "update", "leases.coordination.k8s.io", NS, true);
    assertCan(kubectl, "weft-operator", "update", "trafficsplits.weft.dev", "shop", false);
    assertCan(kubectl, "weft-operator", "create", "events", "shop", true);
    assertCan(kubectl, "weft-operator", "update", "meshstatuses.weft.dev/status", "", true);
    assertCan(kubectl, "weft-operator", "delete", "meshstatuses.weft.dev", "", false);
    assertCan(kubectl, "weft-operator", "list", "configmaps", "shop", false);
    assertCan(kubectl, "weft-xds", "list", "endpointslices.discovery.k8s.io", "shop", true);
    assertCan(kubectl, "weft-xds", "patch", "configmaps", NS, true);
    assertCan(kubectl, "weft-xds", "update", "configmaps", NS, false);
    assertCan(kubectl, "weft-xds", "patch", "configmaps", "shop", false);
    assertCan(kubectl, "weft-xds", "patch", "trafficsplits.weft.dev/status", "shop", false);

    componentsWorkWithOnlyTheChartsPermissions(server, client, "helm-rbac");

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

      assertCan(kubectl, "weft-xds", "list", "services", watched, true);
      assertCan(kubectl, "weft-xds", "list", "endpointslices.discovery.k8s.io", watched, true);
      assertCan(kubectl, "weft-xds", "list", "services", "shop", false);
      assertCan(kubectl, "weft-xds", "list", "trafficsplits.weft.dev", "shop", false);
      assertCan(kubectl, "weft-operator", "patch", "trafficsplits.weft.dev/status", watched, true);
      assertCan(kubectl, "weft-operator", "patch", "trafficsplits.weft.dev/status", "shop", false);
      assertCan(kubectl, "weft-operator", "list", "services", "shop", false);
      assertCan(kubectl, "weft-operator", "create", "events", "shop", false);
      assertCan(kubectl, "weft-operator", "update", "meshstatuses.weft.dev/status", "", true);
      assertThat(client.rbac().clusterRoles().withName("weft-xds").get())
          .as("no cluster-wide role for the xds-server when it watches named namespaces").isNull();

      componentsWorkWithOnlyTheChartsPermissions(server, client, watched);
    } finally {
      helm("uninstall", RELEASE, "-n", NS, "--ignore-not-found");
    }
  }

  /**
   * The real operator and xds-server, in this JVM, configured from the environment the chart sets and
   * authenticated as the chart's ServiceAccounts: leader election, validation, status writes, the
   * sync report and MeshStatus all work with the chart's RBAC and nothing more.
   */
  private static void componentsWorkWithOnlyTheChartsPermissions(KubeApiServer server, KubernetesClient admin,
      String appNs) throws Exception {
    MeshObjects objects = new MeshObjects(admin, appNs);
    objects.createNamespace();
    for (String service : List.of("payments", "payments-v1", "payments-v2")) {
      objects.service(service, 80);
    }
    String[] saGroups = {"system:serviceaccounts", "system:serviceaccounts:" + NS};
    try (KubernetesClient xdsClient = server.newClientAs("system:serviceaccount:" + NS + ":weft-xds", saGroups);
        KubernetesClient operatorClient =
            server.newClientAs("system:serviceaccount:" + NS + ":weft-operator", saGroups);
        XdsServerApp xds = XdsServerApp.start(xdsClient, XdsServerApp.Config.fromEnvironment(Map.of(
            "WEFT_BIND_ADDRESS", "127.0.0.1", "WEFT_XDS_PORT", "0", "WEFT_DEBUG_PORT", "0",
            "WEFT_WATCH_NAMESPACES", appNs, "WEFT_SYNC_REPORT", "true",
            "WEFT_POD_NAME", "weft-xds-test", "WEFT_POD_NAMESPACE", NS)));
        WeftOperator operator = WeftOperator.start(operatorClient, WeftOperator.Config.fromEnvironment(Map.of(
            "WEFT_BIND_ADDRESS", "127.0.0.1", "WEFT_OPERATOR_HTTP_PORT", "0",
            "WEFT_WATCH_NAMESPACES", appNs, "WEFT_LEADER_ELECTION", "true",
            "WEFT_POD_NAME", "weft-operator-test", "WEFT_POD_NAMESPACE", NS, "WEFT_XDS_NAMESPACE", NS)))) {
      admin.resource(new GenericKubernetesResourceBuilder()
          .withApiVersion("weft.dev/v1alpha1").withKind("TrafficSplit")
          .withNewMetadata().withName("payments-canary").withNamespace(appNs).endMetadata()
          .addToAdditionalProperties("spec", Map.of("service", "payments", "backends", List.of(
              Map.of("service", "payments-v1", "weight", 90), Map.of("service", "payments-v2", "weight", 10))))
          .build()).serverSideApply();

      Condition accepted = await("the operator, as weft-operator, writes Accepted")
          .atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> {
            TrafficSplit split = admin.resources(TrafficSplit.class).inNamespace(appNs)
                .withName("payments-canary").get();
            return split == null || split.getStatus() == null ? null
                : split.getStatus().condition("Accepted").orElse(null);
          }, c -> c != null);
      assertThat(accepted.getStatus()).as(accepted.toString()).isEqualTo(Condition.Status.True);
      await("the xds-server, as weft-xds, writes its sync report")
          .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> admin.configMaps().inNamespace(NS).withName("weft-xds-sync-weft-xds-test").get() != null);
      await("the operator, as weft-operator, keeps MeshStatus")
          .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> {
            MeshStatus mesh = admin.resources(MeshStatus.class).withName(MeshStatus.NAME).get();
            return mesh != null && mesh.getStatus() != null;
          });
      var lease = admin.resources(Lease.class).inNamespace(NS).withName("weft-operator").get();
      assertThat(lease).as("the Lease weft-operator").isNotNull();
      assertThat(lease.getSpec().getHolderIdentity()).isEqualTo("weft-operator-test");
      // The leader renews the Lease every retry period (2 s): a renewal the RBAC refuses would make it
      // lose the Lease and exit, so wait for one to land.
      var firstRenewal = lease.getSpec().getRenewTime();
      await("the leader, as weft-operator, renews its Lease")
          .atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
          .until(() -> {
            var now = admin.resources(Lease.class).inNamespace(NS)
                .withName("weft-operator").get().getSpec();
            return "weft-operator-test".equals(now.getHolderIdentity()) && !firstRenewal.equals(now.getRenewTime());
          });
      System.out.println("as the chart's ServiceAccounts: " + accepted);
    } finally {
      admin.resources(Lease.class).inNamespace(NS).withName("weft-operator").delete();
    }
  }

  private static void assertCan(Kubectl kubectl, String sa, String verb, String resource, String namespace,
      boolean expected) {
    List<String> args = new ArrayList<>(List.of("auth", "can-i", verb));
    int slash = resource.indexOf('/');
    args.add(slash < 0 ? resource : resource.substring(0, slash));
    if (slash >= 0) {
      args.add("--subresource=" + resource.substring(slash + 1));
    }
    if (!namespace.isEmpty()) {
      args.addAll(List.of("-n", namespace));
    }
    args.add("--as=system:serviceaccount:" + NS + ":" + sa);
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
