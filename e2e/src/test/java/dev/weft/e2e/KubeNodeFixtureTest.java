package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.ImageArchive;
import dev.weft.testsupport.KubeNode;
import dev.weft.testsupport.KubeNodeTest;
import dev.weft.testsupport.Kubectl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real test node: a pod from an image built here (a folder packed as a docker-archive and
 * imported into containerd, no registry) runs, its ClusterIP Service answers inside the node's
 * network namespace and, by name, through the node's cluster DNS from inside a pod, and kubectl
 * logs/exec and crictl reach it as docs/development.md describes.
 */
@KubeNodeTest
class KubeNodeFixtureTest {

  private static final String NAMESPACE = "node-check";
  private static String token;
  private static String image;
  private static Duration toRunning;

  @BeforeAll
  static void runAPodFromALocallyBuiltImage(KubeNode node, Kubectl kubectl) throws IOException {
    // A tiny image of our own: the static busybox of `make tools` and a page only this run knows.
    token = UUID.randomUUID().toString();
    Path work = Files.createDirectories(Path.of("target", "kube-node-image"));
    Path rootfs = Files.createDirectories(work.resolve("rootfs-" + token));
    Files.createDirectories(rootfs.resolve("bin"));
    Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
    Files.createSymbolicLink(rootfs.resolve("bin/sh"), Path.of("busybox"));
    Files.createDirectories(rootfs.resolve("www"));
    Files.writeString(rootfs.resolve("www/index.html"), "hello " + token + "\n");
    Files.createDirectories(rootfs.resolve("tmp"));
    Path archive = ImageArchive.pack(rootfs, "weft.local/node-check:" + token.substring(0, 8),
        work.resolve("node-check.tar"), List.of("/bin/busybox"));

    image = node.load(archive);
    long appliedAt = System.nanoTime();
    kubectl.apply("""
        apiVersion: v1
        kind: Namespace
        metadata: {name: %1$s}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: hello, namespace: %1$s, labels: {app: hello}}
        spec:
          containers:
          - name: web
            image: %2$s
            imagePullPolicy: IfNotPresent
            args: [sh, -c, 'echo serving $HOSTNAME; exec busybox httpd -f -v -p 8080 -h /www']
            ports: [{containerPort: 8080}]
            readinessProbe:
              tcpSocket: {port: 8080}
              periodSeconds: 1
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: hello, namespace: %1$s}
        spec:
          selector: {app: hello}
          ports: [{port: 80, targetPort: 8080}]
        ---
        # The same pod under a name its own /etc/hosts does not hold (the kubelet puts the pod's name there).
        apiVersion: v1
        kind: Service
        metadata: {name: greeting, namespace: %1$s}
        spec:
          selector: {app: hello}
          ports: [{port: 80, targetPort: 8080}]
        """.formatted(NAMESPACE, image)).requireSuccess();
    await("pod hello Running and Ready on the node (kubelet log " + node.logFile("kubelet") + ")")
        .atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
        .until(() -> kubectl.run("get", "pod", "hello", "-n", NAMESPACE, "-o",
            "jsonpath={.status.phase}/{.status.conditions[?(@.type==\"Ready\")].status}").stdout(),
            "Running/True"::equals);
    toRunning = Duration.ofNanos(System.nanoTime() - appliedAt);
    System.out.printf("test node: image %s loaded, pod Running and Ready %d ms after kubectl apply%n",
        image, toRunning.toMillis());
  }

  @Test
  void runsThePodFromTheLoadedImageWithoutPulling(Kubectl kubectl) {
    String status = kubectl.run("get", "pod", "hello", "-n", NAMESPACE, "-o",
        "jsonpath={.spec.containers[0].image} {.status.containerStatuses[0].imageID} {.status.podIP}")
        .requireSuccess().stdout();

    assertThat(status).startsWith(image + " ").contains("sha256:").contains(" 198.19.");
    assertThat(kubectl.run("get", "events", "-n", NAMESPACE).stdout()).doesNotContain("Pulling");
    assertThat(toRunning).isLessThan(Duration.ofSeconds(30));
  }

