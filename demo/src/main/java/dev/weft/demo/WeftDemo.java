package dev.weft.demo;

import dev.weft.operator.WeftOperator;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.ProcessLogs;
import dev.weft.testsupport.WeftTools;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.sync.SyncReportPublisher;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code make demo}: the mesh on one machine with no cluster. A real kube-apiserver + etcd, the
 * operator and the xds-server in this JVM, and local pods (an app plus a real Envoy sidecar each):
 * payments-v1, payments-v2 and a client, web. It applies a 90/10 TrafficSplit with kubectl, measures
 * the split through web's sidecar and shows {@code kubectl get meshstatus}; then, unless
 * {@code DEMO_ONCE=1}, it stays up and measures every TrafficSplit change a person makes.
 */
public final class WeftDemo implements AutoCloseable {

  public static final String NAMESPACE = "demo";
  public static final String SPLIT = "payments-canary";
  /** Where the xds-server writes its sync report and the operator reads it, as in the chart. */
  static final String XDS_NAMESPACE = "weft-system";
  /** The xds-server's ServiceAccount, whose certificate the ADS port serves with (as in the chart). */
  static final String XDS_SERVICE_ACCOUNT = "weft-xds";
  /** The canary the demo applies, backend by backend. */
  static final Map<String, Integer> CANARY = orderedWeights("payments-v1", 90, "payments-v2", 10);
  /** How far the observed share may be from the weight, in percentage points (issue 5: ± 3%). */
  static final double TOLERANCE = 3.0;
  static final Duration BOUND = Duration.ofSeconds(60);
  private static final Duration STOP_BOUND = Duration.ofSeconds(10);

  /**
   * Where the repository is (CRDs, tools), the pods' subnet (127.0.{@code subnet}.x) and how many
   * requests each measurement sends.
   */
  public record Settings(Path repoRoot, int subnet, int requests) {

    public static Settings defaults() {
      return new Settings(WeftTools.repoRoot(), 100, 2000);
    }
  }

  private final Settings settings;
  private final DemoConsole console;
  private final List<AutoCloseable> parts = new ArrayList<>();
  private final AtomicBoolean closing = new AtomicBoolean();
  private KubeApiServer cluster;
  private Kubectl kubectl;
  private KubernetesClient client;
  private PaymentsMesh mesh;

  private WeftDemo(Settings settings, PrintStream out) {
    this.settings = settings;
    this.console = new DemoConsole(out);
  }

  /** Starts everything up to a mesh whose client reaches payments; closes what started on failure. */
  public static WeftDemo start(Settings settings, PrintStream out) throws IOException {
    WeftDemo demo = new WeftDemo(settings, out);
    try {
      demo.startMesh();
      return demo;
    } catch (IOException | RuntimeException | Error e) {
      demo.close();
      throw e;
    }
  }

