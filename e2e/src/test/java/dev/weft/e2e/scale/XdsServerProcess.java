package dev.weft.e2e.scale;

import dev.weft.testsupport.FreePort;
import dev.weft.testsupport.LoggedProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The xds-server as it ships: its own JVM started from the built jar and target/lib (as the image
 * runs it, with -XX:+ExitOnOutOfMemoryError and an AppCDS archive of the same classes), watching
 * the given namespaces of a real apiserver; plus what the benchmark reads from outside: live heap, RSS and CPU time.
 */
final class XdsServerProcess implements AutoCloseable {

  private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");
  private static final long CLOCK_TICKS_PER_SECOND = 100;

  private final LoggedProcess process;
  private final int xdsPort;
  private final int debugPort;
  private final long startedNanos = System.nanoTime();

  private XdsServerProcess(LoggedProcess process, int xdsPort, int debugPort) {
    this.process = process;
    this.xdsPort = xdsPort;
    this.debugPort = debugPort;
  }

  /**
   * Starts the server on {@code javaHome}'s Java with {@code -Xmx<heap>} and {@code extraJvmArgs}, watching
   * {@code namespaces}; with {@code classDataSharing}, on an AppCDS archive of the classes the image's
   * archive holds ({@link #archive}), as the image starts it.
   */
  static XdsServerProcess start(Path repoRoot, Path javaHome, Path kubeconfig, String heap, List<String> extraJvmArgs,
      List<String> namespaces, boolean classDataSharing) {
    Path target = repoRoot.resolve("xds-server/target");
    String classpath = classpath(target);
    int xdsPort = FreePort.pick();
    int debugPort = FreePort.pick();
    List<String> command = new ArrayList<>(List.of(
        javaHome.resolve("bin/java").toString(),
        // As the chart runs it: the image's -XX:+ExitOnOutOfMemoryError, the chart's heap and G1.
        "-Xmx" + heap, "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError"));
    if (classDataSharing) {
      command.add("-XX:SharedArchiveFile=" + archive(repoRoot, javaHome, classpath));
    }
    command.addAll(extraJvmArgs);
    command.addAll(List.of("-cp", classpath, "dev.weft.xds.XdsServerApp"));
    LoggedProcess process = LoggedProcess.start("xds-server-" + heap, command, Map.of(
        "KUBECONFIG", kubeconfig.toString(),
        "WEFT_BIND_ADDRESS", "127.0.0.1",
        "WEFT_XDS_PORT", String.valueOf(xdsPort),
        "WEFT_DEBUG_PORT", String.valueOf(debugPort),
        // Not the fixed 15015 an installed server uses: another test's server may hold it.
        "WEFT_DEBUG_PAGES_PORT", String.valueOf(FreePort.pick()),
        // Empty: every namespace, as the chart does by default.
        "WEFT_WATCH_NAMESPACES", String.join(",", namespaces),
        "WEFT_SYNC_REPORT", "false"));
    return new XdsServerProcess(process, xdsPort, debugPort);
  }

