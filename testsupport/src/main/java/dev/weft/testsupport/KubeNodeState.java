package dev.weft.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What a running test node holds on the host, read from the state {@code hack/cluster.sh up}
 * writes: its folder, network namespace, host interface, cgroup root, address ranges and the
 * processes it started, and the address of its cluster DNS (the Service {@code kube-system/kube-dns}
 * that every pod's resolv.conf names). {@link #leftovers()} looks on the host for any of it, independently of
 * the script, so a test can check that {@code down} removed everything.
 */
public record KubeNodeState(Path dir, String netns, long netnsInode, String hostInterface, String nodeIp,
    String podCidr, String serviceCidr, String dnsServiceIp, String cgroupRoot, int apiServerPort,
    Map<String, StartedProcess> processes, Map<String, String> sysctlsBefore) {

  private static final Path CGROUPS = Path.of("/sys/fs/cgroup");

  /** A process the script started: its pid and when it started, which tells it from a reused pid. */
  public record StartedProcess(long pid, Optional<Instant> started) {

    /** Whether this very process still runs. */
    public boolean isAlive() {
      return ProcessHandle.of(pid).filter(p -> p.info().startInstant().equals(started)).isPresent();
    }
  }

  public KubeNodeState {
    processes = Map.copyOf(processes);
    sysctlsBefore = Map.copyOf(sysctlsBefore);
  }

  /** The state of the node in {@code dir}, which must be up. */
  public static KubeNodeState read(Path dir) {
    Map<String, String> values = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(dir.resolve("state.env"))) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          values.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      Map<String, StartedProcess> processes = new LinkedHashMap<>();
      try (Stream<Path> files = Files.list(dir.resolve("pids"))) {
        for (Path file : files.sorted().toList()) {
          long pid = Long.parseLong(Files.readString(file).strip().split("\\s+")[0]);
          processes.put(file.getFileName().toString(), new StartedProcess(pid,
              ProcessHandle.of(pid).flatMap(p -> p.info().startInstant())));
        }
      }
      // The kernel settings the kubelet changes for itself, as they were before it ran.
      Map<String, String> sysctls = new LinkedHashMap<>();
      for (String line : Files.readAllLines(dir.resolve("sysctls.saved"))) {
        String[] nameValue = line.strip().split("\\s+", 2);
        if (nameValue.length == 2) {
          sysctls.put(nameValue[0], nameValue[1]);
        }
      }
      String netns = require(values, "NETNS");
      long inode = (Long) Files.getAttribute(Path.of("/run/netns", netns), "unix:ino");
      return new KubeNodeState(dir, netns, inode, require(values, "HOST_IF"), require(values, "NODE_IP"),
          require(values, "POD_CIDR"), require(values, "SERVICE_CIDR"), require(values, "DNS_SERVICE_IP"),
          require(values, "CGROUP_ROOT"),
          Integer.parseInt(require(values, "APISERVER_PORT")), processes, sysctls);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the node's state in " + dir + " (is it up?)", e);
    }
  }

  /** What of this node is still on the host; empty once {@code down} has done its work. */
  public List<String> leftovers() {
    List<String> left = new ArrayList<>();
    processes.forEach((name, process) -> {
      if (process.isAlive()) {
        left.add("process " + name + " (pid " + process.pid() + ")");
      }
    });
    processesInNetns().forEach(pid -> left.add("process " + pid + " in the node's network namespace"));
    mountsUnder(dir).forEach(mount -> left.add("mount " + mount));
    cgroupHierarchies().stream().map(h -> h.resolve(cgroupRoot)).filter(Files::exists)
        .forEach(cgroup -> left.add("cgroup " + cgroup));
    if (Files.exists(Path.of("/run/netns", netns))) {
      left.add("network namespace " + netns);
    }
    if (Files.exists(Path.of("/sys/class/net", hostInterface))) {
      left.add("host interface " + hostInterface);
    }
    for (String cidr : List.of(podCidr, serviceCidr)) {
      String route = Command.run(List.of(ip(), "route", "show", cidr)).stdout().strip();
      if (!route.isEmpty()) {
        left.add("host route " + route);
      }
    }
    sysctlsBefore.forEach((name, before) -> {
      String now = readProc(Path.of("/proc/sys", name));
      if (!before.equals(now)) {
        left.add("kernel setting " + name + " = " + now + " (was " + before + ")");
      }
    });
    if (Files.exists(dir)) {
      left.add("folder " + dir);
    }
    if (!Command.run(List.of(ip(), "route", "show", "table", "all", "198.18.0.0/15")).stdout()
        .contains("unreachable 198.18.0.0/15")) {
      left.add("(missing) the host guard route " + NetworkNamespace.GUARD_ROUTE);
    }
    return left;
  }

  private List<Long> processesInNetns() {
    return NetworkNamespace.processesIn(netnsInode);
  }

  /** Mount points at or below {@code dir}, from this process's mount table (the host's: no mount namespace). */
  static List<String> mountsUnder(Path dir) {
    String prefix = dir.toString();
    List<String> mounts = new ArrayList<>();
    for (String line : readProc(Path.of("/proc/self/mountinfo")).split("\n")) {
      String[] fields = line.split(" ");
      if (fields.length > 4) {
        String point = fields[4].replace("\\040", " ");
        if (point.equals(prefix) || point.startsWith(prefix + "/")) {
          mounts.add(point);
        }
      }
    }
    return mounts;
  }

  private static List<Path> cgroupHierarchies() {
    try (Stream<Path> entries = Files.list(CGROUPS)) {
      return entries.filter(Files::isDirectory).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + CGROUPS, e);
    }
  }

  private static String readProc(Path file) {
    // A reader: /proc files report size 0, which makes Files.readString stop short on some JDKs.
    try (BufferedReader reader = Files.newBufferedReader(file)) {
      StringBuilder text = new StringBuilder();
      String line;
      while ((line = reader.readLine()) != null) {
        text.append(line).append('\n');
      }
      return text.toString().strip();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static String require(Map<String, String> values, String key) {
    String value = values.get(key);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException("the node's state.env has no " + key + ": " + values);
    }
    return value;
  }

  private static String ip() {
    return Files.isExecutable(Path.of("/usr/sbin/ip")) ? "/usr/sbin/ip" : "ip";
  }
}