  private void startMesh() throws IOException {
    console.step("starting kube-apiserver + etcd");
    cluster = keep(KubeApiServer.start(WeftTools.at(settings.repoRoot().resolve(".tools")), List.of()));
    kubectl = cluster.kubectl();
    client = keep(newClient());
    console.step("kube-apiserver ready at " + cluster.url() + " (" + cluster.startupTime().toMillis() + " ms)");

    WeftCrds.install(kubectl, settings.repoRoot());
    kubectl.run("create", "namespace", XDS_NAMESPACE).requireSuccess();
    console.step("CRDs established: kubectl apply -f crds/manifests");

    // The operator first: it issues the xds-server's certificate, which the ADS port serves TLS with.
    WeftOperator operator = keep(WeftOperator.start(keep(newClient()),
        new WeftOperator.Config(Set.of(), new InetSocketAddress("127.0.0.1", 0), Optional.empty())
            .withXdsNamespaces(Set.of(XDS_NAMESPACE))
            .withCertificates(Optional.of(CertificateSettings.defaults().withXdsServiceAccount(XDS_SERVICE_ACCOUNT)))));
    console.step("operator reconciling (metrics: curl http://127.0.0.1:" + operator.httpPort() + "/metrics)");

    Path identities = Files.createTempDirectory("weft-demo-identities");
    // Closed after the pods and the xds-server (parts close in reverse): the mounted keys go with the demo.
    keep(() -> deleteRecursively(identities));
    String operatorNamespace = client.getNamespace() == null ? "default" : client.getNamespace();
    MeshIdentities mounts = new MeshIdentities(client, identities,
        "spiffe://" + IdentitySettings.DEFAULT_TRUST_DOMAIN + "/ns/" + operatorNamespace + "/sa/" + XDS_SERVICE_ACCOUNT);
    MeshIdentities.Mounted xdsIdentity = keep(mounts.mountServiceAccount(operatorNamespace, XDS_SERVICE_ACCOUNT));
    XdsServerApp xds = keep(XdsServerApp.start(keep(newClient()),
        new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of())
            .withSyncReport(SyncReportPublisher.Settings.of(XDS_NAMESPACE, "xds-demo"))
            .withXdsTls(xdsIdentity.identityDirectory().toString())));
    console.step("xds-server serving ADS over mTLS on 127.0.0.1:" + xds.xdsPort() + " with the certificate of "
        + mounts.xdsServerId() + " (proxies: curl http://127.0.0.1:" + xds.debugPagesPort() + "/debug/proxies)");