  /** The jar and target/lib's jars, listed (an archive is valid for one class path, in one order). */
  private static String classpath(Path target) {
    List<String> entries = new ArrayList<>(List.of(serverJar(target).toString()));
    try (Stream<Path> jars = Files.list(target.resolve("lib"))) {
      jars.map(Path::toString).filter(name -> name.endsWith(".jar")).sorted().forEach(entries::add);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + target.resolve("lib"), e);
    }
    return String.join(":", entries);
  }

  private static final Map<String, Path> ARCHIVES = new ConcurrentHashMap<>();

  /**
   * An AppCDS archive of the classes in images/xds-server/classes.lst (what hack/cds-archive.sh puts
   * in the image) for this Java and class path, dumped once per bench run (~10 s).
   */
  private static Path archive(Path repoRoot, Path javaHome, String classpath) {
    return ARCHIVES.computeIfAbsent(javaHome + "|" + classpath, key -> {
      Path archive = repoRoot.resolve("e2e/target/bench-cds/xds-server-" + Integer.toHexString(key.hashCode()) + ".jsa");
      try {
        Files.createDirectories(archive.getParent());
        Files.deleteIfExists(archive);
        Process dump = new ProcessBuilder(javaHome.resolve("bin/java").toString(), "-Xshare:dump", "-Xlog:cds=off",
            "-XX:SharedClassListFile=" + repoRoot.resolve("images/xds-server/classes.lst"),
            "-XX:SharedArchiveFile=" + archive, "-cp", classpath)
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!dump.waitFor(2, TimeUnit.MINUTES) || dump.exitValue() != 0 || !Files.isRegularFile(archive)) {
          dump.destroyForcibly();
          throw new IllegalStateException("could not dump a class data sharing archive to " + archive);
        }
        return archive;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    });
  }

  private static Path serverJar(Path target) {
    try (Stream<Path> files = Files.list(target)) {
      return files.filter(f -> f.getFileName().toString().matches("weft-xds-server-.*(?<!-tests)\\.jar"))
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("no xds-server jar in " + target
              + "; build it first (mvn -q package -pl xds-server -am -DskipTests, or make bench)"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + target, e);
    }
  }

  /** Waits until the ADS port accepts connections; false when the process died or time ran out. */
  boolean awaitPort(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline && isAlive()) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", xdsPort), 200);
        return true;
      } catch (IOException notYet) {
        TimeUnit.MILLISECONDS.sleep(50);
      }
    }
    return false;
  }

  /**
   * Waits until the server answers {@code /readyz} with 200 (it has published its first mesh
   * state); false when the process died or time ran out.
   */
  boolean awaitReady(Duration timeout) throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + debugPort + "/readyz"))
        .timeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline && isAlive()) {
      try {
        if (http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return true;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    return false;
  }

  /**
   * The server's metrics whose name starts with {@code prefix}, as "name value" lines from its
   * /metrics page; empty when it does not answer.
   */
  String metrics(String prefix) {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + debugPort + "/metrics"))
        .timeout(Duration.ofSeconds(5)).build();
    try {
      String body = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()).body();
      return body.lines().filter(line -> line.startsWith(prefix)).reduce((a, b) -> a + "; " + b).orElse("");
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  int xdsPort() {
    return xdsPort;
  }

  long startedNanos() {
    return startedNanos;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Why the process is gone, from its log: the JVM's OutOfMemoryError line when there is one (not
   * the server's heap pressure warning, which names the error as what may come).
   */
  String deathCause() {
    String tail = process.logTail();
    return tail.lines().filter(l -> l.contains("java.lang.OutOfMemoryError")).findFirst()
        .map(l -> "OOM (" + l.strip() + ")")
        .orElse("exited: " + tail.lines().reduce((a, b) -> b).orElse("(no log)"));
  }

  Path logFile() {
    return process.logFile();
  }

  /** Heap in use right after a full GC, in MiB; empty when jcmd could not tell (or the server died). */
  Optional<Double> liveHeapMib() {
    if (!isAlive()) {
      return Optional.empty();
    }
    jcmd("GC.run");
    Matcher used = HEAP_USED.matcher(jcmd("GC.heap_info"));
    return used.find() ? Optional.of(Long.parseLong(used.group(1)) / 1024.0) : Optional.empty();
  }

  /** VmRSS and VmHWM (peak) in MiB, from /proc. */
  double[] rssAndPeakMib() {
    try {
      List<String> status = Files.readAllLines(Path.of("/proc", String.valueOf(pid()), "status"));
      return new double[] {kib(status, "VmRSS:") / 1024.0, kib(status, "VmHWM:") / 1024.0};
    } catch (IOException gone) {
      return new double[] {Double.NaN, Double.NaN};
    }
  }

  /** User + system CPU seconds the server has used so far (NaN once it is gone). */
  double cpuSeconds() {
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(pid()), "stat"));
      // Fields after the command name, which is in parentheses and may hold spaces.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / (double) CLOCK_TICKS_PER_SECOND;
    } catch (IOException gone) {
      return Double.NaN;
    }
  }

  private static long kib(List<String> status, String key) {
    return status.stream().filter(l -> l.startsWith(key)).findFirst()
        .map(l -> Long.parseLong(l.substring(key.length()).replace("kB", "").strip())).orElse(-1L);
  }

  private String jcmd(String command) {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    try {
      Process run = new ProcessBuilder(jcmd.toString(), String.valueOf(pid()), command)
          .redirectErrorStream(true).start();
      if (!run.waitFor(60, TimeUnit.SECONDS)) {
        run.destroyForcibly();
        return "";
      }
      return new String(run.getInputStream().readAllBytes());
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  @Override
  public void close() {
    process.stop(Duration.ofSeconds(10));
  }
}
