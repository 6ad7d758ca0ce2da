package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.JsonFormat;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeNode;
import dev.weft.testsupport.KubeNodeTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import dev.weft.xds.translate.MeshTranslator;
import dev.weft.xds.translate.ProxyConfig;
import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Capture for real, on the node, with what the translator gives a capture-mode sidecar of a mesh
 * that knows none of the Services involved: a hand-written injected-style pod (an init container
 * from the iptables image redirecting all outbound TCP but the proxy's user 1337 to 15001, and
 * inbound TCP to 15006; Envoy as 1337 with the translated listeners and clusters as its static
 * config; a busybox app) calls {@code http://greeter:8080/} by name. The cluster DNS resolves the
 * name (DNS is UDP: not captured), the app's connection to the cluster IP is redirected to Envoy,
 * and Envoy passes it through to where it was headed, through kube-proxy to the greeter pod. The
 * other way, a connection to a port the pod declares nowhere arrives at 15006 and reaches the app
 * through the inbound passthrough. What the injection webhook will add to pods, written by hand.
 */
@KubeNodeTest
class PassthroughOnNodeTest {

  private static final String NAMESPACE = "passthrough-check";
  /** The app's port that no Service of the mesh declares: inbound passthrough takes it to the app. */
  private static final int UNDECLARED_PORT = 8081;

  @BeforeAll
  static void runACapturedPodAndAServiceOutsideTheMesh(KubeNode node, Kubectl kubectl) throws Exception {
    Path images = WeftTools.locate().dir().resolve("images");
    String iptables = node.load(images.resolve("iptables.tar"));
    String envoy = node.load(images.resolve("envoy.tar"));
    String busybox = node.load(images.resolve("busybox.tar"));
    // The mesh knows nothing: every connection is one the sidecar must pass through.
    ProxyGroup group = new ProxyGroup(ProxyGroup.Kind.SIDECAR, NAMESPACE, "client", ProxyGroup.ANY_ADDRESS, List.of());
    ProxyConfig config = new MeshTranslator().translate(MeshState.EMPTY, List.of(group)).config(group);
    Bootstrap bootstrap = GeneratedCorpusTest.bootstrap("client." + NAMESPACE, config).toBuilder()
        .setAdmin(Admin.newBuilder().setAddress(Address.newBuilder()
            .setSocketAddress(SocketAddress.newBuilder().setAddress("127.0.0.1").setPortValue(15000))))
        .build();
    String json = JsonFormat.printer().usingTypeRegistry(GeneratedCorpusTest.TYPES).omittingInsignificantWhitespace()
        .print(bootstrap);

    kubectl.apply("""
        apiVersion: v1
        kind: Namespace
        metadata: {name: %1$s}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: greeter, namespace: %1$s, labels: {app: greeter}}
        spec:
          containers:
          - name: web
            image: %4$s
            imagePullPolicy: IfNotPresent
            command: [sh, -c, 'mkdir -p /tmp/www && echo hello from greeter > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www']
            readinessProbe:
              tcpSocket: {port: 8080}
              periodSeconds: 1
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: greeter, namespace: %1$s}
        spec:
          selector: {app: greeter}
          ports: [{port: 8080, targetPort: 8080}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client, namespace: %1$s}
        spec:
          initContainers:
          - name: capture
            image: %2$s
            imagePullPolicy: IfNotPresent
            # Outbound: all TCP but the proxy's own (uid 1337) and loopback, to 15001. Inbound: all TCP
            # but the sidecar's ports, to 15006.
            command: [sh, -c, 'iptables -w 5 -t nat -A OUTPUT -p tcp -m owner --uid-owner 1337 -j RETURN
              && iptables -w 5 -t nat -A OUTPUT -p tcp -d 127.0.0.0/8 -j RETURN
              && iptables -w 5 -t nat -A OUTPUT -p tcp -j REDIRECT --to-ports 15001
              && iptables -w 5 -t nat -A PREROUTING -p tcp -m multiport ! --dports 15000,15001,15006,15090 -j REDIRECT --to-ports 15006
              && iptables -w 5 -t nat -S']
            securityContext:
              runAsUser: 0
              capabilities: {add: [NET_ADMIN, NET_RAW], drop: [ALL]}
          containers:
          - name: envoy
            image: %3$s
            imagePullPolicy: IfNotPresent
            args: [-c, /etc/envoy/envoy.json, --disable-hot-restart, -l, warning]
            securityContext: {runAsUser: 1337, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
            readinessProbe:
              tcpSocket: {port: 15001}
              periodSeconds: 1
            volumeMounts: [{name: bootstrap, mountPath: /etc/envoy}]
          - name: app
            image: %4$s
            imagePullPolicy: IfNotPresent
            command: [sh, -c, 'mkdir -p /tmp/www && echo hello from the app > /tmp/www/index.html && exec httpd -f -p %6$d -h /tmp/www']
          volumes:
          - name: bootstrap
            configMap: {name: client-sidecar}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: client-sidecar, namespace: %1$s}
        data:
          envoy.json: '%5$s'
        """.formatted(NAMESPACE, iptables, envoy, busybox, json.replace("'", "''"),
        UNDECLARED_PORT)).requireSuccess();
    for (String pod : List.of("greeter", "client")) {
      await("pod " + pod + " Ready (kubelet log " + node.logFile("kubelet") + ")")
          .atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
          .until(() -> kubectl.run("get", "pod", pod, "-n", NAMESPACE, "-o",
              "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}").stdout(), "True"::equals);
    }
  }

  @Test
  void theAppsCallByServiceNameGoesThroughEnvoyToTheServiceOutsideTheMesh(Kubectl kubectl) {
    long before = stat(kubectl, "cluster.passthrough.upstream_cx_total");

    // The Service's cluster IP is programmed by kube-proxy a moment after the greeter turns Ready.
    // `timeout`, not wget's -T, which crashes Debian's static busybox 1.35.
    await("http://greeter:8080/ from the captured app").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> kubectl.run("exec", "client", "-n", NAMESPACE, "-c", "app", "--",
            "timeout", "10", "wget", "-qO-", "http://greeter:8080/index.html").stdout(), "hello from greeter\n"::equals);

    long after = stat(kubectl, "cluster.passthrough.upstream_cx_total");
    System.out.println("on the node: http://greeter:8080/ from the captured app answered through Envoy's passthrough;"
        + " cluster.passthrough.upstream_cx_total " + before + " -> " + after);
    assertThat(after).isGreaterThan(before);
    assertThat(stat(kubectl, "tcp.passthrough.downstream_cx_total")).isPositive();
    assertThat(kubectl.run("logs", "client", "-n", NAMESPACE, "-c", "capture").requireSuccess().stdout())
        .contains("-A OUTPUT -p tcp -j REDIRECT --to-ports 15001");
  }

  @Test
  void aPortThePodDeclaresNowhereReachesTheAppThroughTheInboundPassthrough(Kubectl kubectl) {
    String clientIp = kubectl.run("get", "pod", "client", "-n", NAMESPACE, "-o", "jsonpath={.status.podIP}")
        .requireSuccess().stdout().strip();
    long before = stat(kubectl, "cluster.inbound|passthrough.upstream_cx_total");

    CommandResult call = kubectl.run("exec", "greeter", "-n", NAMESPACE, "--",
        "timeout", "10", "wget", "-qO-", "http://" + clientIp + ":" + UNDECLARED_PORT + "/index.html");

    assertThat(call.requireSuccess().stdout()).isEqualTo("hello from the app\n");
    long after = stat(kubectl, "cluster.inbound|passthrough.upstream_cx_total");
    System.out.println("on the node: " + clientIp + ":" + UNDECLARED_PORT + " reached the app through the inbound"
        + " passthrough; cluster.inbound|passthrough.upstream_cx_total " + before + " -> " + after);
    assertThat(after).isGreaterThan(before);
  }

  /** A counter of the client's sidecar, read from its admin on the pod's loopback (0 while Envoy has not made it). */
  private static long stat(Kubectl kubectl, String name) {
    String stats = kubectl.run("exec", "client", "-n", NAMESPACE, "-c", "app", "--",
        "timeout", "10", "wget", "-qO-", "http://127.0.0.1:15000/stats?filter=passthrough").requireSuccess().stdout();
    Matcher value = Pattern.compile("(?m)^" + Pattern.quote(name) + ": (\\d+)$").matcher(stats);
    return value.find() ? Long.parseLong(value.group(1)) : 0;
  }
}
