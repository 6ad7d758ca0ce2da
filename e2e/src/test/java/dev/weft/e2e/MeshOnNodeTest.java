package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeNode;
import dev.weft.testsupport.KubeNodeTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The mesh as a user gets it on a real kubelet: the chart installed with helm, a namespace labelled
 * {@code weft.dev/inject=enabled}, and Deployments with one plain container each. The webhook adds
 * the capture init container and Envoy as a native sidecar; the client's own {@code wget
 * http://payments:8080/} (resolved by the node's DNS) is captured by iptables into its sidecar,
 * follows a TrafficSplit live, travels over mTLS and arrives through the server's inbound port
 * 15006; the proxies' own traffic is not captured, excluded ports bypass both sidecars, and an
 * xds-server pod killed under traffic loses no request.
 */
@KubeNodeTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MeshOnNodeTest {

  private static final String NS = "shop";
  private static final int SAMPLE = 500;
  /** The payments pods also answer on this port, which both sides exclude from capture. */
  private static final int EXCLUDED_PORT = 9090;
  private static final String OUTBOUND_CONNECTIONS = "listener.0.0.0.0_15001.downstream_cx_total";
  private static final String INBOUND_CONNECTIONS = "listener.0.0.0.0_15006.downstream_cx_total";
  private static KubeNode node;

  @BeforeAll
  static void runTheShopInAnInjectedNamespace(KubeNode theNode, Kubectl kubectl) {
    node = theNode;
    Path images = WeftTools.locate().dir().resolve("images");
    String envoy = node.load(images.resolve("envoy.tar"));
    String iptables = node.load(images.resolve("iptables.tar"));
    String busybox = node.load(images.resolve("busybox.tar"));
    WeftOnNode.install(node, kubectl, "--set", "injection.proxyImage=" + envoy, "--set",
        "injection.initImage=" + iptables);

    StringBuilder shop = new StringBuilder("""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: shop
          labels: {weft.dev/inject: enabled}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: payments, namespace: shop}
        spec:
          selector: {app: payments}
          ports: [{name: http, port: 8080}]
        """);
    for (String version : List.of("v1", "v2")) {
      shop.append(payments(version, busybox));
    }
    shop.append("""
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: web, namespace: shop}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          replicas: 1
          selector: {matchLabels: {app: web}}
          template:
            metadata:
              labels: {app: web}
              annotations: {weft.dev/exclude-outbound-ports: "%2$d"}
            spec:
              serviceAccountName: web
              terminationGracePeriodSeconds: 2
              containers:
              - name: app
                image: %1$s
                imagePullPolicy: IfNotPresent
                command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
        """.formatted(busybox, EXCLUDED_PORT));
    kubectl.apply(shop.toString()).requireSuccess();
    kubectl.apply(split(90, 10)).requireSuccess();
    for (String name : List.of("payments-v1", "payments-v2", "web")) {
      CommandResult rollout = kubectl.withTimeout(Duration.ofMinutes(4))
          .run("rollout", "status", "deployment/" + name, "-n", NS, "--timeout=200s");
      assertThat(rollout.succeeded()).as(rollout + "\n" + kubectl.run("describe", "pods", "-n", NS)).isTrue();
    }
    await("web's sidecar to route payments (Envoy admin: kubectl exec -n shop deploy/web -c app -- wget -qO- "
        + "127.0.0.1:15000/config_dump)").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1))
        .until(() -> requests(kubectl, 5).keySet().stream().anyMatch(k -> k.startsWith("payments-v")));
  }

  @AfterAll
  static void removeTheShopAndTheChart(Kubectl kubectl) {
    if (node != null && node.isUp()) {
      kubectl.run("delete", "namespace", NS, "--wait=true", "--timeout=60s");
      WeftOnNode.uninstall(node);
    }
  }

  @Test
  @Order(1)
  void theWebhookAddedTheCaptureInitContainerAndEnvoyAsANativeSidecar(Kubectl kubectl) {
    String layout = kubectl.run("get", "pods", "-n", NS, "-l", "app=web", "-o", "jsonpath={range .items[*]}"
        + "{range .spec.initContainers[*]}{.name}:{.restartPolicy} {end}| {range .spec.containers[*]}{.name} {end}"
        + "{end}").requireSuccess().stdout().strip();
    String pods = kubectl.run("get", "pods", "-n", NS).requireSuccess().stdout();
    System.out.println("mesh on the node: web's pod as stored: " + layout + "\n$ kubectl get pods -n shop\n" + pods);

    assertThat(layout).isEqualTo("weft-init: weft-proxy:Always | app");
    // The Deployments name one container; the READY column counts the sidecar too.
    assertThat(pods.lines().skip(1)).hasSize(3).allMatch(line -> line.matches("\\S+\\s+2/2\\s+Running\\s.*"));
  }

  @Test
  @Order(2)
  void theClientsPlainCallsGoThroughItsSidecarAndFollowTheSplit(Kubectl kubectl) {
    long before = stat(kubectl, "web", OUTBOUND_CONNECTIONS);
    Map<String, Integer> answers = requests(kubectl, SAMPLE);
    long captured = stat(kubectl, "web", OUTBOUND_CONNECTIONS) - before;
    print("90/10 (" + captured + " connections captured by web's sidecar)", answers);

    assertThat(answers.keySet()).containsOnly("payments-v1", "payments-v2");
    assertThat(share(answers, "payments-v2")).isBetween(0.05, 0.15);
    assertThat(captured).as("every request went through the outbound port 15001").isGreaterThanOrEqualTo(SAMPLE);
  }

  @Test
  @Order(3)
  void inboundArrivesThroughTheServersSidecarOverMutualTls(Kubectl kubectl) {
    long inboundBefore = stat(kubectl, "payments-v1", INBOUND_CONNECTIONS);
    Map<String, Integer> answers = requests(kubectl, 100);
    long inbound = stat(kubectl, "payments-v1", INBOUND_CONNECTIONS) - inboundBefore;
    // Counted since the sidecar started: connections to payments-v1 are pooled and reused.
    long handshakes = sum(kubectl, "web", "payments-v1.*ssl.handshake");
    System.out.printf("mesh on the node: of 100 requests payments-v1 answered %d; its inbound port 15006 accepted %d "
        + "connections meanwhile; web's sidecar made %d TLS handshakes to it in all%n",
        answers.getOrDefault("payments-v1", 0), inbound, handshakes);

    assertThat(answers.getOrDefault("payments-v1", 0)).isPositive();
    assertThat(inbound).isPositive();
    assertThat(handshakes).as("mTLS from web's sidecar to payments-v1").isPositive();
  }

  @Test
  @Order(4)
  void theSidecarsOwnTrafficIsNotCaptured(Kubectl kubectl) {
    // payments-v1's app makes no call; its Envoy talks to the xds-server all along. Had the redirect
    // caught Envoy's own connections, they would show on its outbound port.
    assertThat(stat(kubectl, "payments-v1", "control_plane.connected_state")).isEqualTo(1);
    assertThat(stat(kubectl, "payments-v1", OUTBOUND_CONNECTIONS)).isZero();
  }

  @Test
  @Order(5)
  void excludedPortsBypassBothSidecars(Kubectl kubectl) {
    String podIp = kubectl.run("get", "pods", "-n", NS, "-l", "app=payments,version=v1", "-o",
        "jsonpath={.items[0].status.podIP}").requireSuccess().stdout().strip();
    long outbound = stat(kubectl, "web", OUTBOUND_CONNECTIONS);
    long inbound = stat(kubectl, "payments-v1", INBOUND_CONNECTIONS);

    String answer = exec(kubectl, "web", "timeout 5 wget -qO- http://" + podIp + ":" + EXCLUDED_PORT + "/")
        .requireSuccess().stdout().strip();

    assertThat(answer).isEqualTo("payments-v1");
    assertThat(stat(kubectl, "web", OUTBOUND_CONNECTIONS)).as("web's sidecar saw nothing").isEqualTo(outbound);
    assertThat(stat(kubectl, "payments-v1", INBOUND_CONNECTIONS)).as("payments' sidecar saw nothing")
        .isEqualTo(inbound);
  }

  @Test
  @Order(6)
  void followsALivePatchToFiftyFiftyAndBack(Kubectl kubectl) {
    kubectl.apply(split(50, 50)).requireSuccess();
    await("the 50/50 split to reach web's sidecar").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
        .until(() -> share(requests(kubectl, 100), "payments-v2"), share -> share > 0.3);
    Map<String, Integer> fifty = requests(kubectl, SAMPLE);
    print("50/50", fifty);
    assertThat(share(fifty, "payments-v2")).isBetween(0.4, 0.6);

    kubectl.apply(split(90, 10)).requireSuccess();
    await("the 90/10 split back at web's sidecar").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
        .until(() -> share(requests(kubectl, 100), "payments-v2"), share -> share < 0.2);
    Map<String, Integer> back = requests(kubectl, SAMPLE);
    print("90/10 again", back);
    assertThat(share(back, "payments-v2")).isBetween(0.05, 0.15);
  }

  @Test
  @Order(7)
  void losesNoRequestWhenAnXdsServerPodIsKilled(Kubectl kubectl) throws Exception {
    List<String> xdsPods = List.of(kubectl.run("get", "pods", "-n", WeftOnNode.NAMESPACE, "-l",
        "app.kubernetes.io/component=xds", "-o", "jsonpath={.items[*].metadata.name}").requireSuccess().stdout()
        .strip().split(" "));
    assertThat(xdsPods).hasSize(2);
    // Traffic for a bounded while (at most 150 s and 20,000 requests) around both replacements.
    CompletableFuture<Map<String, Integer>> traffic = CompletableFuture.supplyAsync(() -> count(exec(kubectl, "web",
        "end=$(( $(date +%s) + 150 )); n=0; while [ $n -lt 20000 ] && [ $(date +%s) -lt $end ]; do n=$((n+1)); "
            + "timeout 5 wget -qO- http://payments:8080/ || echo failed; [ -e /tmp/stop ] && break; done")));
    Thread.sleep(2000);
    for (String pod : xdsPods) {
      // Kill one replica at a time; whichever the sidecar was connected to, it must move to the other.
      kubectl.run("delete", "pod", pod, "-n", WeftOnNode.NAMESPACE, "--grace-period=0", "--force", "--wait=false")
          .requireSuccess();
      WeftOnNode.awaitReady(node, kubectl, "weft-xds");
    }
    Thread.sleep(2000);
    exec(kubectl, "web", "touch /tmp/stop").requireSuccess();
    Map<String, Integer> answers = traffic.get(3, TimeUnit.MINUTES);
    exec(kubectl, "web", "rm -f /tmp/stop");
    print("while both xds-server pods were replaced in turn", answers);
    assertThat(answers.getOrDefault("failed", 0)).isZero();
    assertThat(answers.values().stream().mapToInt(Integer::intValue).sum()).isGreaterThan(100);
    await("web's sidecar connected to an xds-server again").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> stat(kubectl, "web", "control_plane.connected_state"), state -> state == 1);
  }

  private static String payments(String version, String busybox) {
    return """
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: payments-%1$s, namespace: shop}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: payments-%1$s, namespace: shop}
        spec:
          selector: {app: payments, version: %1$s}
          ports: [{name: http, port: 8080}]
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: payments-%1$s, namespace: shop}
        spec:
          replicas: 1
          selector: {matchLabels: {app: payments, version: %1$s}}
          template:
            metadata:
              labels: {app: payments, version: %1$s}
              annotations: {weft.dev/exclude-inbound-ports: "%3$d"}
            spec:
              serviceAccountName: payments-%1$s
              terminationGracePeriodSeconds: 2
              containers:
              - name: app
                image: %2$s
                imagePullPolicy: IfNotPresent
                command: [sh, -c, 'mkdir -p /tmp/www && echo payments-%1$s > /tmp/www/index.html && httpd -p %3$d -h /tmp/www && exec httpd -f -p 8080 -h /tmp/www']
                ports: [{containerPort: 8080}]
        """.formatted(version, busybox, EXCLUDED_PORT);
  }

  /** Sends {@code count} requests to {@code http://payments:8080/} from inside web, counting who answered ("failed" for errors). */
  private static Map<String, Integer> requests(Kubectl kubectl, int count) {
    return count(exec(kubectl, "web", ("n=0; while [ $n -lt %d ]; do n=$((n+1)); "
        + "timeout 5 wget -qO- http://payments:8080/ || echo failed; done").formatted(count)));
  }

  /** One counter or gauge of the sidecar of {@code app}'s pod (0 when absent), from Envoy's admin on the pod's loopback. */
  private static long stat(Kubectl kubectl, String app, String name) {
    String stats = exec(kubectl, app, "timeout 10 wget -qO- 'http://127.0.0.1:15000/stats?filter=" + name + "'")
        .requireSuccess().stdout();
    Matcher value = Pattern.compile("^" + Pattern.quote(name) + ": (\\d+)$", Pattern.MULTILINE).matcher(stats);
    return value.find() ? Long.parseLong(value.group(1)) : 0;
  }

  /** The sum of the sidecar statistics of {@code app}'s pod whose names match {@code regex}. */
  private static long sum(Kubectl kubectl, String app, String regex) {
    String stats = exec(kubectl, app, "timeout 10 wget -qO- 'http://127.0.0.1:15000/stats?filter=" + regex + "'")
        .requireSuccess().stdout();
    return stats.lines().map(line -> line.substring(line.lastIndexOf(' ') + 1)).filter(v -> v.matches("\\d+"))
        .mapToLong(Long::parseLong).sum();
  }

  private static Map<String, Integer> count(CommandResult result) {
    Map<String, Integer> answers = new TreeMap<>();
    result.stdout().lines().map(String::strip).filter(line -> !line.isEmpty())
        .forEach(line -> answers.merge(line, 1, Integer::sum));
    return answers;
  }

  /** {@code script} run by sh in the app container of Deployment {@code app}. */
  private static CommandResult exec(Kubectl kubectl, String app, String script) {
    return kubectl.withTimeout(Duration.ofMinutes(3)).run("exec", "-n", NS, "deploy/" + app, "-c", "app", "--",
        "sh", "-c", script);
  }

  private static double share(Map<String, Integer> answers, String who) {
    int total = answers.values().stream().mapToInt(Integer::intValue).sum();
    return total == 0 ? 0 : answers.getOrDefault(who, 0) / (double) total;
  }

  private static void print(String phase, Map<String, Integer> answers) {
    int total = answers.values().stream().mapToInt(Integer::intValue).sum();
    StringBuilder line = new StringBuilder("mesh on the node, " + phase + ":");
    answers.forEach((who, n) -> line.append(String.format("  %s %d (%.1f%%)", who, n, 100.0 * n / total)));
    System.out.println(line);
  }

  private static String split(int v1, int v2) {
    return """
        apiVersion: weft.dev/v1alpha1
        kind: TrafficSplit
        metadata: {name: payments-canary, namespace: shop}
        spec:
          service: payments
          backends:
          - {service: payments-v1, weight: %d}
          - {service: payments-v2, weight: %d}
        """.formatted(v1, v2);
  }
}
