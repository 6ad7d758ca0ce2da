package dev.weft.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A private Linux network namespace for one test class, linked to the host by a veth pair on a /30
 * of 198.18.0.0/15, in which a test runs real processes (Envoy, curl) and real iptables rules, as a
 * pod has them. Needs root, {@code ip}, {@code nsenter} and {@code iptables} ({@code make tools}).
 *
 * <p>Network safety: before the namespace exists, the host gets the guard route
 * {@value #GUARD_ROUTE}, which stays for good, so traffic to these addresses can never follow the
 * default route off the machine, even after the namespace is gone. Every address and route this
 * class makes is inside 198.18.0.0/15; iptables rules go only into the namespace (nf_tables and
 * conntrack state are per network namespace), never on the host.
 *
 * <p>{@link #close()} ends every process still in the namespace, deletes the namespace and the
 * host end of the veth pair, and fails if any of them is still there ({@link #leftovers()}).
 */
public final class NetworkNamespace implements AutoCloseable {

  /** Installed on the host before any namespace is created, never removed. */
  public static final String GUARD_ROUTE = "unreachable 198.18.0.0/15";

  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
  private static final List<String> SBIN = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin");

  private final String name;
  private final String hostInterface;
  private final String hostAddress;
  private final String namespaceAddress;
  private final long inode;
  private final String ip;
  private final String nsenter;
  private final String iptables;
  private boolean closed;

  private NetworkNamespace(String name, String hostInterface, String hostAddress, String namespaceAddress,
      long inode, String ip, String nsenter, String iptables) {
    this.name = name;
    this.hostInterface = hostInterface;
    this.hostAddress = hostAddress;
    this.namespaceAddress = namespaceAddress;
    this.inode = inode;
    this.ip = ip;
    this.nsenter = nsenter;
    this.iptables = iptables;
  }

  /**
   * Creates namespace {@code weft-<label>-<random>} linked to the host through 198.18.{@code subnet}.0/30:
   * the host end is .1, the namespace end .2; loopback is up inside. Test classes take distinct
   * subnets (as local pods take distinct 127.0.x.0/24s), so two of them never share addresses.
   */
  public static NetworkNamespace create(String label, int subnet) {
    if (subnet < 0 || subnet > 255) {
      throw new IllegalArgumentException("subnet must be 0..255 (198.18.<subnet>.0/30), was " + subnet);
    }
    String ip = requireRootAndTools();
    String nsenter = tool("nsenter");
    String prefix = "198.18." + subnet + ".";
    String hostAddress = prefix + 1;
    String namespaceAddress = prefix + 2;
    // The guard first: from here on 198.18.0.0/15 can only go where a more specific route says.
    GuardRoute.ensure();
    String inUse = run(List.of(ip, "-o", "addr", "show", "to", prefix + "0/30")).stdout().strip();
    if (!inUse.isEmpty()) {
      throw new IllegalStateException(prefix + "0/30 is already on a host interface, probably left by a "
          + "killed test run; delete it (ip link del <interface>, ip netns delete <weft-... namespace>):\n" + inUse);
    }

    String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000000, 0x10000000));
    String name = "weft-" + label + "-" + id;
    String hostInterface = "wf" + id + "h"; // interface names have at most 15 characters
    String namespaceInterface = "wf" + id + "n";
    run(List.of(ip, "netns", "add", name));
    try {
      run(List.of(ip, "link", "add", hostInterface, "type", "veth", "peer", "name", namespaceInterface,
          "netns", name));
      run(List.of(ip, "addr", "add", hostAddress + "/30", "dev", hostInterface));
      run(List.of(ip, "link", "set", hostInterface, "up"));
      run(List.of(ip, "-n", name, "addr", "add", namespaceAddress + "/30", "dev", namespaceInterface));
      run(List.of(ip, "-n", name, "link", "set", namespaceInterface, "up"));
      run(List.of(ip, "-n", name, "link", "set", "lo", "up"));
      return new NetworkNamespace(name, hostInterface, hostAddress, namespaceAddress, inode(name), ip, nsenter,
          tool("iptables"));
    } catch (RuntimeException | Error e) {
      Command.run(List.of(ip, "link", "del", hostInterface));
      Command.run(List.of(ip, "netns", "delete", name));
      throw e;
    }
  }

  private static long inode(String name) {
    try {
      return (Long) Files.getAttribute(path(name), "unix:ino");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the inode of namespace " + name, e);
    }
  }

  /**
   * Fails with the fix in the message unless this JVM runs as root with {@code ip}, {@code nsenter}
   * and {@code iptables} at hand; returns the path of {@code ip}.
   */
  public static String requireRootAndTools() {
    String user = System.getProperty("user.name");
    if (!"root".equals(user)) {
      throw new IllegalStateException("network namespace tests need root (running as " + user + ")");
    }
    tool("nsenter");
    tool("iptables");
    return tool("ip");
  }

  /** The namespace's name, as {@code ip netns list} shows it. */
  public String name() {
    return name;
  }

  /** The file that pins the namespace; {@code nsenter --net=} takes it. */
  public Path path() {
    return path(name);
  }

  /** The host end of the veth pair, reachable from inside the namespace: bind servers here. */
  public String hostAddress() {
    return hostAddress;
  }

  /** The namespace end of the veth pair, reachable from the host. */
  public String namespaceAddress() {
    return namespaceAddress;
  }

  /** The command prefix that runs a program inside the namespace (network only; same files and pids). */
  public List<String> enter() {
    return List.of(nsenter, "--net=" + path());
  }

  /** {@code command} run inside the namespace, killed after {@code timeout}. */
  public CommandResult run(Duration timeout, List<String> command) {
    List<String> full = new ArrayList<>(enter());
    full.addAll(command);
    return Command.run(full, Map.of(), null, timeout);
  }

  /** {@code command} run inside the namespace; fails unless it exits 0 within 20 s. */
  public CommandResult exec(String... command) {
    return run(COMMAND_TIMEOUT, List.of(command)).requireSuccess();
  }

  /** Routes {@code cidr} (inside 198.18.0.0/15) from the namespace to the host end of the veth pair. */
  public void routeToHost(String cidr) {
    requireGuarded(cidr);
    run(List.of(ip, "-n", name, "route", "replace", cidr, "via", hostAddress));
  }

  /**
   * The iptables rule a sidecar's init container writes, scoped to {@code cidr}: TCP connections
   * made inside the namespace to {@code cidr} go to {@code port} on loopback instead, and the
   * original destination stays readable (SO_ORIGINAL_DST).
   */
  public void redirectOutboundTcp(String cidr, int port) {
    requireGuarded(cidr);
    exec(iptables, "-w", "5", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", cidr,
        "-j", "REDIRECT", "--to-ports", String.valueOf(port));
  }

  /**
   * Like {@link #redirectOutboundTcp(String, int)}, but connections made by processes of user
   * {@code exemptUid} are left alone, as the init container exempts the proxy's own user: the
   * proxy can then connect to a redirected address itself (passthrough) without coming back.
   */
  public void redirectOutboundTcp(String cidr, int port, int exemptUid) {
    requireGuarded(cidr);
    exec(iptables, "-w", "5", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", cidr,
        "-m", "owner", "!", "--uid-owner", String.valueOf(exemptUid),
        "-j", "REDIRECT", "--to-ports", String.valueOf(port));
  }

  /** The nat table inside the namespace, as {@code iptables -S} prints it. */
  public String natRules() {
    return exec(iptables, "-w", "5", "-t", "nat", "-S").stdout();
  }

  /** Pids of the processes whose network namespace this is. */
  public List<Long> processes() {
    return processesIn(inode);
  }

  /** Pids of the processes in the network namespace with this inode (as {@code /proc/<pid>/ns/net} names it). */
  static List<Long> processesIn(long inode) {
    String link = "net:[" + inode + "]";
    List<Long> pids = new ArrayList<>();
    try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
      entries.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
        try {
          if (Files.readSymbolicLink(p.resolve("ns/net")).toString().equals(link)) {
            pids.add(Long.parseLong(p.getFileName().toString()));
          }
        } catch (IOException | UnsupportedOperationException goneOrNotOurs) {
          // The process ended while we looked, or is not readable: not in our namespace then.
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list /proc", e);
    }
    return pids;
  }

  /** What of this namespace is still on the machine: empty once {@link #close()} has done its work. */
  public List<String> leftovers() {
    List<String> left = new ArrayList<>();
    if (Files.exists(path())) {
      left.add("namespace " + name + " (" + path() + ")");
    }
    if (Command.run(List.of(ip, "link", "show", hostInterface)).succeeded()) {
      left.add("host interface " + hostInterface);
    }
    processes().forEach(pid -> left.add("process " + pid + " in the namespace"));
    if (!Command.run(List.of(ip, "route", "show", "table", "all", "198.18.0.0/15")).stdout()
        .contains("unreachable 198.18.0.0/15")) {
      left.add("(missing) the host guard route " + GUARD_ROUTE);
    }
    return left;
  }

  /**
   * Ends what still runs in the namespace (SIGKILL by pid: only this test starts processes there),
   * deletes the namespace and the host interface, keeps the guard route, and fails if anything is
   * left.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (long pid : processes()) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    try {
      await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> processes().isEmpty());
    } catch (ConditionTimeoutException stillThere) {
      // leftovers() below names them.
    }
    Command.run(List.of(ip, "netns", "delete", name));
    // Deleting the namespace destroys its end of the pair and with it ours; say so explicitly anyway.
    Command.run(List.of(ip, "link", "del", hostInterface));
    List<String> left = leftovers();
    if (!left.isEmpty()) {
      throw new IllegalStateException("network namespace " + name + " left behind: " + left);
    }
  }

  @Override
  public String toString() {
    return "NetworkNamespace[" + name + ", host " + hostAddress + " <-> " + namespaceAddress + "]";
  }

  private static void requireGuarded(String cidr) {
    String address = cidr.contains("/") ? cidr.substring(0, cidr.indexOf('/')) : cidr;
    int prefix = cidr.contains("/") ? Integer.parseInt(cidr.substring(cidr.indexOf('/') + 1)) : 32;
    if (!(address.startsWith("198.18.") || address.startsWith("198.19.")) || prefix < 15) {
      throw new IllegalArgumentException(cidr + " is outside 198.18.0.0/15, the only range tests may route");
    }
  }

  private static Path path(String name) {
    return Path.of("/run/netns", name);
  }

  private static CommandResult run(List<String> command) {
    return Command.run(command, Map.of(), null, COMMAND_TIMEOUT).requireSuccess();
  }

  static String tool(String name) {
    List<String> dirs = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(":")));
    }
    dirs.addAll(SBIN);
    for (String dir : dirs) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    String fix = name.equals("iptables") ? "run `make tools` as root (it installs Debian's iptables)"
        : "install it (Debian: " + (name.equals("ip") ? "iproute2" : "util-linux") + ")";
    throw new IllegalStateException(name + " not found on PATH or in " + SBIN + "; " + fix);
  }
}
