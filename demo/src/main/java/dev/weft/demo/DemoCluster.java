package dev.weft.demo;

import dev.weft.testsupport.Command;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.Helm;
import dev.weft.testsupport.ImageArchive;
import dev.weft.testsupport.KubeNode;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where the node demo runs: the single-node Kubernetes it brings up on this machine
 * ({@code hack/cluster.sh}), or a cluster the person already has ({@code WEFT_DEMO_KUBECONFIG}),
 * into which images go with a command the person names ({@code WEFT_DEMO_LOAD}, e.g.
 * {@code kind load image-archive}; the demo appends each tar) or were loaded beforehand.
 */
final class DemoCluster implements AutoCloseable {

  private final String description;
  private final Path kubeconfig;
  private final Kubectl kubectl;
  private final Helm helm;
  private final KubeNode node;
  private final List<String> loadCommand;

  private DemoCluster(String description, Path kubeconfig, Kubectl kubectl, Helm helm, KubeNode node,
      List<String> loadCommand) {
    this.description = description;
    this.kubeconfig = kubeconfig;
    this.kubectl = kubectl;
    this.helm = helm;
    this.node = node;
    this.loadCommand = List.copyOf(loadCommand);
  }

  /** A new node in {@code dir} (root only); {@link #close()} takes it down and removes everything it made. */
  static DemoCluster newNode(WeftTools tools, Path dir) {
    KubeNode node = new KubeNode(tools, dir);
    node.start();
    return new DemoCluster("a single-node Kubernetes on this machine (hack/cluster.sh, state in " + dir + ")",
        node.kubeconfig(), node.kubectl(), Helm.of(tools, node.kubeconfig(), dir), node, List.of());
  }

  /**
   * The cluster of {@code kubeconfig}; {@code loadCommand} (split on spaces, may be blank) loads
   * one image tar into it. Closing leaves the cluster as it is.
   */
  static DemoCluster existing(WeftTools tools, Path kubeconfig, String loadCommand, Path stateDir) {
    List<String> load = loadCommand.isBlank() ? List.of() : Arrays.asList(loadCommand.strip().split("\\s+"));
    return new DemoCluster("the cluster of " + kubeconfig, kubeconfig,
        new Kubectl(tools.kubectl(), kubeconfig, stateDir.resolve("kubectl-cache")),
        Helm.of(tools, kubeconfig, stateDir), null, load);
  }

  /** Puts the image of {@code archive} where the cluster's kubelets find it; returns the image's name. */
  String load(Path archive) {
    if (node != null) {
      return node.load(archive);
    }
    if (!loadCommand.isEmpty()) {
      List<String> command = new ArrayList<>(loadCommand);
      command.add(archive.toString());
      CommandResult loaded = Command.run(command);
      if (!loaded.succeeded()) {
        throw new IllegalStateException("loading " + archive + " with WEFT_DEMO_LOAD failed:\n" + loaded);
      }
    }
    return ImageArchive.name(archive);
  }

  boolean ownsTheCluster() {
    return node != null;
  }

  String description() {
    return description;
  }

  Path kubeconfig() {
    return kubeconfig;
  }

  Kubectl kubectl() {
    return kubectl;
  }

  Helm helm() {
    return helm;
  }

  @Override
  public void close() {
    if (node != null) {
      node.close();
    }
  }

  @Override
  public String toString() {
    return description;
  }
}
