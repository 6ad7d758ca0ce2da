package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The shared real kube-apiserver fixture (or the external cluster): kubectl and fabric8 both reach it, and it is shared. */
@KubeApiServerTest
class KubeApiServerFixtureTest {

  private static KubeApiServer serverSeenByBeforeAll;

  @BeforeAll
  static void rememberServer(KubeApiServer server) {
    serverSeenByBeforeAll = server;
    System.out.println(server.isLocal()
        ? "kube-apiserver " + server.url() + " started in " + server.startupTime().toMillis() + " ms; log "
            + server.logFile()
        : "external cluster " + server.url());
  }

  @Test
  void kubectlListsTheDefaultNamespace(Kubectl kubectl) {
    CommandResult result = kubectl.run("get", "ns", "-o", "name").requireSuccess();

    assertThat(result.stdout().lines()).contains("namespace/default");
  }

  @Test
  void kubectlApplyIsVisibleToTheFabric8Client(Kubectl kubectl, KubernetesClient client) {
    kubectl.apply("""
            apiVersion: v1
            kind: Namespace
            metadata:
              name: fixture-check
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: greeting
              namespace: fixture-check
            data:
              hello: weft
            """).requireSuccess();

    ConfigMap configMap = client.configMaps().inNamespace("fixture-check").withName("greeting").get();
    assertThat(configMap.getData()).containsEntry("hello", "weft");
  }

  @Test
  void kubectlReportsAFailureWithItsExitCodeAndStderr(Kubectl kubectl) {
    CommandResult result = kubectl.run("get", "configmap", "no-such-configmap");

    assertThat(result.exitCode()).isNotZero();
    assertThat(result.stderr()).contains("NotFound");
  }

  @Test
  void everyTestSeesTheSameServerAndAKubeconfigFile(KubeApiServer server, KubernetesClient client) {
    assertThat(server).isSameAs(serverSeenByBeforeAll);
    assertThat(server.isAlive()).isTrue();
    assertThat(Files.isRegularFile(server.kubeconfig())).isTrue();
    if (server.isLocal()) {
      assertThat(Files.isRegularFile(server.logFile())).isTrue();
    }
    assertThat(client.namespaces().list().getItems()).extracting(Namespace::getMetadata)
        .extracting(meta -> meta.getName()).contains("default", "kube-system");
  }

  @Test
  void rbacAppliesToAnIdentityOutsideSystemMasters(KubeApiServer server) {
    CommandResult result = server.kubectlAs("nobody").run("get", "namespaces");

    assertThat(result.exitCode()).isNotZero();
    assertThat(result.stderr()).contains("Forbidden").contains("nobody");
  }
}
