package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.operator.injection.CaptureRules;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.HttpBackend;
import dev.weft.testsupport.NetworkNamespace;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The injector's iptables script run for real in a private network namespace, as the init
 * container runs it in a pod's: outbound TCP goes to 15001 except the proxy user's (uid 1337) and
 * excluded ports; inbound TCP goes to 15006 except the sidecar's own ports and excluded ones; the
 * script can run twice. Stand-ins (busybox httpd) answer on 15001, 15006 and 15090 inside the
 * namespace, and {@link HttpBackend}s on the host end of the veth pair show what went out directly.
 * Addresses are this class's 198.18.13.0/30 only.
 */
class CaptureRulesInNamespaceTest {

  static final int SUBNET = 13;
  static NetworkNamespace netns;
  static HttpBackend direct;
  static HttpBackend excluded;
  static final List<Process> standIns = new ArrayList<>();

  @BeforeAll
  static void installTheRulesTwice() throws Exception {
    netns = NetworkNamespace.create("capture-rules", SUBNET);
    InetAddress host = InetAddress.getByName(netns.hostAddress());
    direct = HttpBackend.start("direct", host);
    excluded = HttpBackend.start("excluded", host);
    String script = CaptureRules.script(CaptureRules.Exclusions.parse(String.valueOf(excluded.port()), "",
        "9090", "test"));
    for (int run = 1; run <= 2; run++) {
      CommandResult installed = netns.run(Duration.ofSeconds(20), List.of("sh", "-c", script));
      assertThat(installed.exitCode()).as("run " + run + ": " + installed).isZero();
    }
    for (var standIn : List.of(List.of("15001", "outbound"), List.of("15006", "inbound"), List.of("15090", "stats"),
        List.of("9090", "app-admin"))) {
      Path root = Files.createTempDirectory("weft-standin");
      Files.writeString(root.resolve("index.html"), standIn.get(1) + "\n");
      List<String> command = new ArrayList<>(netns.enter());
      command.addAll(List.of("busybox", "httpd", "-f", "-p", standIn.get(0), "-h", root.toString()));
      standIns.add(new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
    }
  }

  @AfterAll
  static void tearDown() {
    standIns.forEach(Process::destroyForcibly);
    if (direct != null) {
      direct.close();
    }
    if (excluded != null) {
      excluded.close();
    }
    if (netns != null) {
      netns.close();
    }
  }

  static CommandResult get(List<String> asUser, String url) {
    List<String> command = new ArrayList<>(asUser);
    command.addAll(List.of("curl", "-sS", "--max-time", "5", url));
    return netns.run(Duration.ofSeconds(10), command);
  }

  @Test
  void theRulesAreInstalledOnceEvenWhenTheScriptRunsTwice() {
    String rules = netns.natRules();

    assertThat(rules.lines().filter(l -> l.equals("-A OUTPUT -p tcp -j WEFT_OUTBOUND"))).hasSize(1);
    assertThat(rules.lines().filter(l -> l.equals("-A PREROUTING -p tcp -j WEFT_INBOUND"))).hasSize(1);
    assertThat(rules.lines().filter(l -> l.contains("--uid-owner 1337"))).hasSize(1);
    System.out.println("iptables -t nat -S in the namespace\n" + rules);
  }

  @Test
  void anAppsOutboundConnectionReachesTheOutboundPort() {
    await("the stand-in on 15001 answers").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> get(List.of(), "http://" + direct.host() + ":" + direct.port() + "/").stdout(),
            "outbound\n"::equals);
  }

  @Test
  void theProxyUsersOwnConnectionsAreNotCaptured() {
    CommandResult asProxy = get(List.of("setpriv", "--reuid", "1337", "--regid", "1337", "--clear-groups"),
        "http://" + direct.host() + ":" + direct.port() + "/");

    assertThat(asProxy.exitCode()).as(asProxy.toString()).isZero();
    assertThat(asProxy.stdout()).doesNotContain("outbound");
    assertThat(direct.requests()).isNotEmpty();
  }

  @Test
  void anExcludedOutboundPortBypassesTheSidecar() {
    CommandResult bypass = get(List.of(), "http://" + excluded.host() + ":" + excluded.port() + "/");

    assertThat(bypass.exitCode()).as(bypass.toString()).isZero();
    assertThat(bypass.stdout()).doesNotContain("outbound");
    assertThat(excluded.requests()).isNotEmpty();
  }

  @Test
  void inboundConnectionsReachTheInboundPortExceptTheSidecarsAndExcludedPorts() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    String pod = netns.namespaceAddress();

    await("inbound to the app's port is captured").atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100)).ignoreExceptions()
        .until(() -> body(http, "http://" + pod + ":8080/"), "inbound\n"::equals);
    assertThat(body(http, "http://" + pod + ":15090/")).isEqualTo("stats\n");
    assertThat(body(http, "http://" + pod + ":9090/")).isEqualTo("app-admin\n");
  }

  static String body(HttpClient http, String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }
}
