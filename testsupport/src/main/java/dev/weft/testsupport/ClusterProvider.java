package dev.weft.testsupport;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Starts a cluster for a whole test run instead of the local kube-apiserver (the e2e module's k3s
 * profile names one with the system property {@value KubeApiServerExtension#CLUSTER_PROVIDER}).
 * Needs a public no-argument constructor; closed when the run ends.
 */
public interface ClusterProvider extends AutoCloseable {

  /** Starts the cluster and returns a kubeconfig file for a cluster admin. */
  Path start();

  /** Stops the cluster and removes what {@link #start()} wrote. */
  @Override
  void close() throws IOException;
}
