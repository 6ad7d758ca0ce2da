package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.testsupport.Command;
import dev.weft.testsupport.WeftTools;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 5's "done when" for the loopback demo ({@code DEMO_LOCAL=1 make demo}), run as a person
 * runs it: hack/demo.sh in its own process group (as a terminal's foreground job). It prints a
 * 90/10 split within ±3% and a MeshStatus row with every proxy synced, stays up, measures a
 * TrafficSplit patched with kubectl (and, after a typo only the operator can see, that the last
 * good split keeps serving), and on a signal to its whole process group (as Ctrl-C sends one)
 * leaves no process and no temp dir behind.
 */
class DemoTest {

  static final Path ROOT = WeftTools.repoRoot();
  static final Pattern SHARE = Pattern.compile("(payments-v[12])\\s+(\\d+)\\s+([0-9.]+)%");
  static final Pattern KUBECONFIG = Pattern.compile("export KUBECONFIG=(\\S+)");
  static final Pattern HANDSHAKES = Pattern.compile("mTLS handshakes from web's sidecar to payments-v1 and "
      + "payments-v2: (\\d+)");
  static final String UP = "Every TrafficSplit change in namespace demo is measured here.";

  Process demo;

  @AfterEach
  void stopDemo() {
    if (demo != null && demo.isAlive()) {
      signalGroup("KILL");
    }
  }

  @Test
  void printsTheCanaryStaysUpMeasuresAPatchAndLeavesNothingBehind() throws Exception {
    Path out = Files.createTempFile(Path.of("target"), "demo-", ".out");
    ProcessBuilder command = new ProcessBuilder("setsid", ROOT.resolve("hack/demo.sh").toString())
        .directory(ROOT.toFile())
        .redirectErrorStream(true)
        .redirectOutput(out.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    // The reactor built the demo module before this one; hack/demo.sh runs what it built.
    command.environment().put("DEMO_SKIP_BUILD", "1");
    // The loopback demo (`DEMO_LOCAL=1 make demo`); CI runs the node demo itself (.ci/run).
    command.environment().put("DEMO_LOCAL", "1");
    demo = command.start();

    String started = await("the demo is up").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
        .until(() -> read(out), text -> text.contains(UP) || !demo.isAlive());
    System.out.println("$ make demo\n" + started);
    assertThat(demo.isAlive()).as("the demo exited early:\n" + started).isTrue();

    Map<String, Double> canary = shares(started.substring(0, started.indexOf("the split matches")));
    assertThat(canary.get("payments-v1")).isBetween(87.0, 93.0);
    assertThat(canary.get("payments-v2")).isBetween(7.0, 13.0);
    // The canary ran over mTLS, with the certificates the operator issued the pods' ServiceAccounts.
    Matcher handshakes = HANDSHAKES.matcher(started);
    assertThat(handshakes.find()).as("the demo reports web's mTLS handshakes").isTrue();
    assertThat(Long.parseLong(handshakes.group(1))).isPositive();
    // PROXIES SYNCED STALE NACKED XDS CERTS-EXPIRING AGE: the two certificates are fresh, none expires.
    assertThat(started).containsPattern("mesh\\s+3\\s+3\\s+0\\s+0\\s+1\\s+0\\s+\\d+[smhd]");

    Matcher kubeconfig = KUBECONFIG.matcher(started);
    assertThat(kubeconfig.find()).isTrue();
    Path kubeconfigFile = Path.of(kubeconfig.group(1));
    kubectl(kubeconfigFile, "patch", "trafficsplit", "payments-canary", "-n", "demo", "--type=merge", "-p",
        "{\"spec\":{\"backends\":[{\"service\":\"payments-v1\",\"weight\":50},"
            + "{\"service\":\"payments-v2\",\"weight\":50}]}}");

    String afterPatch = await("the demo measures the patched split").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> read(out).substring(started.length()), text -> shares(text).size() == 2);
    System.out.println(afterPatch);
    assertThat(afterPatch).contains("generation 2: payments -> payments-v1 50, payments-v2 50")
        .contains("Programmed=True");
    Map<String, Double> patched = shares(afterPatch);
    // 1000 requests at 50/50: one standard deviation is 1.6 points.
    assertThat(patched.get("payments-v1")).isBetween(43.0, 57.0);

    // A typo the schema cannot catch: the operator says so and the 50/50 split keeps serving.
    String beforeTypo = read(out);
    kubectl(kubeconfigFile, "patch", "trafficsplit", "payments-canary", "-n", "demo", "--type=merge", "-p",
        "{\"spec\":{\"backends\":[{\"service\":\"payments-v1\",\"weight\":50},"
            + "{\"service\":\"payments-v3\",\"weight\":50}]}}");
    String afterTypo = await("the demo measures the split after the typo").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> read(out).substring(beforeTypo.length()), text -> shares(text).size() == 2);
    System.out.println(afterTypo);
    assertThat(afterTypo).contains("ResolvedRefs=False (BackendNotFound)")
        .contains("the last good version keeps serving");
    assertThat(shares(afterTypo).get("payments-v2")).as("the last good 50/50 split").isBetween(43.0, 57.0);

    List<ProcessHandle> group = demo.toHandle().descendants().toList();
    assertThat(group).isNotEmpty();
    // TERM, not INT: a JVM started from a background job inherits an ignored SIGINT, and so would
    // the demo under it; both signals take the same path (shutdown hook) in the demo's JVM.
    signalGroup("TERM");
    assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("the demo stops on a signal to its group").isTrue();
    String stopped = read(out);
    System.out.println(stopped.substring(stopped.lastIndexOf('\n', stopped.length() - 2) + 1));
    assertThat(stopped).contains("stopped: every process and the cluster's temp folder are gone");
    assertThat(group).noneMatch(ProcessHandle::isAlive);
    assertThat(kubeconfigFile.getParent()).doesNotExist();
  }

  private static void kubectl(Path kubeconfig, String... args) {
    List<String> command = new ArrayList<>(List.of(WeftTools.locate().kubectl().toString(), "--kubeconfig",
        kubeconfig.toString()));
    command.addAll(List.of(args));
    Command.run(command).requireSuccess();
  }

  /** A signal to the demo's whole process group, as a terminal sends Ctrl-C to its foreground job. */
  private void signalGroup(String signal) {
    Command.run(List.of("kill", "-" + signal, "--", "-" + demo.pid()));
  }

  private static Map<String, Double> shares(String text) {
    Map<String, Double> shares = new TreeMap<>();
    Matcher matcher = SHARE.matcher(text);
    while (matcher.find()) {
      shares.put(matcher.group(1), Double.parseDouble(matcher.group(3)));
    }
    return shares;
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file);
  }
}
