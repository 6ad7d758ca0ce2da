package dev.weft.e2e;

import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.operator.identity.Pem;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import org.junit.jupiter.api.io.TempDir;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeNode;
import dev.weft.testsupport.KubeNodeTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The chart for real: the operator and xds-server images that the Maven build packs (profile
 * {@code images}, jib on the local JRE base) are loaded into the real node, {@code helm install weft
 * helm/weft} brings both Deployments up Ready under the chart's RBAC, probes and securityContext
 * (checked on the running processes: uid 65532, read-only root), one operator holds the Lease,
 * {@code kubectl get meshstatus} answers, {@code helm upgrade} replaces every pod while the Lease
 * moves to a new pod within seconds, and {@code helm uninstall} leaves only the CRDs.
 */
@KubeNodeTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HelmOnNodeTest {

  private static final String NAMESPACE = WeftOnNode.NAMESPACE;
  private static KubeNode node;

  @BeforeAll
  static void installTheChartWithLocallyBuiltImages(KubeNode theNode, Kubectl kubectl) {
    node = theNode;
    Duration ready = WeftOnNode.install(node, kubectl);
    System.out.printf("helm on the node: operator and xds-server (2 replicas each) Ready %d ms after helm install%n",
        ready.toMillis());
  }

  @AfterAll
  static void uninstall() {
    if (node != null && node.isUp()) {
      WeftOnNode.uninstall(node);
    }
  }

  @Test
  @Order(1)
  void runsTwoReadyReplicasOfEachComponent(Kubectl kubectl) {
    for (String deployment : List.of("weft-operator", "weft-xds")) {
      assertThat(kubectl.run("get", "deployment", deployment, "-n", NAMESPACE, "-o",
          "jsonpath={.status.readyReplicas}/{.spec.replicas}").requireSuccess().stdout()).isEqualTo("2/2");
    }
    String pods = kubectl.run("get", "pods", "-n", NAMESPACE, "-o",
        "jsonpath={range .items[*]}{.metadata.name} {.spec.containers[0].image} restarts={.status.containerStatuses[0].restartCount}{\"\\n\"}{end}")
        .requireSuccess().stdout();
    // Restarts are printed, not failed on: on a loaded 2-core machine a JVM may outlast the liveness
    // probe's first 40 s and be restarted once (docs/development.md, "What it costs").
    System.out.println("helm on the node, pods:\n" + pods);
    assertThat(pods.lines()).hasSize(4).allMatch(line -> line.contains(" weft.local/weft-mesh/weft-"));
  }

  @Test
  @Order(2)
  void oneOperatorLeadsAndMeshStatusAnswers(Kubectl kubectl) {
    await("an operator pod to hold the Lease weft-operator").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> kubectl.run("get", "lease", "weft-operator", "-n", NAMESPACE, "-o",
            "jsonpath={.spec.holderIdentity}").stdout(), holder -> holder.startsWith("weft-operator-"));
    await("kubectl get meshstatus to list the mesh with both xds-server replicas").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> kubectl.run("get", "meshstatus", "mesh", "-o", "jsonpath={.status.xdsReplicas}").stdout(),
            "2"::equals);
    System.out.println("kubectl get meshstatus on the node:\n" + kubectl.run("get", "meshstatus").stdout());
  }

  @Test
  @Order(3)
  void theAdsPortServesMtlsWithTheOperatorsCertificateAndRefusesAClientWithoutOne(Kubectl kubectl,
      @TempDir Path dir) throws Exception {
    // What the operator wrote and the xds-server pods mount.
    String served = await("the operator to issue the xds-server's certificate").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> kubectl.run("get", "secret", "weft-identity-weft-xds", "-n", NAMESPACE, "-o",
            "jsonpath={.data.tls\\.crt}").stdout().strip(), data -> !data.isEmpty());
    CertificateInfo issued = CertificateInfo.of(Pem.parseCertificate(decode(served)));
    String bundle = decode(kubectl.run("get", "secret", "weft-identity-weft-xds", "-n", NAMESPACE, "-o",
        "jsonpath={.data.ca\\.crt}").requireSuccess().stdout().strip());
    Files.writeString(dir.resolve("ca.crt"), bundle);
    // A client certificate from the mesh CA (the operator's root, read as an admin can).
    String caCert = decode(kubectl.run("get", "secret", "weft-ca", "-n", NAMESPACE, "-o",
        "jsonpath={.data.tls\\.crt}").requireSuccess().stdout().strip());
    String caKey = decode(kubectl.run("get", "secret", "weft-ca", "-n", NAMESPACE, "-o",
        "jsonpath={.data.tls\\.key}").requireSuccess().stdout().strip());
    CertifiedKey client = CertificateAuthority.of(new CertifiedKey(Pem.parseCertificate(caCert),
        Pem.parsePrivateKey(caKey)), new SecureRandom()).issue(IdentitySettings.defaults().identity("shop", "web"),
        KeyAlgorithm.ECDSA_P256, Duration.ofHours(1), Instant.now());
    Files.writeString(dir.resolve("web.crt"), client.certificatePem());
    Files.writeString(dir.resolve("web.key"), client.privateKeyPem());
    String host = "weft-xds." + NAMESPACE + ".svc";
    String clusterIp = kubectl.run("get", "service", "weft-xds", "-n", NAMESPACE, "-o",
        "jsonpath={.spec.clusterIP}").requireSuccess().stdout().strip();
    // The files are read again every 30 s and the Secret may have been mounted after the pods
    // started: wait until a handshake through the Service verifies.
    CommandResult withCertificate = await("the xds Service to complete an mTLS handshake").atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofSeconds(2))
        .until(() -> handshake(dir, clusterIp, host, true), r -> r.stdout().contains("Verify return code: 0 (ok)")
            && !(r.stdout() + r.stderr()).contains("alert"));
    CommandResult without = handshake(dir, clusterIp, host, false);

    String presented = withCertificate.stdout().substring(withCertificate.stdout().indexOf("-----BEGIN CERTIFICATE-----"),
        withCertificate.stdout().indexOf("-----END CERTIFICATE-----") + "-----END CERTIFICATE-----".length());
    CertificateInfo servedInfo = CertificateInfo.of(Pem.parseCertificate(presented));
    System.out.printf("ADS through the Service %s:18000 (%s): certificate %s DNS %s, serial %s (the Secret's: %s), "
        + "verified against the mesh bundle and host name %s; with a mesh certificate (spiffe://cluster.local/ns/shop/sa/web): "
        + "handshake done; without a client certificate: %s%n", clusterIp, host, servedInfo.spiffeId().orElse("?"),
        servedInfo.dnsNames(), servedInfo.serial(), issued.serial(), host,
        alertOf(without));
    assertThat(servedInfo.spiffeId()).contains("spiffe://cluster.local/ns/" + NAMESPACE + "/sa/weft-xds");
    assertThat(servedInfo.dnsNames()).contains("weft-xds", "weft-xds." + NAMESPACE, host, host + ".cluster.local");
    assertThat(servedInfo.issuer()).isEqualTo(CertificateInfo.of(Pem.parseCertificate(caCert)).subject());
    assertThat(alertOf(without)).as(without.toString()).startsWith("alert");
  }

  @Test
  @Order(4)
  void debugPagesAnswerOnlyOnLoopbackThroughPortForward(Kubectl kubectl) throws Exception {
    String pod = kubectl.run("get", "pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=xds", "-o",
        "jsonpath={.items[0].metadata.name} {.items[0].status.podIP}").requireSuccess().stdout().strip();
    String name = pod.split(" ")[0];
    String ip = pod.split(" ")[1];
    CommandResult metrics = node.inNodeNetwork(Duration.ofSeconds(20), "curl", "-s", "-o", "/dev/null", "-w",
        "%{http_code}", "http://" + ip + ":15014/metrics");
    CommandResult debugOnPodPort = node.inNodeNetwork(Duration.ofSeconds(20), "curl", "-s", "-o", "/dev/null", "-w",
        "%{http_code}", "http://" + ip + ":15014/debug/proxies");
    CommandResult debugPagesPort = node.inNodeNetwork(Duration.ofSeconds(20), "curl", "-s", "-S", "-o", "/dev/null",
        "--connect-timeout", "5", "http://" + ip + ":15015/debug/proxies");
    assertThat(metrics.stdout()).isEqualTo("200");
    assertThat(debugOnPodPort.stdout()).isEqualTo("404");
    assertThat(debugPagesPort.succeeded()).as(debugPagesPort.toString()).isFalse();

    Process forward = new ProcessBuilder(WeftTools.locate().kubectl().toString(), "--kubeconfig",
        node.kubeconfig().toString(), "port-forward", "-n", NAMESPACE, "pod/" + name, ":15015")
        .redirectErrorStream(true).start();
    try {
      java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(forward.getInputStream()));
      String line = await("kubectl port-forward to listen").atMost(Duration.ofSeconds(30))
          .until(out::readLine, l -> l == null || l.startsWith("Forwarding from 127.0.0.1:"));
      assertThat(line).as("kubectl port-forward's first line").isNotNull();
      int port = Integer.parseInt(line.replaceAll("^Forwarding from 127\\.0\\.0\\.1:(\\d+) .*$", "$1"));
      HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/debug/proxies")).timeout(Duration.ofSeconds(20)).build(),
          HttpResponse.BodyHandlers.ofString());
      System.out.printf("xds-server pod %s (%s): /metrics on :15014 %s, /debug/proxies on :15014 %s, :15015 from the "
          + "pod network: %s; through kubectl port-forward: %d %s%n", name, ip, metrics.stdout(),
          debugOnPodPort.stdout(), debugPagesPort.stderr().strip(), page.statusCode(),
          page.body().length() > 80 ? page.body().substring(0, 80) + "..." : page.body());
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.body()).startsWith("{\"proxies\":");
    } finally {
      forward.destroy();
      forward.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** openssl s_client to the xds Service from the node's network, verifying the server by host name. */
  private static CommandResult handshake(Path dir, String clusterIp, String host, boolean withCertificate) {
    List<String> command = new ArrayList<>(List.of("sh", "-c", ""));
    String clientCertificate = withCertificate
        ? " -cert " + dir.resolve("web.crt") + " -key " + dir.resolve("web.key") : "";
    // stdin stays open a second, so that a refusal the server sends after the handshake is read; the
    // server's first HTTP/2 frames come out as bytes, which are dropped (only text is kept).
    command.set(2, "sleep 1 | openssl s_client -connect " + clusterIp + ":18000 -servername " + host
        + " -verify_hostname " + host + " -CAfile " + dir.resolve("ca.crt") + " -alpn h2 -verify_return_error"
        + clientCertificate + " 2>&1 | tr -cd '[:print:]\\n'");
    return node.inNodeNetwork(Duration.ofSeconds(20), command.toArray(String[]::new));
  }

  private static String alertOf(CommandResult result) {
    return (result.stdout() + "\n" + result.stderr()).lines().filter(l -> l.contains("alert"))
        .map(l -> l.replaceAll("^.*(alert [a-z0-9 ]+).*$", "$1")).findFirst().orElse("no alert: " + result);
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }

  @Test
  @Order(5)
  void runsNonRootOnAReadOnlyRoot() {
    // Seen on the running JVMs from the host, not read back from the manifests.
    List<Long> pids = javaProcessesOf("dev.weft.operator.WeftOperator");
    pids.addAll(javaProcessesOf("dev.weft.xds.XdsServerApp"));
    assertThat(pids).hasSize(4);
    for (long pid : pids) {
      assertThat(read(Path.of("/proc/" + pid + "/status"))).containsPattern("(?m)^Uid:\\s+65532\\s+65532");
      String rootMount = read(Path.of("/proc/" + pid + "/mountinfo")).lines()
          .filter(line -> line.split(" ")[4].equals("/")).findFirst().orElseThrow();
      assertThat(rootMount.split(" ")[5]).startsWith("ro");
    }
  }

  @Test
  @Order(6)
  void helmUpgradeRollsEveryPodAndLeadershipMovesQuickly(Kubectl kubectl) throws Exception {
    Set<String> before = podNames(kubectl);
    CompletableFuture<CommandResult> upgrade = CompletableFuture.supplyAsync(() -> WeftOnNode.helm(node, "upgrade", "weft",
        WeftTools.repoRoot().resolve("helm/weft").toString(), "-n", NAMESPACE, "--reuse-values",
        "--set-string", "operator.podAnnotations.weft-rollout=1", "--set-string", "xds.podAnnotations.weft-rollout=1",
        "--wait", "--timeout", "5m"));
    // Watch the Lease while the Deployments roll: who holds it, since when, last renewed when.
    List<String[]> seen = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofMinutes(6).toNanos();
    // Until the upgrade is done and a new pod leads (the old leader may hand over after helm returns).
    while (System.nanoTime() < deadline) {
      String[] lease = kubectl.run("get", "lease", "weft-operator", "-n", NAMESPACE, "-o",
          "jsonpath={.spec.holderIdentity} {.spec.acquireTime} {.spec.renewTime}").stdout().strip().split(" ");
      if (lease.length == 3) {
        seen.add(lease);
        if (upgrade.isDone() && !before.contains(lease[0])) {
          break;
        }
      }
      Thread.sleep(250);
    }
    CommandResult result = upgrade.get(1, TimeUnit.MINUTES);
    assertThat(result.succeeded()).as(result.toString()).isTrue();
    WeftOnNode.awaitReady(node, kubectl, "weft-operator");
    WeftOnNode.awaitReady(node, kubectl, "weft-xds");

    Set<String> after = podNames(kubectl);
    assertThat(after).hasSize(4).doesNotContainAnyElementsOf(before);
    // The longest time without a leader: from the old holder's last renewal to the new one's acquisition.
    Duration longestHandover = Duration.ZERO;
    List<String> holders = new ArrayList<>();
    for (int i = 1; i < seen.size(); i++) {
      String[] previous = seen.get(i - 1);
      String[] current = seen.get(i);
      if (!current[0].equals(previous[0])) {
        holders.add(current[0]);
        Duration handover = Duration.between(Instant.parse(previous[2]), Instant.parse(current[1]));
        longestHandover = handover.compareTo(longestHandover) > 0 ? handover : longestHandover;
      }
    }
    String leader = kubectl.run("get", "lease", "weft-operator", "-n", NAMESPACE, "-o",
        "jsonpath={.spec.holderIdentity}").requireSuccess().stdout();
    System.out.printf("helm upgrade on the node: 4 pods replaced, the Lease changed hands %d time(s) "
        + "(to %s), longest without a leader %d ms%n", holders.size(), holders, longestHandover.toMillis());
    assertThat(leader).isIn(after);
    assertThat(longestHandover).isLessThan(Duration.ofSeconds(20));
  }

  @Test
  @Order(7)
  void uninstallLeavesOnlyTheCrds(Kubectl kubectl) {
    WeftOnNode.uninstall(node).requireSuccess();

    assertThat(kubectl.run("get", "deployments,services,serviceaccounts,roles,rolebindings,pdb,configmaps",
        "-n", NAMESPACE, "-l", "app.kubernetes.io/instance=weft", "-o", "name").requireSuccess().stdout()).isBlank();
    assertThat(kubectl.run("get", "clusterroles,clusterrolebindings", "-o", "name").requireSuccess().stdout())
        .doesNotContain("weft");
    assertThat(kubectl.run("get", "crd", "-o", "name").requireSuccess().stdout().lines())
        .contains("customresourcedefinition.apiextensions.k8s.io/trafficsplits.weft.dev",
            "customresourcedefinition.apiextensions.k8s.io/meshstatuses.weft.dev");
  }

  private static Set<String> podNames(Kubectl kubectl) {
    return new HashSet<>(List.of(kubectl.run("get", "pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/instance=weft",
        "--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].metadata.name}")
        .requireSuccess().stdout().strip().split(" ")));
  }

  private static List<Long> javaProcessesOf(String mainClass) {
    List<Long> pids = new ArrayList<>();
    try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
      entries.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
        try {
          String cmdline = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
          // Only the node's pods: their cgroup is under the node's cgroup root.
          if (cmdline.contains(mainClass) && Files.readString(p.resolve("cgroup")).contains(node.state().cgroupRoot())) {
            pids.add(Long.parseLong(p.getFileName().toString()));
          }
        } catch (IOException gone) {
          // ended while we looked
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return pids;
  }

  private static String read(Path file) {
    try {
      // readAllLines reads to the end; /proc files report a size of 0.
      return String.join("\n", Files.readAllLines(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
