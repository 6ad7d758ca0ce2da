package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.Helm;
import dev.weft.testsupport.KubeNode;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The weft chart on the real node with the images the Maven build makes: what the node's chart tests share. */
final class WeftOnNode {

  static final String NAMESPACE = "weft-system";

  private WeftOnNode() {
  }

  /**
   * Loads the operator and xds-server images ({@code -Pimages}) into the node, runs {@code helm
   * install weft helm/weft} with their local names (and {@code helmFlags}) and waits for both Deployments Ready; returns
   * how long that took after the install.
   */
  static Duration install(KubeNode node, Kubectl kubectl, String... helmFlags) {
    Path repo = WeftTools.repoRoot();
    String tag = null;
    for (String module : List.of("operator", "xds-server")) {
      Path archive = repo.resolve(module).resolve("target").resolve("image.tar");
      if (!Files.isRegularFile(archive)) {
        throw new IllegalStateException(archive + " missing: build the images first "
            + "(`mvn package -Pimages -pl operator,xds-server -am`; `make test` does)");
      }
      String name = node.load(archive);
      tag = name.substring(name.lastIndexOf(':') + 1);
    }
    long startedAt = System.nanoTime();
    List<String> args = new ArrayList<>(List.of("install", "weft", repo.resolve("helm/weft").toString(), "-n",
        NAMESPACE, "--create-namespace", "--set", "image.registry=weft.local", "--set", "image.tag=" + tag));
    args.addAll(List.of(helmFlags));
    CommandResult install = helm(node, args.toArray(String[]::new));
    assertThat(install.succeeded()).as(install.toString()).isTrue();
    awaitReady(node, kubectl, "weft-operator");
    awaitReady(node, kubectl, "weft-xds");
    return Duration.ofNanos(System.nanoTime() - startedAt);
  }

  /** {@code helm uninstall weft}, waiting for its objects to go. */
  static CommandResult uninstall(KubeNode node) {
    return helm(node, "uninstall", "weft", "-n", NAMESPACE, "--wait", "--timeout", "2m");
  }

  /** Waits for 2 Ready replicas of {@code deployment}; fails at once on a missing image or a crash loop. */
  static void awaitReady(KubeNode node, Kubectl kubectl, String deployment) {
    await("deployment " + deployment + " 2/2 Ready (pods: kubectl -n " + NAMESPACE + " get pods; kubelet log "
        + node.logFile("kubelet") + ")")
        .atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
        .until(() -> {
          String waiting = kubectl.run("get", "pods", "-n", NAMESPACE, "-o",
              "jsonpath={.items[*].status.containerStatuses[*].state.waiting.reason}").stdout();
          boolean looping = kubectl.run("get", "pods", "-n", NAMESPACE, "-o",
              "jsonpath={.items[*].status.containerStatuses[*].restartCount}").stdout().lines()
              .flatMap(line -> Arrays.stream(line.split(" "))).filter(n -> !n.isBlank())
              .anyMatch(n -> Integer.parseInt(n) >= 5);
          if (waiting.contains("ErrImage") || waiting.contains("ImagePull") || looping) {
            throw new AssertionError(deployment + " pods fail: " + waiting + "\n"
                + kubectl.run("logs", "-n", NAMESPACE, "deploy/" + deployment, "--previous", "--tail=30"));
          }
          return kubectl.run("get", "deployment", deployment, "-n", NAMESPACE, "-o",
              "jsonpath={.status.readyReplicas}").stdout();
        }, "2"::equals);
  }

  /** The pinned helm against the node, with its caches in the node's folder. */
  static CommandResult helm(KubeNode node, String... args) {
    return Helm.of(WeftTools.locate(), node.kubeconfig(), node.dir()).run(args);
  }
}
