package dev.weft.demo;

import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.ProcessLogs;
import dev.weft.testsupport.WeftTools;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;

/**
 * {@code make demo}: Weft as a person installs it, on a real Kubernetes. It brings up the
 * single-node cluster of {@code hack/cluster.sh} (or uses the cluster of
 * {@code WEFT_DEMO_KUBECONFIG}), loads the images the build made, installs the chart with helm,
 * labels a namespace for injection and deploys payments-v1, payments-v2 and a client, web, from
 * plain manifests with no sidecar in them. The webhook adds the sidecar and the capture init
 * container; web's unmodified code calls {@code http://payments:8080/}; the 90/10 TrafficSplit
 * applied with kubectl is measured from inside web, over mTLS between the sidecars. Unless
 * {@code DEMO_ONCE=1}, it stays up until Ctrl-C and then takes the node down.
 */
public final class NodeDemo implements AutoCloseable {

  static final String NAMESPACE = WeftDemo.NAMESPACE;
  static final String MESH_NAMESPACE = "weft-system";
  static final String RELEASE = "weft";
  static final String PAYMENTS_URL = "http://payments:" + NodeApps.PORT + "/";
  /** The canary's share is ±3 points; with 2,000 requests one standard deviation of the 10% share is 0.7. */
  static final int REQUESTS = 2000;
  static final Duration BOUND = Duration.ofMinutes(5);
  private static final Pattern HANDSHAKE = Pattern.compile("ssl\\.handshake: (\\d+)");

  /** Where to run and what with. {@code kubeconfig} empty: a node of our own in {@code nodeDir}. */
  record Settings(Path repoRoot, Optional<Path> kubeconfig, String loadCommand, Path nodeDir, int requests) {

    static Settings fromEnvironment() {
      Path root = WeftTools.repoRoot();
      String kubeconfig = System.getenv().getOrDefault("WEFT_DEMO_KUBECONFIG", "").strip();
      return new Settings(root, kubeconfig.isEmpty() ? Optional.empty() : Optional.of(Path.of(kubeconfig)),
          System.getenv().getOrDefault("WEFT_DEMO_LOAD", ""), root.resolve("demo/target/node"), REQUESTS);
    }
  }

  private final Settings settings;
  private final DemoConsole console;
  private DemoCluster cluster;
  private Kubectl kubectl;
  private KubernetesClient client;
  private PodTraffic traffic;

  private NodeDemo(Settings settings, PrintStream out) {
    this.settings = settings;
    this.console = new DemoConsole(out);
  }

  /** Brings the cluster, the chart and the apps up; closes what it started on failure. */
  static NodeDemo start(Settings settings, PrintStream out) throws IOException {
    NodeDemo demo = new NodeDemo(settings, out);
    try {
      demo.startMesh();
      return demo;
    } catch (IOException | RuntimeException | Error e) {
      demo.close();
      throw e;
    }
  }