    MeshObjects objects = PaymentsMesh.declare(client, NAMESPACE);
    mesh = keep(PaymentsMesh.start(objects, NAMESPACE, settings.subnet(), xds.xdsPort(), mounts));
    console.step("pods in namespace " + NAMESPACE + ", each an app behind a real Envoy sidecar with the "
        + "certificate the operator issued its ServiceAccount; every hop between sidecars, and each sidecar's "
        + "ADS stream, is mTLS:");
    console.block(String.format("payments-v1  %s  (Services payments, payments-v1)%n"
        + "payments-v2  %s  (Service payments-v2)%n"
        + "web          %s  (client: sends to its sidecar at :%d)",
        mesh.v1.address(), mesh.v2.address(), mesh.web.address(), LocalPod.OUTBOUND_PORT));
  }

  /**
   * Applies the 90/10 canary with kubectl, waits for Programmed, measures the split and prints it
   * with the MeshStatus table. True when the split is within tolerance and every proxy is synced.
   */
  public boolean runCanary() {
    CanarySteps.applyCanary(console, kubectl, client, BOUND);
    Traffic.Tally tally = mesh.traffic.send("payments", settings.requests());
    boolean splitOk = CanarySteps.judgeSplit(console,
        "observed over " + settings.requests() + " requests to payments through web's sidecar:", tally);
    console.step("mTLS handshakes from web's sidecar to payments-v1 and payments-v2: "
        + mesh.clientHandshakes(NAMESPACE));
    boolean synced = CanarySteps.showStatus(console, kubectl, client, 3, BOUND);
    return splitOk && synced;
  }

  /** What a person can type in another terminal while the demo stays up. */
  public void printHowToPlay() {
    Path tools = settings.repoRoot().resolve(".tools/bin");
    String patch = "'{\"spec\":{\"backends\":[{\"service\":\"payments-v1\",\"weight\":50},"
        + "{\"service\":\"payments-v2\",\"weight\":50}]}}'";
    console.plain("""

        The mesh stays up until Ctrl-C. In another terminal:

          export KUBECONFIG=%s
          export PATH=%s:$PATH
          curl -s -H 'Host: payments' http://%s:%d/      # answers payments-v1 or payments-v2
          kubectl patch trafficsplit %s -n %s --type=merge -p %s
          kubectl get trafficsplits,meshstatus -A

        Every TrafficSplit change in namespace %s is measured here. Logs: %s
        """.formatted(cluster.kubeconfig(), tools, mesh.web.address(), LocalPod.OUTBOUND_PORT, SPLIT, NAMESPACE,
        patch, NAMESPACE, ProcessLogs.directory()));
  }

  /** Reports TrafficSplit changes until the demo closes or the thread is interrupted. */
  public void watchSplits() throws InterruptedException {
    new SplitWatcher(client, NAMESPACE, mesh, console, settings.requests() / 2)
        .run(() -> closing.get() || Thread.currentThread().isInterrupted());
  }

  /** The kubeconfig of the demo's cluster (in a temp folder that close() deletes). */
  public Path kubeconfig() {
    return cluster.kubeconfig();
  }

  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    // Pods first, the apiserver last: each part still has what it talks to while it stops.
    for (int i = parts.size() - 1; i >= 0; i--) {
      closeWithin(parts.get(i), STOP_BOUND);
    }
  }

  /** Closes {@code part}, but moves on after {@code limit} so that one stuck part never keeps the rest running. */
  private void closeWithin(AutoCloseable part, Duration limit) {
    Thread closer = new Thread(() -> {
      try {
        part.close();
      } catch (Exception e) {
        console.step("stopping " + part + ": " + e);
      }
    }, "weft-demo-close");
    closer.setDaemon(true);
    closer.start();
    try {
      closer.join(limit.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (closer.isAlive()) {
      console.step("stopping " + part + " took over " + limit.toSeconds() + " s; moving on");
    }
  }

  /**
   * A client that gives up after one retry: on Ctrl-C the terminal stops the apiserver together
   * with this JVM, and closing (the xds-server deletes its sync report) must not wait on it.
   */
  private KubernetesClient newClient() {
    Config config = cluster.clientConfig();
    config.setRequestRetryBackoffLimit(1);
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  private <T extends AutoCloseable> T keep(T part) {
    parts.add(part);
    return part;
  }

  static String canaryYaml() {
    StringBuilder yaml = new StringBuilder("""
        apiVersion: weft.dev/v1alpha1
        kind: TrafficSplit
        metadata:
          name: %s
          namespace: %s
        spec:
          service: payments
          backends:
        """.formatted(SPLIT, NAMESPACE));
    CANARY.forEach((service, weight) ->
        yaml.append("  - service: ").append(service).append("\n    weight: ").append(weight).append('\n'));
    return yaml.toString();
  }

  private static Map<String, Integer> orderedWeights(String first, int firstWeight, String second, int secondWeight) {
    Map<String, Integer> weights = new LinkedHashMap<>();
    weights.put(first, firstWeight);
    weights.put(second, secondWeight);
    return Collections.unmodifiableMap(weights);
  }

  /**
   * {@code make demo} (hack/demo.sh). {@code DEMO_ONCE=1}: exit after the canary, status 0 when
   * the split and MeshStatus are as expected. Otherwise stay up until Ctrl-C.
   */
  public static void main(String[] args) throws Exception {
    boolean once = DemoConsole.once();
    Settings settings = Settings.defaults();
    // Before any logger or HTTP client exists: every log line goes to a file, and the client
    // may name the Service in the Host header as an app behind its sidecar does.
    DemoConsole.logToFiles(settings.repoRoot());
    System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    System.setProperty("sun.net.httpserver.nodelay", "true");

    PrintStream out = System.out;
    out.println("Weft demo: the mesh on one machine, no cluster needed (logs: " + ProcessLogs.directory() + ")");
    WeftDemo demo;
    try {
      demo = start(settings, out);
    } catch (RuntimeException | IOException e) {
      out.println("FAILED to start: " + e.getMessage());
      out.println("logs: " + ProcessLogs.directory());
      System.exit(1);
      return;
    }
    Thread stop = new Thread(() -> {
      demo.close();
      // Backstop: nothing this demo started outlives it, even a process a stuck close left behind.
      ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
      out.println("stopped: every process and the cluster's temp folder are gone; logs kept in "
          + ProcessLogs.directory());
    }, "weft-demo-stop");
    Runtime.getRuntime().addShutdownHook(stop);

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
    // Returns once Ctrl-C (or a kill) has started the shutdown hook.
    demo.watchSplits();
  }
}
