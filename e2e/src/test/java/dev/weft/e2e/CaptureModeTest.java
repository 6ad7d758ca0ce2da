package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.demo.MeshObjects;
import dev.weft.demo.WeftCrds;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.HttpBackend;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.NetworkNamespace;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import dev.weft.xds.bootstrap.SidecarBootstrap.Workload;
import dev.weft.xds.translate.ListenerTranslator;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A sidecar in capture mode, as an injected pod runs it, carrying real traffic: a real Envoy with
 * no {@code WEFT_INBOUND_ADDRESS} (outbound listener on 0.0.0.0:15001 with original_dst) inside a
 * private network namespace whose iptables rules redirect every TCP connection to the Service range
 * 198.19.0.0/16 and to the host end of the veth pair to port 15001, except the proxy's own (its
 * user, root here), as the sidecar's init container will. A client (curl, as the application's
 * user {@value #APP_UID}) in the namespace dials Service cluster IPs; nothing else listens on them,
 * so every answer came through Envoy, and Envoy picked the Service from the address the client
 * dialled. It also dials destinations outside the mesh, which Envoy passes through to where the
 * client was headed.
 *
 * <p>The backends are {@link HttpBackend}s in this JVM, bound on the host end of the veth pair:
 * they are the Services' endpoints (plain IPv4 addresses, as pods have), reachable from inside the
 * namespace without a sidecar of their own, and the test reads what they saw; "outside" ones, in
 * no Service, stand for destinations outside the mesh. Envoy's own connections to them and to the
 * xds-server are exempt from the redirect by its user.
 */
@KubeApiServerTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CaptureModeTest {

  static final String NS = "capture";
  /** This class's veth /30 is 198.18.10.0/30, like CanaryTest's local pods on 127.0.10.x. */
  static final int SUBNET = 10;
  static final String SERVICE_RANGE = "198.19.0.0/16";
  static final String PAYMENTS = "198.19.0.10:8080";
  static final String ORDERS = "198.19.0.13:8080";
  static final String LEDGER = "198.19.0.20:9000";
  /** An address of the range where no Service is. */
  static final String NOWHERE = "198.19.0.99:8080";
  static final int REQUESTS = 1000;
  /** The application's user (nobody): its connections are redirected; the proxy's (root) are not. */
  static final int APP_UID = 65534;
  /** Envoy runs as this test's user, root: exempt from the redirect, as the proxy's user is in a pod. */
  static final int PROXY_UID = 0;

  /** The extra Service range the apiserver allocates the test's cluster IPs from. */
  static final String SERVICE_CIDR = """
      apiVersion: networking.k8s.io/v1
      kind: ServiceCIDR
      metadata:
        name: weft-capture
      spec:
        cidrs: ["198.19.0.0/16"]
      """;
  static final String SPLIT = """
      apiVersion: weft.dev/v1alpha1
      kind: TrafficSplit
      metadata:
        name: payments-canary
        namespace: capture
      spec:
        service: payments
        backends:
        - service: payments-v1
          weight: %d
        - service: payments-v2
          weight: %d
      """;

  static NetworkNamespace netns;
  static XdsServerApp xds;
  static EnvoyProcess sidecar;
  static final Map<String, HttpBackend> backends = new LinkedHashMap<>();

  @BeforeAll
  static void startMesh(Kubectl kubectl, KubernetesClient client) throws Exception {
    netns = NetworkNamespace.create("capture", SUBNET);
    InetAddress hostEnd = InetAddress.getByName(netns.hostAddress());
    for (String name : List.of("payments-v1", "payments-v2", "orders", "ledger", "audit", "outside")) {
      backends.put(name, HttpBackend.start(name, hostEnd));
    }
    // Outside the mesh, on ports mesh Services use (payments' HTTP 8080, ledger's TCP 9000); the
    // host end's address is this test's own, so the ports are free there.
    backends.put("outside-8080", HttpBackend.start("outside-8080", hostEnd, 8080));
    backends.put("outside-9000", HttpBackend.start("outside-9000", hostEnd, 9000));

    WeftCrds.install(kubectl);
    kubectl.apply(SERVICE_CIDR).requireSuccess();
    String services = String.join("---\n",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + NS + "\n",
        service("payments", "198.19.0.10", "http", 8080),
        service("payments-v1", "198.19.0.11", "http", 8080),
        service("payments-v2", "198.19.0.12", "http", 8080),
        service("orders", "198.19.0.13", "http", 8080),
        // A TCP port (the name says so) whose backend happens to speak HTTP, so curl can read it.
        service("ledger", "198.19.0.20", "tcp", 9000),
        service("audit", "None", "http", 8080));
    // The apiserver learns of the new ServiceCIDR through its own informer, a moment after it exists.
    await("the apiserver allocates cluster IPs from " + SERVICE_RANGE).atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> kubectl.apply(services).succeeded());
    MeshObjects objects = new MeshObjects(client, NS);
    objects.endpoints("payments", "http", List.of(backends.get("payments-v1").address()));
    objects.endpoints("payments-v1", "http", List.of(backends.get("payments-v1").address()));
    objects.endpoints("payments-v2", "http", List.of(backends.get("payments-v2").address()));
    objects.endpoints("orders", "http", List.of(backends.get("orders").address()));
    objects.endpoints("ledger", "tcp", List.of(backends.get("ledger").address()));
    objects.endpoints("audit", "http", List.of(backends.get("audit").address()));
    kubectl.apply(SPLIT.formatted(90, 10)).requireSuccess();

    // Bound where the namespace can reach it: the host end of the veth pair.
    xds = XdsServerApp.start(client, new XdsServerApp.Config(netns.hostAddress(), 0, 0, Set.of(NS)));

    // The route only lets connect() start (the kernel routes before the nat OUTPUT hook); the
    // redirect then sends the application's TCP connections to the range, and to the host end (where
    // the destinations outside the mesh are), to Envoy on 15001. Envoy's own connections are exempt
    // by its user, so passing one through to its original destination does not come back; what it
    // sends to the range reaches the host, whose guard route drops it.
    netns.routeToHost(SERVICE_RANGE);
    netns.redirectOutboundTcp(SERVICE_RANGE, ListenerTranslator.OUTBOUND_PORT, PROXY_UID);
    netns.redirectOutboundTcp(netns.hostAddress() + "/32", ListenerTranslator.OUTBOUND_PORT, PROXY_UID);

    // Capture mode: no inbound address. Admin on the namespace's own address, so the test reaches it.
    Workload web = new Workload("web", NS, "web", "", List.of(), netns.namespaceAddress(),
        SidecarBootstrap.ADMIN_PORT, SidecarBootstrap.STATS_PORT);
    sidecar = EnvoyProcess.builder("web-capture")
        .launcher(netns.enter())
        .bootstrap(SidecarBootstrap.json(SidecarBootstrap.build(web, netns.hostAddress(), xds.xdsPort(),
            Transport.DELTA)))
        .start();
    await("payments answers through the captured sidecar").atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> curl(PAYMENTS, null, 1).answers().keySet().stream().anyMatch(a -> a.startsWith("payments-v")));
  }

  @AfterAll
  static void stopMesh(Kubectl kubectl) {
    try {
      if (sidecar != null) {
        sidecar.close();
      }
      if (xds != null) {
        xds.close();
      }
      backends.values().forEach(HttpBackend::close);
      if (kubectl != null) {
        // Frees the cluster IPs; the ServiceCIDR may stay Terminating without a controller-manager.
        kubectl.run("delete", "namespace", NS, "--wait=false");
        kubectl.run("delete", "services", "--all", "-n", NS, "--wait=false");
        kubectl.run("delete", "servicecidr", "weft-capture", "--wait=false");
      }
    } finally {
      if (netns != null) {
        netns.close();
        assertThat(netns.leftovers()).isEmpty();
      }
    }
  }

  @Test
  @Order(1)
  void envoyAcceptsTheCaptureModeConfig() {
    assertThat(netns.natRules()).contains(
        "-A OUTPUT -d " + SERVICE_RANGE + " -p tcp -m owner ! --uid-owner 0 -j REDIRECT --to-ports 15001",
        "-A OUTPUT -d " + netns.hostAddress() + "/32 -p tcp -m owner ! --uid-owner 0 -j REDIRECT --to-ports 15001");
    String listeners = sidecar.configDump("dynamic_listeners");
    assertThat(listeners).contains("\"address\": \"0.0.0.0\"", "\"port_value\": 15001",
        "envoy.filters.listener.original_dst");
    Map<String, String> rejected = new LinkedHashMap<>();
    sidecar.stats().forEach((name, value) -> {
      if (name.endsWith("update_rejected") && !value.equals("0")) {
        rejected.put(name, value);
      }
    });
    assertThat(rejected).as("xDS updates the sidecar rejected").isEmpty();
  }

  @Test
  @Order(2)
  void splitsNinetyTenOnTheClusterIp() {
    Tally tally = curl(PAYMENTS, null, REQUESTS);

    System.out.println("capture mode, TrafficSplit 90/10, " + REQUESTS + " requests to " + PAYMENTS + ": " + tally);
    assertThat(tally.total()).isEqualTo(REQUESTS);
    assertThat(tally.count("payments-v1") + tally.count("payments-v2")).isEqualTo(REQUESTS);
    assertThat(tally.share("payments-v2")).isBetween(0.05, 0.15);
    // Routed by an HTTP connection manager, not passed through: Envoy added its request id.
    assertThat(backends.get("payments-v1").lastRequest().orElseThrow().header("x-request-id")).isPresent();
  }

  /**
   * Needs the capture-mode translator of issue 10: each HTTP Service port with a cluster IP gets a
   * filter chain of its own whose routes hold only that port, so the address decides. Before it,
   * the catch-all routes by Host header and these requests get 404.
   */
  @Test
  @Order(3)
  void routesByTheDialledAddressWhateverTheHostHeaderSays() {
    Tally bogus = curl(PAYMENTS, "bogus.invalid", REQUESTS);
    Tally misnamed = curl(ORDERS, "payments", 50);

    System.out.println("capture mode, Host: bogus.invalid to " + PAYMENTS + ": " + bogus
        + "; Host: payments to " + ORDERS + ": " + misnamed);
    assertThat(bogus.count("payments-v1") + bogus.count("payments-v2")).as(bogus.toString()).isEqualTo(REQUESTS);
    assertThat(bogus.share("payments-v2")).isBetween(0.05, 0.15);
    assertThat(misnamed.count("orders")).as(misnamed.toString()).isEqualTo(50);
  }

  @Test
  @Order(4)
  void sendsEverythingToPaymentsV2OnceTheSplitSaysZeroHundred(Kubectl kubectl) {
    kubectl.apply(SPLIT.formatted(0, 100)).requireSuccess();
    await("every request to " + PAYMENTS + " goes to payments-v2").atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> curl(PAYMENTS, null, 20).count("payments-v2") == 20);

    Tally tally = curl(PAYMENTS, null, 500);

    System.out.println("capture mode, TrafficSplit 0/100, 500 requests: " + tally);
    assertThat(tally.count("payments-v2")).as(tally.toString()).isEqualTo(500);
  }

  @Test
  @Order(5)
  void proxiesTcpServicePortThroughItsClusterIpChain() {
    long before = sidecar.counter("tcp.outbound|9000|ledger.capture.svc.cluster.local.downstream_cx_total");

    Tally tally = curl(LEDGER, "bogus.invalid", 3);

    assertThat(tally.count("ledger")).as(tally.toString()).isEqualTo(3);
    assertThat(sidecar.counter("tcp.outbound|9000|ledger.capture.svc.cluster.local.downstream_cx_total"))
        .isGreaterThan(before);
    // Bytes passed through as they were: no HTTP connection manager added a request id.
    assertThat(backends.get("ledger").lastRequest().orElseThrow().header("x-request-id")).isEmpty();
  }

  /**
   * Issue 13: once iptables captures all of a pod's outbound TCP, a call to a destination outside
   * the mesh must still arrive there. Envoy passes it through, as bytes, to the address the client
   * dialled (the ORIGINAL_DST cluster {@code passthrough}), and counts it.
   */
  @Test
  @Order(6)
  void passesCallsToDestinationsOutsideTheMeshThroughToWhereTheyWereHeaded() {
    HttpBackend outside = backends.get("outside");
    long connections = sidecar.counter("cluster.passthrough.upstream_cx_total");
    long captured = sidecar.counter("tcp.passthrough.downstream_cx_total");

    Tally tally = curl(outside.host() + ":" + outside.port(), null, 3);

    System.out.println("capture mode, 3 requests to " + outside.host() + ":" + outside.port()
        + " outside the mesh: " + tally + ", passthrough connections "
        + (sidecar.counter("cluster.passthrough.upstream_cx_total") - connections));
    assertThat(tally.count("outside")).as(tally.toString()).isEqualTo(3);
    assertThat(sidecar.counter("tcp.passthrough.downstream_cx_total")).isGreaterThan(captured);
    assertThat(sidecar.counter("cluster.passthrough.upstream_cx_total")).isGreaterThan(connections);
    // Bytes passed through as they were: no HTTP connection manager added a request id.
    assertThat(outside.lastRequest().orElseThrow().header("x-request-id")).isEmpty();
  }

  /**
   * Envoy picks a filter chain in stages, most specific first, and does not go back: once a chain
   * matches the destination port (a cluster IP chain on 8080 or 9000), chains without a port, like
   * the catch-all, are out of the running, and an unknown address on that port would match nothing
   * and be reset. So each such port has a catch-all of its own: on an HTTP port it routes by Host
   * (a headless Service by name) and passes any other Host on to the original destination; on a
   * port only TCP Services use it passes the bytes through.
   */
  @Test
  @Order(7)
  void passesUnknownAddressesOnPortsMeshServicesUseThroughToo() {
    HttpBackend http = backends.get("outside-8080");
    HttpBackend tcp = backends.get("outside-9000");
    long routed = sidecar.counter("cluster.passthrough.upstream_rq_total");

    Tally httpPort = curl(http.host() + ":8080", null, 3);
    Tally tcpPort = curl(tcp.host() + ":9000", null, 3);
    Tally headless = curl(NOWHERE, "audit:8080", 3);

    assertThat(httpPort.count("outside-8080")).as(httpPort.toString()).isEqualTo(3);
    // Through the HTTP catch-all of port 8080, request by request: Envoy added its request id.
    assertThat(http.lastRequest().orElseThrow().header("x-request-id")).isPresent();
    assertThat(sidecar.counter("cluster.passthrough.upstream_rq_total")).isGreaterThanOrEqualTo(routed + 3);
    assertThat(tcpPort.count("outside-9000")).as(tcpPort.toString()).isEqualTo(3);
    assertThat(tcp.lastRequest().orElseThrow().header("x-request-id")).isEmpty();
    assertThat(headless.count("audit")).as(headless.toString()).isEqualTo(3);
  }

  /**
   * {@code count} requests from inside the namespace, as the application's user, to
   * {@code http://<address>/1..count} on one keep-alive connection, with {@code host} as Host header
   * (curl's own, the address, when null). A 200 counts as the name of the backend that answered,
   * anything else as its status.
   */
  static Tally curl(String address, String host, int count) {
    List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=" + APP_UID, "--regid=" + APP_UID,
        "--clear-groups", "curl", "-sS", "--http1.1", "--connect-timeout", "2",
        "--max-time", "5", "-o", "/dev/null", "-D", "-", "-w", "|%{http_code}\\n"));
    if (host != null) {
      command.addAll(List.of("-H", "Host: " + host));
    }
    command.add("http://" + address + "/" + (count == 1 ? "1" : "[1-" + count + "]"));
    CommandResult result = netns.run(Duration.ofSeconds(60), command);
    return Tally.of(result);
  }

  private static String service(String name, String clusterIp, String portName, int port) {
    return """
        apiVersion: v1
        kind: Service
        metadata:
          name: %s
          namespace: %s
        spec:
          clusterIP: %s
          selector: {app: %s}
          ports:
          - {name: %s, port: %d, targetPort: %s, protocol: TCP}
        """.formatted(name, NS, clusterIp, name, portName, port, portName);
  }

  /** Who answered how many requests. */
  record Tally(Map<String, Integer> answers, String raw) {

    /**
     * Reads curl's output: per request its response headers ({@code -D -}), then {@code |<status>}.
     * The backend is named by its {@code x-backend} header; an answer without one is
     * {@code HTTP <status> from <server header>}.
     */
    static Tally of(CommandResult result) {
      Map<String, Integer> answers = new LinkedHashMap<>();
      String backend = null;
      String server = "?";
      for (String line : result.stdout().split("\r?\n")) {
        String lower = line.toLowerCase();
        if (lower.startsWith(HttpBackend.BACKEND_HEADER + ":")) {
          backend = line.substring(line.indexOf(':') + 1).strip();
        } else if (lower.startsWith("server:")) {
          server = line.substring(line.indexOf(':') + 1).strip();
        } else if (line.startsWith("|")) {
          String status = line.substring(1).strip();
          String answer = status.equals("200") && backend != null ? backend : "HTTP " + status + " from " + server;
          answers.merge(answer, 1, Integer::sum);
          backend = null;
          server = "?";
        }
      }
      return new Tally(answers, result.exitCode() == 0 ? "" : result.stderr().strip());
    }

    int count(String answer) {
      return answers.getOrDefault(answer, 0);
    }

    int total() {
      return answers.values().stream().mapToInt(Integer::intValue).sum();
    }

    double share(String answer) {
      int total = total();
      return total == 0 ? 0 : (double) count(answer) / total;
    }

    @Override
    public String toString() {
      return answers + (raw.isEmpty() ? "" : " (curl: " + raw + ")");
    }
  }
}
