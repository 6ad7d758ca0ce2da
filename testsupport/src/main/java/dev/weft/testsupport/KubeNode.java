package dev.weft.testsupport;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kubernetes on this machine (kubelet, containerd, bridge CNI, kube-proxy and
 * the control plane in a private network namespace on 198.19.0.0/16), brought up and torn down by
 * {@code hack/cluster.sh}, the script behind {@code make cluster}. Pods run from images loaded
 * with {@link #load}; nothing is pulled. Needs root and {@code make tools}.
 *
 * <p>As a {@link ClusterProvider} ({@code -Dweft.test.cluster.provider=dev.weft.testsupport.KubeNode})
 * it serves the whole e2e suite; {@link KubeNodeTest} gives a test class the JVM-wide node.
 * {@link #close()} takes it down and fails if anything of it is left on the host; a JVM that ends
 * without closing it takes it down from a shutdown hook.
 */
public final class KubeNode implements ClusterProvider {

  /** A cold node is up in 10-20 s on 2 cores; this bounds a broken one. */
  public static final Duration UP_TIMEOUT = Duration.ofMinutes(3);
  public static final Duration DOWN_TIMEOUT = Duration.ofMinutes(2);

  private static final Logger LOG = LoggerFactory.getLogger(KubeNode.class);

  private final WeftTools tools;
  private final Path dir;
  private volatile KubeNodeState state;
  private volatile Thread downOnExit;

  /** A node in {@code target/weft-node} of the working directory, with the tools {@link WeftTools#locate()} finds. */
  public KubeNode() {
    this(WeftTools.locate(), Path.of("target", "weft-node"));
  }

  /** A node whose state, logs and kubeconfig live in {@code dir} (one node per folder). */
  public KubeNode(WeftTools tools, Path dir) {
    this.tools = tools;
    this.dir = dir.toAbsolutePath().normalize();
  }

  /** Brings the node up (taking down a node a killed run left in the same folder); returns the admin kubeconfig. */
  @Override
  public synchronized Path start() {
    if (state != null) {
      return kubeconfig();
    }
    NetworkNamespace.requireRootAndTools();
    long startedAt = System.nanoTime();
    CommandResult up = script("up", UP_TIMEOUT);
    if (!up.succeeded()) {
      throw new IllegalStateException("the test node did not come up (logs in " + dir + "-failed-logs):\n" + up);
    }
    state = KubeNodeState.read(dir);
    downOnExit = new Thread(this::downQuietly, "kube node down");
    Runtime.getRuntime().addShutdownHook(downOnExit);
    LOG.info("test node up in {} ms: apiserver https://{}:{}, pods {}, Services {}, DNS {}, netns {}, kubeconfig {}",
        Duration.ofNanos(System.nanoTime() - startedAt).toMillis(), state.nodeIp(), state.apiServerPort(),
        state.podCidr(), state.serviceCidr(), state.dnsServiceIp(), state.netns(), kubeconfig());
    return kubeconfig();
  }

  /** The node's folder: state, logs ({@code logs/}), kubeconfig. */
  public Path dir() {
    return dir;
  }

  /** What the node holds on the host (namespace, interface, cgroup root, processes), for checks after {@link #close()}. */
  public KubeNodeState state() {
    requireUp();
    return state;
  }

  /** The admin (system:masters) kubeconfig. */
  public Path kubeconfig() {
    return dir.resolve("kubeconfig");
  }

  /** The real kubectl as the admin, as a person uses it after {@code make cluster}. */
  public Kubectl kubectl() {
    requireUp();
    return new Kubectl(tools.kubectl(), kubeconfig(), dir.resolve("kubectl-cache"));
  }

  /** A new fabric8 client as the admin; the caller closes it. */
  public KubernetesClient newClient() {
    requireUp();
    try {
      return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(kubeconfig()))).build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + kubeconfig(), e);
    }
  }

  /** Imports a docker-archive image into the node's containerd ({@code ctr -n k8s.io images import}); returns its name. */
  public String load(Path imageArchive) {
    requireUp();
    script(List.of("load", imageArchive.toAbsolutePath().toString()), Command.DEFAULT_TIMEOUT).requireSuccess();
    return ImageArchive.name(imageArchive);
  }

  /** {@code command} run in the node's network namespace (where pod and Service addresses answer), killed after {@code timeout}. */
  public CommandResult inNodeNetwork(Duration timeout, String... command) {
    requireUp();
    List<String> full = new ArrayList<>(List.of("nsenter", "--net=/run/netns/" + state.netns()));
    full.addAll(List.of(command));
    return Command.run(full, Map.of(), null, timeout);
  }

  /** {@code crictl <args>} against the node's containerd, as docs/development.md shows for debugging a pod. */
  public CommandResult crictl(String... args) {
    requireUp();
    String endpoint = "unix://" + dir.resolve("containerd").resolve("containerd.sock");
    List<String> command = new ArrayList<>(List.of(tools.binary("crictl").toString(),
        "--runtime-endpoint", endpoint, "--image-endpoint", endpoint));
    command.addAll(List.of(args));
    return Command.run(command);
  }

  /** The log of one of the node's processes (kubelet, containerd, kube-apiserver, ...). */
  public Path logFile(String process) {
    return dir.resolve("logs").resolve(process + ".log");
  }

  public boolean isUp() {
    return state != null;
  }

  /**
   * Takes the node down ({@code hack/cluster.sh down}): processes by pid, pod sandboxes, mounts,
   * cgroups, the network namespace and veth pair. The logs are kept in {@code <dir>-logs}. Fails
   * when the script reports something left behind.
   */
  @Override
  public synchronized void close() {
    if (state == null) {
      return;
    }
    keepLogs();
    CommandResult down = script("down", DOWN_TIMEOUT);
    state = null;
    try {
      Runtime.getRuntime().removeShutdownHook(downOnExit);
    } catch (IllegalStateException alreadyShuttingDown) {
      // the hook finds the node down
    }
    if (!down.succeeded()) {
      throw new IllegalStateException("the test node left something behind:\n" + down);
    }
    LOG.info("test node down; its logs are in {}", logsKeptIn());
  }

  @Override
  public String toString() {
    return "KubeNode[" + dir + (state == null ? ", down]" : ", netns " + state.netns() + "]");
  }

  private Path logsKeptIn() {
    return dir.resolveSibling(dir.getFileName() + "-logs");
  }

  private void keepLogs() {
    Path from = dir.resolve("logs");
    Path to = logsKeptIn();
    try {
      if (Files.exists(to)) {
        try (Stream<Path> old = Files.walk(to)) {
          old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
      Files.createDirectories(to);
      try (Stream<Path> logs = Files.list(from)) {
        for (Path log : logs.toList()) {
          Files.copy(log, to.resolve(log.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      LOG.warn("cannot keep the node's logs from {}: {}", from, e.toString());
    }
  }

  private void downQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      System.err.println("test node " + dir + ": " + e.getMessage());
    }
  }

  private void requireUp() {
    if (state == null) {
      throw new IllegalStateException("the test node in " + dir + " is not up: call start() first");
    }
  }

  private CommandResult script(String command, Duration timeout) {
    return script(List.of(command), timeout);
  }

  private CommandResult script(List<String> args, Duration timeout) {
    List<String> command = new ArrayList<>();
    command.add(WeftTools.repoRoot().resolve("hack").resolve("cluster.sh").toString());
    command.add(args.get(0));
    command.add("--dir");
    command.add(dir.toString());
    command.addAll(args.subList(1, args.size()));
    return Command.run(command, Map.of(WeftTools.TOOLS_DIR_ENV, tools.dir().toString()), null, timeout);
  }
}
