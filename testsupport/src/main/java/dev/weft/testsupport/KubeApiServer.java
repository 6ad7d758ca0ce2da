package dev.weft.testsupport;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real kube-apiserver on a real etcd, on loopback with a throwaway PKI and data dir, logging under
 * target/; or, {@linkplain #connect connected}, an external cluster (k3s) that tests reach through
 * its kubeconfig, with other identities by impersonation.
 */
public final class KubeApiServer implements AutoCloseable {

  /**
   * The ClusterIP range Services get. Nothing routes it, but the apiserver itself dials a Service's
   * cluster IP to call a webhook behind it, so the range lies under the host's guard route
   * ({@link GuardRoute}): such a call fails on this machine instead of leaving it.
   */
  public static final String SERVICE_CLUSTER_IP_RANGE = "198.18.224.0/20";
  public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  private static final Logger LOG = LoggerFactory.getLogger(KubeApiServer.class);
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);

  private final WeftTools tools;
  private final Path runtimeDir;
  private final ApiServerCertificates certificates;
  private final LoggedProcess etcd;
  private final LoggedProcess apiServer;
  private final URI url;
  private final Path kubeconfig;
  private final String kubeconfigYaml;
  private final Duration startupTime;
  private final Thread cleanupOnExit;
  private volatile boolean closed;

  private KubeApiServer(WeftTools tools, Path runtimeDir, ApiServerCertificates certificates, LoggedProcess etcd,
      LoggedProcess apiServer, URI url, Path kubeconfig, String kubeconfigYaml, Duration startupTime,
      Thread cleanupOnExit) {
    this.tools = tools;
    this.runtimeDir = runtimeDir;
    this.certificates = certificates;
    this.etcd = etcd;
    this.apiServer = apiServer;
    this.url = url;
    this.kubeconfig = kubeconfig;
    this.kubeconfigYaml = kubeconfigYaml;
    this.startupTime = startupTime;
    this.cleanupOnExit = cleanupOnExit;
  }

  /**
   * An external cluster, e.g. k3s in a container: nothing is started or stopped here, the
   * kubeconfig's user must be a cluster admin, and {@link #kubectlAs}/{@link #newClientAs}
   * impersonate. kubectl comes from {@code tools}.
   */
  public static KubeApiServer connect(WeftTools tools, Path kubeconfigFile) {
    try {
      String yaml = Files.readString(kubeconfigFile);
      URI url = URI.create(Config.fromKubeconfig(yaml).getMasterUrl().replaceAll("/+$", ""));
      Path runtimeDir = createRuntimeDir();
      Thread cleanupOnExit = new Thread(() -> deleteRecursively(runtimeDir), "external cluster cleanup");
      Runtime.getRuntime().addShutdownHook(cleanupOnExit);
      LOG.info("using the external cluster at {} (kubeconfig {})", url, kubeconfigFile);
      return new KubeApiServer(tools, runtimeDir, null, null, null, url, kubeconfigFile, yaml, Duration.ZERO,
          cleanupOnExit);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the kubeconfig " + kubeconfigFile, e);
    }
  }

  /** Starts etcd and kube-apiserver from the provisioned tools and waits until the API serves. */
  public static KubeApiServer start() {
    return start(WeftTools.locate(), List.of());
  }

  /** As {@link #start()}, with tools from elsewhere and more kube-apiserver flags (e.g. feature gates). */
  public static KubeApiServer start(WeftTools tools, List<String> extraApiServerFlags) {
    long startedAt = System.nanoTime();
    Path etcdBinary = tools.etcd();
    Path apiServerBinary = tools.kubeApiServer();
    // Before any Service exists: a webhook call to a cluster IP must stay on this machine.
    GuardRoute.ensure();
    // kubectl too: the fixture hands it out, and a missing one should fail here, not mid-test.
    tools.kubectl();

    Path runtimeDir = createRuntimeDir();
    List<LoggedProcess> started = new ArrayList<>();
    // Backstop for a JVM that ends without close(): processes first, so nothing still writes
    // into the folder being deleted.
    Thread cleanupOnExit = new Thread(() -> {
      started.forEach(process -> process.stop(Duration.ofSeconds(2)));
      deleteRecursively(runtimeDir);
    }, "kube-apiserver cleanup");
    Runtime.getRuntime().addShutdownHook(cleanupOnExit);
    try {
      ApiServerCertificates certificates =
          ApiServerCertificates.generate(runtimeDir.resolve("pki"), firstServiceIp());

      int etcdPort = FreePort.pick();
      int etcdPeerPort = FreePort.pick();
      LoggedProcess etcd = LoggedProcess.start("etcd", List.of(
          etcdBinary.toString(),
          "--name", "weft-test",
          "--data-dir", runtimeDir.resolve("etcd").toString(),
          "--listen-client-urls", "http://127.0.0.1:" + etcdPort,
          "--advertise-client-urls", "http://127.0.0.1:" + etcdPort,
          "--listen-peer-urls", "http://127.0.0.1:" + etcdPeerPort,
          "--initial-advertise-peer-urls", "http://127.0.0.1:" + etcdPeerPort,
          "--initial-cluster", "weft-test=http://127.0.0.1:" + etcdPeerPort,
          // A throwaway store: fsync buys durability we do not need and costs seconds on CI disks.
          "--unsafe-no-fsync"), Map.of());
      started.add(etcd);
      awaitEtcd(etcd, etcdPort);

      int port = FreePort.pick();
      List<String> command = new ArrayList<>(List.of(
          apiServerBinary.toString(),
          "--etcd-servers=http://127.0.0.1:" + etcdPort,
          "--bind-address=127.0.0.1",
          "--advertise-address=127.0.0.1",
          "--secure-port=" + port,
          "--cert-dir=" + runtimeDir.resolve("apiserver-certs"),
          "--tls-cert-file=" + certificates.servingCert(),
          "--tls-private-key-file=" + certificates.servingKey(),
          "--client-ca-file=" + certificates.caCert(),
          "--authorization-mode=RBAC",
          "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
          "--service-account-key-file=" + certificates.serviceAccountKey(),
          "--service-account-signing-key-file=" + certificates.serviceAccountKey(),
          "--service-cluster-ip-range=" + SERVICE_CLUSTER_IP_RANGE,
          "--allow-privileged=true",
          // No controller-manager creates the "default" ServiceAccount, so this plugin
          // would reject every Pod; tests that need a ServiceAccount create it.
          "--disable-admission-plugins=ServiceAccount",
          // Loopback may not be a Service endpoint, so the reconciler would only log errors.
          "--endpoint-reconciler-type=none",
          // One client, no contention: flow control only slows startup.
          "--enable-priority-and-fairness=false",
          "--profiling=false"));
      command.addAll(extraApiServerFlags);
      LoggedProcess apiServer = LoggedProcess.start("kube-apiserver", command, Map.of());
      started.add(apiServer);
      URI url = URI.create("https://127.0.0.1:" + port);
      awaitApiServer(apiServer, etcd, url, certificates);

      String kubeconfigYaml = kubeconfigYaml(url, certificates.caPem(), certificates.admin());
      Path kubeconfig = runtimeDir.resolve("kubeconfig");
      Files.writeString(kubeconfig, kubeconfigYaml);

      Duration startupTime = Duration.ofNanos(System.nanoTime() - startedAt);
      LOG.info("kube-apiserver ready at {} after {} ms (kubeconfig {}, log {})", url,
          startupTime.toMillis(), kubeconfig, apiServer.logFile());
      return new KubeApiServer(tools, runtimeDir, certificates, etcd, apiServer, url, kubeconfig,
          kubeconfigYaml, startupTime, cleanupOnExit);
    } catch (IOException e) {
      cleanUp(started, runtimeDir, cleanupOnExit);
      throw new UncheckedIOException("cannot start kube-apiserver", e);
    } catch (RuntimeException | Error e) {
      cleanUp(started, runtimeDir, cleanupOnExit);
      throw e;
    }
  }

  /** Base URL, e.g. {@code https://127.0.0.1:23456}. */
  public URI url() {
    return url;
  }

  /** A kubeconfig file for the admin user (system:masters), with certificates inline. */
  public Path kubeconfig() {
    return kubeconfig;
  }

  /** The same kubeconfig as text, e.g. to hand to a process under test. */
  public String kubeconfigYaml() {
    return kubeconfigYaml;
  }

  /** A kubeconfig for another identity signed by the cluster CA, for RBAC tests (local only). */
  public String kubeconfigYaml(String user, String... groups) {
    return kubeconfigYaml(url, local().caPem(), local().issueClient(user, groups));
  }

  /** Whether this fixture started the apiserver itself (false: an external cluster). */
  public boolean isLocal() {
    return certificates != null;
  }

  public ApiServerCertificates certificates() {
    return local();
  }

  public Path logFile() {
    local();
    return apiServer.logFile();
  }

  public Path etcdLogFile() {
    local();
    return etcd.logFile();
  }

  /** From start() to a ready API with the default namespace. */
  public Duration startupTime() {
    return startupTime;
  }

  /** fabric8 configuration for the admin user. */
  public Config clientConfig() {
    return Config.fromKubeconfig(kubeconfigYaml);
  }

  /** A new fabric8 client as the admin user; the caller closes it. */
  public KubernetesClient newClient() {
    return new KubernetesClientBuilder().withConfig(clientConfig()).build();
  }

  /** The real kubectl, pointed at this server as the admin user. */
  public Kubectl kubectl() {
    return new Kubectl(tools.kubectl(), kubeconfig, runtimeDir.resolve("kubectl-cache"));
  }

  /** The real kubectl as another identity (not system:masters unless asked), for RBAC tests. */
  public Kubectl kubectlAs(String user, String... groups) {
    if (!isLocal()) {
      return kubectl().impersonating(user, groups);
    }
    String safe = user.replaceAll("[^A-Za-z0-9._-]", "_");
    Path file = runtimeDir.resolve("kubeconfig-" + safe + "-" + System.nanoTime());
    try {
      Files.writeString(file, kubeconfigYaml(user, groups));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a kubeconfig for " + user, e);
    }
    return new Kubectl(tools.kubectl(), file, runtimeDir.resolve("kubectl-cache"));
  }

  /** A new fabric8 client as another identity; the caller closes it. */
  public KubernetesClient newClientAs(String user, String... groups) {
    if (!isLocal()) {
      Config config = clientConfig();
      config.setImpersonateUsername(user);
      config.setImpersonateGroups(groups);
      return new KubernetesClientBuilder().withConfig(config).build();
    }
    return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(kubeconfigYaml(user, groups))).build();
  }

  public boolean isAlive() {
    return !closed && (!isLocal() || (etcd.isAlive() && apiServer.isAlive()));
  }

  /** Stops kube-apiserver, then etcd (SIGTERM, SIGKILL after a bound), and deletes certificates and data. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (!isLocal()) {
      cleanUp(List.of(), runtimeDir, cleanupOnExit);
      return;
    }
    cleanUp(List.of(etcd, apiServer), runtimeDir, cleanupOnExit);
    LOG.info("kube-apiserver at {} stopped; logs kept at {} and {}", url, logFile(), etcdLogFile());
  }

  @Override
  public String toString() {
    return isLocal()
        ? "KubeApiServer[" + url + ", kubeconfig " + kubeconfig + ", log " + logFile() + "]"
        : "KubeApiServer[external " + url + ", kubeconfig " + kubeconfig + "]";
  }

  private ApiServerCertificates local() {
    if (!isLocal()) {
      throw new IllegalStateException("the cluster at " + url + " is external: it has no certificates or logs here");
    }
    return certificates;
  }

  private static void awaitEtcd(LoggedProcess etcd, int port) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
        .timeout(Duration.ofSeconds(5)).build();
    await("etcd to report healthy on port " + port + " (log " + etcd.logFile() + ")")
        .atMost(STARTUP_TIMEOUT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> {
          etcd.requireAlive();
          return answers(client, health, body -> body.contains("\"health\":\"true\""));
        });
  }

  private static void awaitApiServer(LoggedProcess apiServer, LoggedProcess etcd, URI url,
      ApiServerCertificates certificates) {
    // HTTP/1.1 because the apiserver throttles HTTP/2 from clients it has not authenticated yet.
    HttpClient client = HttpClient.newBuilder()
        .sslContext(certificates.adminSslContext())
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2))
        .build();
    HttpRequest readyz = HttpRequest.newBuilder(url.resolve("/readyz")).timeout(Duration.ofSeconds(5)).build();
    // The bootstrap controller creates "default" a moment after /readyz turns ok; tests expect it.
    HttpRequest defaultNamespace = HttpRequest.newBuilder(url.resolve("/api/v1/namespaces/default"))
        .timeout(Duration.ofSeconds(5)).build();
    await("kube-apiserver at " + url + " to be ready with namespace default (log " + apiServer.logFile() + ")")
        .atMost(STARTUP_TIMEOUT)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          etcd.requireAlive();
          apiServer.requireAlive();
          return answers(client, readyz, body -> true) && answers(client, defaultNamespace, body -> true);
        });
  }

  private static boolean answers(HttpClient client, HttpRequest request,
      Predicate<String> bodyOk) throws InterruptedException {
    try {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      return response.statusCode() == 200 && bodyOk.test(response.body());
    } catch (IOException notServingYet) {
      return false;
    }
  }

  private static String kubeconfigYaml(URI url, String caPem, ApiServerCertificates.ClientIdentity user) {
    return "apiVersion: v1\n"
        + "kind: Config\n"
        + "clusters:\n"
        + "- name: weft-test\n"
        + "  cluster:\n"
        + "    server: " + url + "\n"
        + "    certificate-authority-data: " + base64(caPem) + "\n"
        + "users:\n"
        + "- name: " + user.user() + "\n"
        + "  user:\n"
        + "    client-certificate-data: " + base64(user.certPem()) + "\n"
        + "    client-key-data: " + base64(user.keyPem()) + "\n"
        + "contexts:\n"
        + "- name: weft-test\n"
        + "  context:\n"
        + "    cluster: weft-test\n"
        + "    user: " + user.user() + "\n"
        + "    namespace: default\n"
        + "current-context: weft-test\n";
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static InetAddress firstServiceIp() {
    try {
      return InetAddress.getByName("198.18.224.1");
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path createRuntimeDir() {
    try {
      return Files.createTempDirectory("weft-kube-apiserver-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temp dir for kube-apiserver", e);
    }
  }

  private static void cleanUp(List<LoggedProcess> processes, Path runtimeDir, Thread cleanupOnExit) {
    // The apiserver first: stopping etcd under it only makes it log connection errors.
    for (int i = processes.size() - 1; i >= 0; i--) {
      processes.get(i).stop(STOP_GRACE);
    }
    deleteRecursively(runtimeDir);
    try {
      Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
    } catch (IllegalStateException alreadyShuttingDown) {
      // The hook runs anyway and finds nothing left to do.
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> {
        try {
          Files.deleteIfExists(path);
        } catch (IOException e) {
          LOG.warn("cannot delete {}: {}", path, e.toString());
        }
      });
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("cannot delete {}: {}", dir, e.toString());
    }
  }
}