  private void startMesh() throws IOException {
    WeftTools tools = WeftTools.at(settings.repoRoot().resolve(".tools"));
    if (settings.kubeconfig().isPresent()) {
      cluster = DemoCluster.existing(tools, settings.kubeconfig().get(), settings.loadCommand(), settings.nodeDir());
    } else {
      console.step("bringing up a single-node Kubernetes on this machine (hack/cluster.sh up: etcd, kube-apiserver, "
          + "kubelet, containerd, kube-proxy, CoreDNS in a private network namespace)");
      cluster = DemoCluster.newNode(tools, settings.nodeDir());
    }
    kubectl = cluster.kubectl().withTimeout(Duration.ofMinutes(3));
    client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(cluster.kubeconfig())))
        .build();
    console.step("cluster: " + cluster.description());

    Images images = loadImages();
    console.step("$ helm install " + RELEASE + " helm/weft -n " + MESH_NAMESPACE + " --create-namespace "
        + String.join(" ", images.chartValues()));
    List<String> install = new ArrayList<>(List.of("install", RELEASE, settings.repoRoot().resolve("helm/weft").toString(),
        "-n", MESH_NAMESPACE, "--create-namespace", "--wait", "--timeout", "5m"));
    install.addAll(images.chartValues());
    CommandResult installed = cluster.helm().run(install.toArray(String[]::new));
    if (!installed.succeeded()) {
      throw new IllegalStateException("helm install failed:\n" + installed + "\n"
          + kubectl.run("get", "pods", "-n", MESH_NAMESPACE, "-o", "wide").stdout());
    }
    console.block(kubectl.run("get", "deployments", "-n", MESH_NAMESPACE).requireSuccess().stdout());

    String apps = NodeApps.yaml(NAMESPACE, images.app());
    console.step("$ kubectl apply -f - (namespace " + NAMESPACE + " labelled weft.dev/inject=enabled; Deployments "
        + "payments-v1, payments-v2 and web with one container each and no sidecar)");
    kubectl.apply(apps).requireSuccess();
    awaitPodsReady();
    console.step("$ kubectl get pods -n " + NAMESPACE + "   (the webhook added Envoy and the capture init container)");
    console.block(kubectl.run("get", "pods", "-n", NAMESPACE).requireSuccess().stdout());
    traffic = new PodTraffic(kubectl, NAMESPACE);
  }

  /** The images the chart and the pods run, loaded into the cluster, as helm {@code --set} flags and the app's name. */
  private record Images(List<String> chartValues, String app) {}

  private Images loadImages() {
    Path root = settings.repoRoot();
    Path tools = root.resolve(".tools/images");
    List<Path> archives = List.of(root.resolve("operator/target/image.tar"), root.resolve("xds-server/target/image.tar"),
        tools.resolve("envoy.tar"), tools.resolve("iptables.tar"), tools.resolve("busybox.tar"));
    for (Path archive : archives) {
      if (!Files.isRegularFile(archive)) {
        throw new IllegalStateException(archive + " is missing: `make images` and `make tools` build it");
      }
    }
    console.step("loading images into the cluster: " + String.join(", ",
        archives.stream().map(p -> root.relativize(p).toString()).toList()));
    String operator = cluster.load(archives.get(0));
    cluster.load(archives.get(1));
    String sidecar = cluster.load(archives.get(2));
    String capture = cluster.load(archives.get(3));
    String app = cluster.load(archives.get(4));
    String registry = operator.substring(0, operator.indexOf('/'));
    String tag = operator.substring(operator.lastIndexOf(':') + 1);
    return new Images(List.of("--set", "image.registry=" + registry, "--set", "image.tag=" + tag,
        "--set", "injection.proxyImage=" + sidecar, "--set", "injection.initImage=" + capture), app);
  }

  private void awaitPodsReady() {
    Awaitility.await("pods of namespace " + NAMESPACE + " Ready (kubectl get pods -n " + NAMESPACE + ")")
        .atMost(BOUND).pollInterval(Duration.ofSeconds(1))
        .until(() -> {
          String ready = kubectl.run("get", "pods", "-n", NAMESPACE, "-o",
              "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\" \"}{end}").stdout();
          List<String> states = List.of(ready.strip().split("\\s+"));
          return states.size() == 3 && states.stream().allMatch("True"::equals);
        });
  }

  /**
   * Applies the 90/10 canary, waits for Programmed, sends {@link Settings#requests()} requests from
   * inside web and prints the split, the mTLS handshakes of web's sidecar and MeshStatus. True when
   * the split is within tolerance and every proxy is synced.
   */
  boolean runCanary() {
    CanarySteps.applyCanary(console, kubectl, client, BOUND);
    long before = handshakes();
    Traffic.Tally tally = traffic.send(PAYMENTS_URL, settings.requests());
    boolean splitOk = CanarySteps.judgeSplit(console, "observed over " + settings.requests()
        + " requests from inside web (wget " + PAYMENTS_URL + ", captured by iptables into web's sidecar):", tally);
    console.step("mTLS handshakes from web's sidecar to payments during those requests: " + (handshakes() - before));
    boolean synced = CanarySteps.showStatus(console, kubectl, client, 3, BOUND);
    return splitOk && synced;
  }

  /** TLS handshakes web's sidecar made to payments' clusters so far. */
  private long handshakes() {
    Matcher counts = HANDSHAKE.matcher(traffic.sidecarStats("payments.*ssl.handshake$"));
    long total = 0;
    while (counts.find()) {
      total += Long.parseLong(counts.group(1));
    }
    return total;
  }

  void printHowToPlay() {
    String patch = "'{\"spec\":{\"backends\":[{\"service\":\"payments-v1\",\"weight\":50},"
        + "{\"service\":\"payments-v2\",\"weight\":50}]}}'";
    console.plain("""

        The mesh stays up until Ctrl-C%s. In another terminal:

          export KUBECONFIG=%s
          export PATH=%s:$PATH
          %s      # answers payments-v1 or payments-v2
          kubectl logs -n %s deploy/web -c web -f             # web's own calls, once a second
          kubectl patch trafficsplit %s -n %s --type=merge -p %s
          kubectl get pods,trafficsplits -n %s; kubectl get meshstatus

        Logs: %s
        """.formatted(cluster.ownsTheCluster() ? " (which takes the node down)" : "", cluster.kubeconfig(),
        settings.repoRoot().resolve(".tools/bin"), PodTraffic.oneRequestCommand(NAMESPACE, PAYMENTS_URL), NAMESPACE,
        WeftDemo.SPLIT, NAMESPACE, patch, NAMESPACE, ProcessLogs.directory()));
  }

  @Override
  public void close() {
    if (client != null) {
      client.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** {@code make demo} (hack/demo.sh). {@code DEMO_ONCE=1}: exit after the canary, 0 when it is as expected. */
  public static void main(String[] args) throws Exception {
    boolean once = DemoConsole.once();
    Settings settings = Settings.fromEnvironment();
    DemoConsole.logToFiles(settings.repoRoot());

    PrintStream out = System.out;
    out.println("Weft demo on a real Kubernetes: helm install, injected sidecars, a 90/10 canary over mTLS (logs: "
        + ProcessLogs.directory() + ")");
    NodeDemo demo;
    try {
      demo = start(settings, out);
    } catch (RuntimeException | IOException e) {
      out.println("FAILED to start: " + e.getMessage());
      out.println("logs: " + ProcessLogs.directory() + " and " + settings.nodeDir() + "-failed-logs");
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      demo.close();
      out.println("stopped" + (demo.cluster.ownsTheCluster() ? ": the node and everything it made are gone" : ""));
    }, "weft-demo-stop"));

    boolean ok;
    try {
      ok = demo.runCanary();
    } catch (RuntimeException e) {
      out.println("FAILED: " + e.getMessage());
      ok = false;
    }
    if (once || !ok) {
      System.exit(ok ? 0 : 1);
    }
    demo.printHowToPlay();
    Thread.currentThread().join();
  }
}
