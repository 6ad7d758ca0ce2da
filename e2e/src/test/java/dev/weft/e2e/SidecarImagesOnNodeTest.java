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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The images a capture-mode pod needs, built by {@code make tools} and run on the real node: an
 * init container from the iptables image writes the REDIRECT rule into the pod's own network
 * namespace, the Envoy image runs (as uid 1337, read-only root) next to the app, and a request the app makes to a
 * Service-range address arrives at Envoy's port 15001 with the dialled address intact. What the
 * injection issue's webhook will add to pods, written here by hand.
 */
@KubeNodeTest
class SidecarImagesOnNodeTest {

  private static final String NAMESPACE = "sidecar-check";

  @BeforeAll
  static void runAPodWithTheCaptureInitContainerAndEnvoy(KubeNode node, Kubectl kubectl) {
    Path images = WeftTools.locate().dir().resolve("images");
    String iptables = node.load(images.resolve("iptables.tar"));
    String envoy = node.load(images.resolve("envoy.tar"));
    String busybox = node.load(images.resolve("busybox.tar"));
    kubectl.apply("""
        apiVersion: v1
        kind: Namespace
        metadata: {name: %1$s}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: echo-destination, namespace: %1$s}
        data:
          envoy.yaml: |
            admin:
              address: { socket_address: { address: 127.0.0.1, port_value: 15000 } }
            static_resources:
              listeners:
              - name: capture
                address: { socket_address: { address: 0.0.0.0, port_value: 15001 } }
                listener_filters:
                - name: envoy.filters.listener.original_dst
                  typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst }
                filter_chains:
                - filters:
                  - name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                      stat_prefix: capture
                      http_filters:
                      - name: envoy.filters.http.router
                        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                      route_config:
                        virtual_hosts:
                        - name: all
                          domains: ["*"]
                          routes:
                          - match: { prefix: / }
                            direct_response: { status: 200, body: { inline_string: "captured by envoy\\n" } }
                            response_headers_to_add:
                            - header: { key: x-original-destination, value: "%%DOWNSTREAM_LOCAL_ADDRESS%%" }
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: captured, namespace: %1$s}
        spec:
          initContainers:
          - name: capture
            image: %2$s
            imagePullPolicy: IfNotPresent
            command: [sh, -c, 'iptables -w 5 -t nat -A OUTPUT -p tcp -d 198.19.0.0/16 -j REDIRECT --to-ports 15001 && iptables -w 5 -t nat -S OUTPUT']
            securityContext:
              runAsUser: 0
              capabilities: {add: [NET_ADMIN, NET_RAW], drop: [ALL]}
          containers:
          - name: envoy
            image: %3$s
            imagePullPolicy: IfNotPresent
            args: [-c, /etc/envoy/envoy.yaml, --disable-hot-restart, -l, warning]
            securityContext: {runAsUser: 1337, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
            readinessProbe:
              tcpSocket: {port: 15001}
              periodSeconds: 1
            volumeMounts: [{name: bootstrap, mountPath: /etc/envoy}]
          - name: app
            image: %4$s
            imagePullPolicy: IfNotPresent
            command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
          volumes:
          - name: bootstrap
            configMap: {name: echo-destination}
        """.formatted(NAMESPACE, iptables, envoy, busybox)).requireSuccess();
    await("pod captured Ready (kubelet log " + node.logFile("kubelet") + ")")
        .atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
        .until(() -> kubectl.run("get", "pod", "captured", "-n", NAMESPACE, "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}").stdout(), "True"::equals);
  }

  @Test
  void theInitContainerRedirectsThePodsOutboundTcp(Kubectl kubectl) {
    assertThat(kubectl.run("logs", "captured", "-n", NAMESPACE, "-c", "capture").requireSuccess().stdout())
        .contains("-A OUTPUT -d 198.19.0.0/16 -p tcp -j REDIRECT --to-ports 15001");
  }

  @Test
  void envoyReceivesTheAppsRequestWithTheDialledAddress(Kubectl kubectl) {
    // `timeout`, not wget's -T, which crashes Debian's static busybox 1.35.
    CommandResult request = kubectl.run("exec", "captured", "-n", NAMESPACE, "-c", "app", "--",
        "timeout", "10", "wget", "-S", "-qO-", "http://198.19.200.7:8080/anything");

    assertThat(request.requireSuccess().stdout()).isEqualTo("captured by envoy\n");
    assertThat(request.stderr()).containsIgnoringCase("x-original-destination: 198.19.200.7:8080");
  }

  @Test
  void envoyServesItsAdminOnThePodsLoopback(Kubectl kubectl) {
    assertThat(kubectl.run("get", "pod", "captured", "-n", NAMESPACE, "-o",
        "jsonpath={.status.containerStatuses[?(@.name==\"envoy\")].ready}").requireSuccess().stdout())
        .isEqualTo("true");
    // The app shares the pod's network with Envoy: the admin port answers on the pod's loopback.
    assertThat(kubectl.run("exec", "captured", "-n", NAMESPACE, "-c", "app", "--",
        "timeout", "10", "wget", "-qO-", "http://127.0.0.1:15000/server_info").requireSuccess().stdout())
        .contains("\"state\": \"LIVE\"");
  }
}
