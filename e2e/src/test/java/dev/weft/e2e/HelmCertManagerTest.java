package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.testsupport.Command;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chart's cert-manager option on a real apiserver: with {@code identity.certManager.issuerRef}
 * the operator is told the issuer and may keep {@code certificates.cert-manager.io} (and nothing
 * else of cert-manager's); without it, it may not.
 */
@KubeApiServerTest
class HelmCertManagerTest {

  static final Path CHART = WeftTools.repoRoot().resolve("helm/weft");
  static final String NS = "weft-cm";
  static final String RELEASE = "weft-cm";
  static final String OPERATOR = "weft-cm-operator";

  static Path helmHome;
  static Path kubeconfig;

  @BeforeAll
  static void setUp(KubeApiServer server, Kubectl kubectl) throws IOException {
    helmHome = Files.createTempDirectory("weft-helm-cm");
    kubeconfig = server.kubeconfig();
    CertManagerFixture.installCrds(WeftTools.locate(), kubectl);
  }

  @AfterAll
  static void cleanUp() {
    if (kubeconfig != null) {
      helm("uninstall", RELEASE, "-n", NS, "--ignore-not-found");
    }
  }

  static CommandResult helm(String... args) {
    List<String> command = new ArrayList<>();
    command.add(WeftTools.locate().helm().toString());
    command.addAll(List.of(args));
    command.add("--kubeconfig=" + kubeconfig);
    Map<String, String> env = Map.of(
        "HELM_CONFIG_HOME", helmHome.resolve("config").toString(),
        "HELM_CACHE_HOME", helmHome.resolve("cache").toString(),
        "HELM_DATA_HOME", helmHome.resolve("data").toString(),
        "KUBECONFIG", kubeconfig.toString());
    return Command.run(command, env, null, Command.DEFAULT_TIMEOUT);
  }

  static String can(Kubectl kubectl, String verb, String resource, String namespace) {
    List<String> args = new ArrayList<>(List.of("auth", "can-i", verb, resource));
    if (!namespace.isEmpty()) {
      args.addAll(List.of("-n", namespace));
    }
    args.add("--as=system:serviceaccount:" + NS + ":" + OPERATOR);
    CommandResult result = kubectl.run(args.toArray(String[]::new));
    return result.stdout().strip();
  }

  static Map<String, String> operatorEnv(KubernetesClient client) {
    Container container = client.apps().deployments().inNamespace(NS).withName(OPERATOR).get().getSpec()
        .getTemplate().getSpec().getContainers().get(0);
    return container.getEnv().stream().filter(e -> e.getValue() != null)
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
  }

  @Test
  void issuerRefGivesTheOperatorTheIssuerAndCertificatesOnly(Kubectl kubectl, KubernetesClient client) {
    helm("install", RELEASE, CHART.toString(), "-n", NS, "--create-namespace",
        "--set", "identity.certManager.issuerRef.name=mesh-ca").requireSuccess();

    assertThat(operatorEnv(client)).containsEntry("WEFT_CERT_MANAGER_ISSUER", "mesh-ca")
        .containsEntry("WEFT_CERT_MANAGER_ISSUER_KIND", "ClusterIssuer")
        .containsEntry("WEFT_CERT_MANAGER_ISSUER_GROUP", "cert-manager.io");
    for (String verb : List.of("get", "list", "watch", "create", "update", "delete")) {
      assertThat(can(kubectl, verb, "certificates.cert-manager.io", "shop")).as(verb).isEqualTo("yes");
    }
    assertThat(can(kubectl, "patch", "certificates.cert-manager.io", "shop")).isEqualTo("no");
    assertThat(can(kubectl, "create", "certificaterequests.cert-manager.io", "shop")).isEqualTo("no");
    assertThat(can(kubectl, "get", "issuers.cert-manager.io", "shop")).isEqualTo("no");
    assertThat(can(kubectl, "get", "clusterissuers.cert-manager.io", "")).isEqualTo("no");
    System.out.println("with identity.certManager.issuerRef.name=mesh-ca: the operator may get/list/watch/create/"
        + "update/delete certificates.cert-manager.io, not patch them, nor touch certificaterequests or issuers");

    helm("upgrade", RELEASE, CHART.toString(), "-n", NS, "--reuse-values",
        "--set", "identity.certManager.issuerRef.name=").requireSuccess();

    assertThat(operatorEnv(client)).doesNotContainKey("WEFT_CERT_MANAGER_ISSUER");
    assertThat(can(kubectl, "create", "certificates.cert-manager.io", "shop")).isEqualTo("no");
  }
}
