package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeNode;
import dev.weft.testsupport.KubeNodeTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import dev.weft.xds.bootstrap.SidecarBootstrap;
import dev.weft.xds.tls.IdentitySds;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import dev.weft.xds.bootstrap.SidecarBootstrap.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A canary between real pods: the chart's xds-server programs Envoy sidecars (added by hand to
 * payments-v1, payments-v2 and web, in capture mode behind an iptables init container, reaching
 * the xds-server through its ClusterIP Service), and requests made inside {@code web} to the
 * {@code payments} ClusterIP follow a TrafficSplit: 90/10, patched live to 50/50 and back; an
 * xds-server pod killed under traffic loses no request and Envoy reconnects to the other replica.
 */
@KubeNodeTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CanaryOnNodeTest {

  private static final String NS = "shop";
  private static final int SAMPLE = 500;
  private static KubeNode node;
  private static String paymentsIp;

  @BeforeAll
  static void runTheShopWithSidecars(KubeNode theNode, Kubectl kubectl) {
    node = theNode;
    WeftOnNode.install(node, kubectl);
    Path images = WeftTools.locate().dir().resolve("images");
    String iptables = node.load(images.resolve("iptables.tar"));
    String envoy = node.load(images.resolve("envoy.tar"));
    String busybox = node.load(images.resolve("busybox.tar"));
    String xdsIp = kubectl.run("get", "service", "weft-xds", "-n", WeftOnNode.NAMESPACE, "-o",
        "jsonpath={.spec.clusterIP}").requireSuccess().stdout().strip();

    StringBuilder shop = new StringBuilder("""
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        """);
    for (String service : List.of("payments", "payments-v1", "payments-v2", "web")) {
      String selector = switch (service) {
        case "payments" -> "{app: payments}";
        case "payments-v1" -> "{app: payments, version: v1}";
        case "payments-v2" -> "{app: payments, version: v2}";
        default -> "{app: web}";
      };
      shop.append("""
          ---
          apiVersion: v1
          kind: Service
          metadata: {name: %s, namespace: shop}
          spec:
            selector: %s
            ports: [{name: http, port: 80, targetPort: 8080}]
          """.formatted(service, selector));
    }
    shop.append(deployment("payments-v1", "{app: payments, version: v1}", xdsIp, iptables, envoy, busybox));
    shop.append(deployment("payments-v2", "{app: payments, version: v2}", xdsIp, iptables, envoy, busybox));
    shop.append(deployment("web", "{app: web}", xdsIp, iptables, envoy, busybox));
    kubectl.apply(shop.toString()).requireSuccess();
    kubectl.apply(split(90, 10)).requireSuccess();
    for (String name : List.of("payments-v1", "payments-v2", "web")) {
      kubectl.withTimeout(Duration.ofMinutes(3))
          .run("rollout", "status", "deployment/" + name, "-n", NS, "--timeout=150s").requireSuccess();
    }
    paymentsIp = kubectl.run("get", "service", "payments", "-n", NS, "-o", "jsonpath={.spec.clusterIP}")
        .requireSuccess().stdout().strip();
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
  void splitsNinetyTen(Kubectl kubectl) {
    Map<String, Integer> answers = requests(kubectl, SAMPLE);
    print("90/10", answers);
    assertThat(answers.keySet()).containsOnly("payments-v1", "payments-v2");
    assertThat(share(answers, "payments-v2")).isBetween(0.05, 0.15);
    // Over mTLS: web's sidecar handshook with the xds-server and with both payments sidecars.
    Map<String, Long> handshakes = new TreeMap<>();
    exec(kubectl, "wget -qO- 'http://127.0.0.1:15000/stats?filter=ssl.handshake$'").stdout().lines()
        .map(String::strip).filter(line -> line.contains(": "))
        .forEach(line -> handshakes.put(line.substring(0, line.indexOf(": ")),
            Long.parseLong(line.substring(line.indexOf(": ") + 2))));
    System.out.println("canary on the node, web's sidecar TLS handshakes: " + handshakes);
    assertThat(handshakes.get("cluster.weft-xds.ssl.handshake")).as(handshakes.toString()).isPositive();
    assertThat(handshakes).as("mTLS to both payments versions")
        .hasEntrySatisfying("cluster.outbound|80|payments-v1.shop.svc.cluster.local.ssl.handshake",
            n -> assertThat(n).isPositive())
        .hasEntrySatisfying("cluster.outbound|80|payments-v2.shop.svc.cluster.local.ssl.handshake",
            n -> assertThat(n).isPositive());
  }

  @Test
  @Order(2)
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
  @Order(3)
  void losesNoRequestWhenAnXdsServerPodIsKilled(Kubectl kubectl) throws Exception {
    List<String> xdsPods = List.of(kubectl.run("get", "pods", "-n", WeftOnNode.NAMESPACE, "-l",
        "app.kubernetes.io/component=xds", "-o", "jsonpath={.items[*].metadata.name}").requireSuccess().stdout()
        .strip().split(" "));
    assertThat(xdsPods).hasSize(2);
    // Traffic for a bounded while (at most 150 s and 20,000 requests) around both replacements.
    CompletableFuture<Map<String, Integer>> traffic = CompletableFuture.supplyAsync(() -> count(exec(kubectl,
        ("end=$(( $(date +%%s) + 150 )); n=0; while [ $n -lt 20000 ] && [ $(date +%%s) -lt $end ]; do n=$((n+1)); "
            + "timeout 5 wget -qO- http://%s/ || echo failed; [ -e /tmp/stop ] && break; done").formatted(paymentsIp))));
    Thread.sleep(2000);
    for (String pod : xdsPods) {
      // Kill one replica at a time; whichever the sidecar was connected to, it must move to the other.
      kubectl.run("delete", "pod", pod, "-n", WeftOnNode.NAMESPACE, "--grace-period=0", "--force", "--wait=false")
          .requireSuccess();
      WeftOnNode.awaitReady(node, kubectl, "weft-xds");
    }
    Thread.sleep(2000);
    exec(kubectl, "touch /tmp/stop").requireSuccess();
    Map<String, Integer> answers = traffic.get(3, TimeUnit.MINUTES);
    exec(kubectl, "rm -f /tmp/stop");
    print("while both xds-server pods were replaced in turn", answers);
    assertThat(answers.getOrDefault("failed", 0)).isZero();
    assertThat(answers.values().stream().mapToInt(Integer::intValue).sum()).isGreaterThan(100);
    await("web's sidecar connected to an xds-server again").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> exec(kubectl, "wget -qO- 'http://127.0.0.1:15000/stats?filter=control_plane.connected_state'")
            .stdout(), stats -> stats.contains("control_plane.connected_state: 1"));
  }

  /** Sends {@code count} requests to the payments ClusterIP from inside web, counting who answered ("failed" for errors). */
  private static Map<String, Integer> requests(Kubectl kubectl, int count) {
    return count(exec(kubectl, ("n=0; while [ $n -lt %d ]; do n=$((n+1)); "
        + "timeout 5 wget -qO- http://%s/ || echo failed; done").formatted(count, paymentsIp)));
  }

  private static Map<String, Integer> count(CommandResult result) {
    Map<String, Integer> answers = new TreeMap<>();
    result.stdout().lines().map(String::strip).filter(line -> !line.isEmpty())
        .forEach(line -> answers.merge(line, 1, Integer::sum));
    return answers;
  }

  private static CommandResult exec(Kubectl kubectl, String script) {
    return kubectl.withTimeout(Duration.ofMinutes(3)).run("exec", "-n", NS, "deploy/web", "-c", "app", "--",
        "sh", "-c", script);
  }

  private static double share(Map<String, Integer> answers, String who) {
    int total = answers.values().stream().mapToInt(Integer::intValue).sum();
    return total == 0 ? 0 : answers.getOrDefault(who, 0) / (double) total;
  }

  private static void print(String phase, Map<String, Integer> answers) {
    int total = answers.values().stream().mapToInt(Integer::intValue).sum();
    StringBuilder line = new StringBuilder("canary on the node, " + phase + ":");
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

  /**
   * A Deployment of one pod: busybox httpd answering its name on 8080, an Envoy sidecar (uid 1337)
   * bootstrapped from {@link SidecarBootstrap} in a ConfigMap, with its ServiceAccount's certificate
   * Secret and the SDS files mounted, and the init container that sends the pod's TCP to the
   * Service range, except Envoy's own, to Envoy's port 15001, and what arrives for the app's port
   * 8080 to Envoy's inbound port 15006 (the callers' sidecars speak mTLS, which the inbound listener
   * terminates).
   */
  private static String deployment(String name, String labels, String xdsIp, String iptables, String envoy,
      String busybox) {
    // The chart's ADS port is mTLS: the sidecar presents its ServiceAccount's certificate (the
    // operator issues weft-identity-default once it sees this meshed pod) and accepts only the
    // xds-server's SPIFFE ID.
    String bootstrap = SidecarBootstrap.json(SidecarBootstrap.build(
        Workload.inPod(name, NS, "default", List.of(8080)), xdsIp, 18000, Transport.STATE_OF_THE_WORLD,
        "spiffe://cluster.local/ns/" + WeftOnNode.NAMESPACE + "/sa/weft-xds"));
    Map<String, String> sds = SidecarBootstrap.sdsFiles(IdentitySds.POD_IDENTITY_DIRECTORY);
    StringBuilder sdsData = new StringBuilder();
    sds.forEach((file, json) -> sdsData.append("\n  ").append(file).append(": '")
        .append(json.replace("'", "''").replace("\n", " ")).append("'"));
    return """
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: %1$s-sds, namespace: shop}
        data:%8$s
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: %1$s-sidecar, namespace: shop}
        data:
          envoy.json: '%2$s'
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: %1$s, namespace: shop}
        spec:
          replicas: 1
          selector: {matchLabels: %3$s}
          template:
            metadata: {labels: %3$s}
            spec:
              initContainers:
              - name: capture
                image: %4$s
                imagePullPolicy: IfNotPresent
                command: [sh, -c, 'iptables -w 5 -t nat -A OUTPUT -p tcp -d %7$s -m owner ! --uid-owner 1337 -j REDIRECT --to-ports 15001 && iptables -w 5 -t nat -A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 15006']
                securityContext: {runAsUser: 0, capabilities: {add: [NET_ADMIN, NET_RAW], drop: [ALL]}}
              containers:
              - name: app
                image: %6$s
                imagePullPolicy: IfNotPresent
                command: [sh, -c, 'mkdir -p /tmp/www && echo %1$s > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www']
                ports: [{containerPort: 8080}]
              - name: weft-proxy
                image: %5$s
                imagePullPolicy: IfNotPresent
                args: [-c, /etc/envoy/envoy.json, --disable-hot-restart, -l, warning]
                securityContext: {runAsUser: 1337, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
                volumeMounts:
                - {name: bootstrap, mountPath: /etc/envoy}
                - {name: sds, mountPath: /var/run/weft/sds}
                - {name: identity, mountPath: /var/run/weft/identity, readOnly: true}
              volumes:
              - name: bootstrap
                configMap: {name: %1$s-sidecar}
              - name: sds
                configMap: {name: %1$s-sds}
              - name: identity
                secret: {secretName: weft-identity-default, defaultMode: 0444}
        """.formatted(name, bootstrap.replace("'", "''").replace("\n", " "), labels, iptables, envoy, busybox,
        node.state().serviceCidr(), sdsData);
  }
}
