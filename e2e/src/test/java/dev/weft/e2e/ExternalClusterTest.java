package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.WeftTools;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.Test;

/**
 * The fixture's external-cluster mode, which the k3s profile uses, tried here on the local
 * apiserver reached only through its kubeconfig: other identities work by impersonation, RBAC
 * applies to them, and closing touches nothing of the cluster.
 */
@KubeApiServerTest
class ExternalClusterTest {

  @Test
  void reachesTheClusterThroughItsKubeconfigAndImpersonatesOtherIdentities(KubeApiServer local) {
    KubeApiServer external = KubeApiServer.connect(WeftTools.locate(), local.kubeconfig());
    try {
      assertThat(external.isLocal()).isFalse();
      assertThat(external.url()).isEqualTo(local.url());
      assertThat(external.kubectl().run("get", "ns", "default", "-o", "name").requireSuccess().stdout())
          .isEqualTo("namespace/default\n");

      CommandResult nobody = external.kubectlAs("nobody", "team-a").run("get", "namespaces");
      assertThat(nobody.exitCode()).isNotZero();
      assertThat(nobody.stderr()).contains("Forbidden").contains("User \"nobody\"");
      try (KubernetesClient asNobody = external.newClientAs("nobody")) {
        assertThatThrownBy(() -> asNobody.namespaces().list())
            .isInstanceOf(KubernetesClientException.class).hasMessageContaining("nobody");
      }
      assertThatThrownBy(external::logFile).hasMessageContaining("is external");
    } finally {
      external.close();
    }
    assertThat(external.isAlive()).isFalse();
    assertThat(local.isAlive()).isTrue();
    assertThat(local.kubectl().run("get", "ns", "default").succeeded()).isTrue();
  }
}