  @Test
  void servesTheClusterIpServiceInsideTheNodeNetwork(KubeNode node, Kubectl kubectl) {
    String clusterIp = kubectl.run("get", "service", "hello", "-n", NAMESPACE, "-o", "jsonpath={.spec.clusterIP}")
        .requireSuccess().stdout().strip();
    assertThat(clusterIp).startsWith("198.19.");

    // kube-proxy programs the Service a moment after the pod turns Ready.
    await("http://" + clusterIp + "/index.html to answer inside " + node.state().netns())
        .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> node.inNodeNetwork(Duration.ofSeconds(10), "curl", "-sS", "--max-time", "2",
            "http://" + clusterIp + "/index.html").stdout(), ("hello " + token + "\n")::equals);
  }

  @Test
  void podsResolveServiceNamesThroughTheClusterDns(KubeNode node, Kubectl kubectl) {
    String dns = node.state().dnsServiceIp();
    assertThat(kubectl.run("get", "service", "kube-dns", "-n", "kube-system", "-o", "jsonpath={.spec.clusterIP}")
        .requireSuccess().stdout()).isEqualTo(dns);
    assertThat(kubectl.run("exec", "hello", "-n", NAMESPACE, "--", "busybox", "cat", "/etc/resolv.conf").requireSuccess().stdout())
        .contains("nameserver " + dns)
        .contains("search " + NAMESPACE + ".svc.cluster.local svc.cluster.local cluster.local");

    // The short name, as an unmodified client writes it: the search list makes it
    // greeting.node-check.svc.cluster.local, whose cluster IP leads back to this pod.
    // `timeout`, not wget's -T, which crashes Debian's static busybox 1.35.
    await("http://greeting/index.html by name from inside the pod")
        .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
        .until(() -> kubectl.run("exec", "hello", "-n", NAMESPACE, "--", "busybox", "timeout", "5",
            "busybox", "wget", "-qO-", "http://greeting/index.html").stdout(), ("hello " + token + "\n")::equals);
    String clusterIp = kubectl.run("get", "service", "greeting", "-n", NAMESPACE, "-o", "jsonpath={.spec.clusterIP}")
        .requireSuccess().stdout().strip();
    assertThat(kubectl.run("exec", "hello", "-n", NAMESPACE, "--", "busybox", "nslookup",
        "greeting." + NAMESPACE + ".svc.cluster.local").requireSuccess().stdout())
        .contains("Server:\t\t" + dns).contains("Address: " + clusterIp);
  }

  @Test
  void namesOutsideTheClusterFailAtOnce(Kubectl kubectl) {
    // No upstream on the node: NXDOMAIN from the cluster DNS, not a resolver timeout.
    long startedAt = System.nanoTime();
    CommandResult lookup = kubectl.run("exec", "hello", "-n", NAMESPACE, "--", "busybox", "nslookup", "example.com");

    assertThat(lookup.stdout() + lookup.stderr()).contains("NXDOMAIN");
    assertThat(Duration.ofNanos(System.nanoTime() - startedAt)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void kubectlLogsAndExecReachTheContainer(Kubectl kubectl) {
    CommandResult exec = kubectl.run("exec", "hello", "-n", NAMESPACE, "--", "sh", "-c", "cat /www/index.html; busybox id -u");

    assertThat(exec.requireSuccess().stdout()).isEqualTo("hello " + token + "\n0\n");
    assertThat(kubectl.run("logs", "hello", "-n", NAMESPACE).requireSuccess().stdout())
        .startsWith("serving hello");
  }

  @Test
  void crictlListsThePodAndItsContainer(KubeNode node) {
    assertThat(node.crictl("pods", "--name", "hello", "--namespace", NAMESPACE, "-q").requireSuccess().stdout())
        .isNotBlank();
    assertThat(node.crictl("ps", "--name", "web", "-o", "json").requireSuccess().stdout())
        .containsPattern("\"io.kubernetes.pod.namespace\":\\s*\"" + NAMESPACE + "\"");
  }
}
