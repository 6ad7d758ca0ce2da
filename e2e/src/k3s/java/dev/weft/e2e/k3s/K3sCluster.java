package dev.weft.e2e.k3s;

import dev.weft.testsupport.ClusterProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The k3s profile ({@code mvn install -Pe2e,k3s}): one k3s cluster in a container for the whole
 * test run, used by {@code @KubeApiServerTest} instead of the local kube-apiserver. Needs a Docker
 * engine; the tools from {@code make tools} (Envoy, kubectl, helm) still run on the host, where the
 * local pods and the xds-server run too.
 */
public final class K3sCluster implements ClusterProvider {

  /** The k3s image; the Kubernetes minor that `make tools` builds. */
  static final String IMAGE = System.getProperty("weft.k3s.image", "rancher/k3s:v1.34.1-k3s1");

  private K3sContainer k3s;
  private Path kubeconfig;

  @Override
  public Path start() {
    k3s = new K3sContainer(DockerImageName.parse(IMAGE).asCompatibleSubstituteFor("rancher/k3s"));
    k3s.start();
    try {
      kubeconfig = Files.createTempFile("weft-k3s-", ".kubeconfig");
      Files.writeString(kubeconfig, k3s.getKubeConfigYaml());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the k3s kubeconfig", e);
    }
    System.out.println("k3s " + IMAGE + " at " + k3s.getHost() + ", kubeconfig " + kubeconfig);
    return kubeconfig;
  }

  @Override
  public void close() throws IOException {
    if (k3s != null) {
      k3s.stop();
    }
    if (kubeconfig != null) {
      Files.deleteIfExists(kubeconfig);
    }
  }
}
