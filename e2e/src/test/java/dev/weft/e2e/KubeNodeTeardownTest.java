package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.testsupport.KubeNode;
import dev.weft.testsupport.KubeNodeState;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.ProcessLogsOnFailure;
import dev.weft.testsupport.WeftTools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * `hack/cluster.sh down` leaves nothing of a node on the host: with a pod running (so there are
 * sandboxes, shims, overlay and tmpfs mounts, pod cgroups and a pod network), after down no process
 * it started runs, nothing is mounted under its folder, its cgroups, network namespace, veth pair
 * and host routes are gone, the kernel settings the kubelet changed are back, no shim socket or CNI
 * result it made is left in /run/containerd or /var/lib/cni, and the guard route stays. Checked from the host, independently of the script's own check.
 */
@ExtendWith(ProcessLogsOnFailure.class)
class KubeNodeTeardownTest {

  @Test
  void downLeavesNothingOfTheNodeOnTheHost() {
    // Files the runtime keeps outside the node's folder: shim sockets and CNI results. Another node
    // may be up meanwhile, so only what appears during this test counts.
    Set<Path> runtimeFilesBefore = runtimeFiles();
    WeftTools tools = WeftTools.locate();
    KubeNode node = new KubeNode(tools, Path.of("target", "weft-node-teardown"));
    KubeNodeState state;
    try {
      long upAt = System.nanoTime();
      node.start();
      long upMillis = Duration.ofNanos(System.nanoTime() - upAt).toMillis();
      state = node.state();
      String image = node.load(tools.dir().resolve("images").resolve("busybox.tar"));
      Kubectl kubectl = node.kubectl();
      kubectl.apply("""
          apiVersion: v1
          kind: Pod
          metadata: {name: sleeper}
          spec:
            terminationGracePeriodSeconds: 30
            containers:
            - name: sleep
              image: %s
              imagePullPolicy: IfNotPresent
              command: [sh, -c, 'trap "" TERM; while true; do sleep 1; done']
          """.formatted(image)).requireSuccess();
      await("pod sleeper Running").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> kubectl.run("get", "pod", "sleeper", "-o", "jsonpath={.status.phase}").stdout(),
              "Running"::equals);
      assertThat(state.leftovers()).as("a running node is seen by the check")
          .anyMatch(s -> s.startsWith("network namespace"))
          .anyMatch(s -> s.startsWith("mount "))
          .anyMatch(s -> s.startsWith("cgroup "));
      System.out.printf("teardown check: node up in %d ms, %d processes started, %d mounts under its folder%n",
          upMillis, state.processes().size(), state.leftovers().stream().filter(s -> s.startsWith("mount ")).count());
    } finally {
      long downAt = System.nanoTime();
      node.close();
      System.out.printf("teardown check: node down in %d ms%n", Duration.ofNanos(System.nanoTime() - downAt).toMillis());
    }

    assertThat(state.leftovers()).isEmpty();
    Set<Path> appeared = runtimeFiles();
    appeared.removeAll(runtimeFilesBefore);
    assertThat(appeared).as("shim sockets and CNI results the node left").isEmpty();
  }

  private static Set<Path> runtimeFiles() {
    Set<Path> files = new HashSet<>();
    for (Path dir : List.of(Path.of("/run/containerd/s"), Path.of("/var/lib/cni/results"))) {
      if (Files.isDirectory(dir)) {
        try (Stream<Path> entries = Files.list(dir)) {
          entries.forEach(files::add);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return files;
  }
}
