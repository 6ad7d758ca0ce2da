package dev.weft.e2e.scale;

import dev.weft.demo.WeftCrds;
import dev.weft.e2e.Percentiles;
import dev.weft.e2e.scale.SimulatedProxy.Kind;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The xds-server at scale: the real server process (as built, at the heap limit given) against a
 * real apiserver holding a generated mesh, with hundreds to thousands of simulated delta or
 * state-of-the-world ADS proxies. Prints, per (Services, proxies, mode, heap): time until every
 * proxy ACKed every type, edit → last proxy ACKed for a TrafficSplit, a VirtualService and an
 * endpoint, bytes and resources pushed per edit, live heap, RSS and CPU; a server that dies is a
 * result, not a failure. Asserts nothing about time (run with `make bench`; docs/benchmarks.md).
 *
 * <p>System properties (lists are comma-separated): {@code weft.bench.services} (100,1000),
 * {@code weft.bench.proxies} (100,500,1000,2000), {@code weft.bench.modes} (delta; or sotw, or both),
 * {@code weft.bench.heap} (the chart's {@code xds.jvm.maxHeap}), {@code weft.bench.fallbackHeap} (2g: the row again at this heap
 * when the server died; empty for none), {@code weft.bench.edits} (10 per kind),
 * {@code weft.bench.warmupEdits} (10 per kind, before the measured ones), {@code weft.bench.rowMinutes} (10), {@code weft.bench.serverJvmArgs} (extra flags, space-separated,
 * e.g. a JFR recording), {@code weft.bench.connect} ({@code at-start}: the proxies connect as soon as
 * the port opens, before the first mesh state, as after a restart; {@code when-ready}: once the
 * server has published, so every proxy group joins a running server), {@code weft.bench.watch}
 * ({@code cluster}, the chart's default: the server watches every namespace; {@code namespaces}:
 * the mesh's 20, as the rows before 2026-12 were measured),
 * {@code weft.bench.javaHome} (the Java the server runs on; this JVM's by default: point it at the
 * image's jlinked runtime to measure what a pod starts with), {@code weft.bench.outboundNamespaces}
 * (unset: every sidecar gets the whole mesh; N: each namespace is annotated to reach the next N of
 * the 20, so its sidecars get 1 + N namespaces' Services), {@code weft.bench.clientWarmup} (true: one
 * unreported sync of the most proxies first, so the load client's own JIT is not on the measured
 * rows' cores), {@code weft.bench.scopedRow} (2: after the rows of 1,000 Services, the 2,000-proxy row
 * again with each namespace reaching the next 2, unless every row is scoped already; negative: no
 * such row), {@code weft.bench.appCds} (true: the server starts on an AppCDS archive of the
 * classes the image's archive holds, as the image does; false: without).
 */
@KubeApiServerTest
class ScaleBench {

  private static final Duration EDIT_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration QUIET = Duration.ofMillis(300);
  private static final Duration SETTLED = Duration.ofSeconds(2);
  private static final Duration STEADY_WINDOW = Duration.ofSeconds(10);

  private final List<Integer> servicesList = ints("weft.bench.services", "100,1000");
  private final List<Integer> proxiesList = ints("weft.bench.proxies", "100,500,1000,2000");
  private final List<String> modes = strings("weft.bench.modes", "delta");
  private final int outboundNamespaces = Integer.parseInt(System.getProperty("weft.bench.outboundNamespaces", "-1").strip());
  private final int scopedRow = Integer.parseInt(System.getProperty("weft.bench.scopedRow", "2").strip());
  private final boolean clientWarmup = Boolean.parseBoolean(System.getProperty("weft.bench.clientWarmup", "true").strip());
  private final boolean classDataSharing = Boolean.parseBoolean(System.getProperty("weft.bench.appCds", "true").strip());
  private final Path repoRoot = Path.of(System.getProperty("weft.repo.root", "..")).toAbsolutePath().normalize();
  /** By default the heap the chart gives the xds-server, so the table is what an install gets. */
  private final String heap = System.getProperty("weft.bench.heap", ChartValues.xdsMaxHeap(repoRoot));
  private final String fallbackHeap = System.getProperty("weft.bench.fallbackHeap", "2g").strip();
  private final int edits = Integer.getInteger("weft.bench.edits", 10);
  /**
   * Edits of each kind made, and waited for, before the measured ones: the JIT compiles the edit
   * path during the first few dozen (a weight edit took 782 ms first, ~400 ms for the next nine,
   * ~180 ms from the twentieth on), and a server that has run for minutes is past that. What they
   * took is printed too (the first edit after a start, and the warm-up's max).
   */
  private final int warmupEdits = Integer.getInteger("weft.bench.warmupEdits", 10);
  private final boolean connectWhenReady = connectWhenReady(System.getProperty("weft.bench.connect", "at-start"));
  /**
   * {@code weft.bench.watch}: {@code cluster} (every namespace, the chart's default: one informer
   * per kind; the default here too, so the bench measures what an install runs) or
   * {@code namespaces} (the generated mesh's 20, one informer per kind and namespace, as with the
   * chart's watchNamespaces).
   */
  private final boolean watchEverything = watchEverything(System.getProperty("weft.bench.watch", "cluster"));
  private final Duration rowTimeout = Duration.ofMinutes(Integer.getInteger("weft.bench.rowMinutes", 10));
  // Space-separated, as JVM flags hold commas (-XX:StartFlightRecording=delay=60s,filename=...).
  private final Path serverJavaHome = Path.of(System.getProperty("weft.bench.javaHome", System.getProperty("java.home")));
  private final List<String> serverJvmArgs =
      Arrays.stream(System.getProperty("weft.bench.serverJvmArgs", "").split(" ")).filter(s -> !s.isBlank()).toList();

  @Test
  void xdsAtScale(KubeApiServer apiServer, Kubectl kubectl, KubernetesClient client) throws Exception {
    WeftCrds.install(kubectl);
    Path results = repoRoot.resolve("e2e/target/scale-bench.md");
    List<String> table = new ArrayList<>();
    table.add(Row.HEADER);
    List<Row> rows = new ArrayList<>();
    for (int services : servicesList) {
      MeshGenerator mesh = new MeshGenerator(client, services, outboundNamespaces);
      Duration setup = mesh.create();
      System.out.printf("ScaleBench: %d Services (%d ports, %d endpoints each, %d TrafficSplits) written in %.1f s%n",
          services, 2, MeshGenerator.ENDPOINTS, services / MeshGenerator.SPLIT_EVERY, setup.toMillis() / 1000.0);
      if (clientWarmup && rows.isEmpty()) {
        // The load client is Java too: cold, it spent as much CPU compiling its own gRPC paths as
        // parsing (7.6 CPU s for the first sync of 2,000 scoped proxies, 3.7 for the next), on the
        // cores the server starts on. Envoys are native and elsewhere: sync once, unreported.
        int most = proxiesList.stream().max(Integer::compare).orElseThrow();
        Row warm = run(repoRoot, apiServer, mesh, services, most, modes.get(0), heap, true);
        System.out.printf("ScaleBench: load client warmed up by a sync of %d proxies (not a result: %s)%n", most,
            warm.result);
      }
      for (String mode : modes) {
        for (int proxies : proxiesList) {
          Row row = run(repoRoot, apiServer, mesh, services, proxies, mode, heap);
          report(table, row, results);
          rows.add(row);
          if (row.died() && !fallbackHeap.isEmpty() && !fallbackHeap.equals(heap)) {
            report(table, run(repoRoot, apiServer, mesh, services, proxies, mode, fallbackHeap), results);
          }
        }
      }
      if (scopedRow >= 0 && outboundNamespaces < 0 && services == ScaleTargets.SERVICES
          && proxiesList.contains(ScaleTargets.PROXIES) && modes.contains("delta")) {
        // The targets' row again with every namespace scoped (weft.dev/outbound-namespaces), as a
        // mesh that size would run: each sidecar gets 1 + scopedRow namespaces' Services.
        mesh.scopeTo(scopedRow);
        Row row = run(repoRoot, apiServer, mesh, services, ScaleTargets.PROXIES, "delta", heap);
        report(table, row, results);
        rows.add(row);
        mesh.scopeTo(-1);
      }
    }
    System.out.println("ScaleBench results (" + Instant.now() + ", " + Runtime.getRuntime().availableProcessors()
        + " cores):\n" + String.join("\n", table));
    System.out.println(ScaleTargets.report(rows));
  }

  /** When 10%, half and 90% of the sorted times had come, in seconds after {@code startNanos}. */
  private static String spread(long[] sortedNanos, long startNanos) {
    return String.format("10%% by %.1f s, half by %.1f s, 90%% by %.1f s",
        (sortedNanos[sortedNanos.length / 10] - startNanos) / 1e9, (sortedNanos[sortedNanos.length / 2] - startNanos) / 1e9,
        (sortedNanos[sortedNanos.length * 9 / 10] - startNanos) / 1e9);
  }

  private static boolean watchEverything(String value) {
    return switch (value.strip()) {
      case "namespaces" -> false;
      case "cluster" -> true;
      default -> throw new IllegalArgumentException("weft.bench.watch is namespaces or cluster, not '" + value + "'");
    };
  }

  private static boolean connectWhenReady(String value) {
    return switch (value.strip()) {
      case "at-start" -> false;
      case "when-ready" -> true;
      default -> throw new IllegalArgumentException("weft.bench.connect is at-start or when-ready, not '" + value + "'");
    };
  }

  private static void report(List<String> table, Row row, Path results) throws IOException {
    table.add(row.markdown());
    System.out.println("ScaleBench row: " + Row.HEADER + "\n" + row.markdown());
    Files.createDirectories(results.getParent());
    Files.writeString(results, row.markdown() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private Row run(Path repoRoot, KubeApiServer apiServer, MeshGenerator mesh, int services, int proxies, String mode,
      String heapLimit) throws Exception {
    return run(repoRoot, apiServer, mesh, services, proxies, mode, heapLimit, false);
  }

  /** One row; with {@code syncOnly}, it ends once every proxy synced (the load client's warm-up). */
  private Row run(Path repoRoot, KubeApiServer apiServer, MeshGenerator mesh, int services, int proxies, String mode,
      String heapLimit, boolean syncOnly) throws Exception {
    String scope = mesh.outboundNamespaces() < 0 ? ""
        : ", scoped to " + (1 + mesh.outboundNamespaces()) + " of " + MeshGenerator.NAMESPACES + " ns";
    Row row = new Row(services, proxies, (connectWhenReady ? mode + ", joining" : mode) + scope, heapLimit);
    long deadline = System.nanoTime() + rowTimeout.toNanos();
    System.out.printf("ScaleBench: %d Services, %d %s proxies, server -Xmx%s ...%n", services, proxies, mode, heapLimit);
    try (XdsServerProcess server = XdsServerProcess.start(repoRoot, serverJavaHome, apiServer.kubeconfig(), heapLimit, serverJvmArgs,
            watchEverything ? List.of() : mesh.namespaces(), classDataSharing);
        ProxyFleet fleet = new ProxyFleet(proxies, mesh.namespaces(), mode.equals("delta"))) {
      row.serverLog = server.logFile().toString();
      if (!server.awaitPort(Duration.ofSeconds(60))) {
        return row.ended(server, "server did not open its port");
      }
      if (connectWhenReady) {
        if (!server.awaitReady(Duration.ofMinutes(2))) {
          return row.ended(server, "server did not become ready");
        }
        System.out.printf("ScaleBench:   server ready %.1f s after it started; the proxies connect now%n",
            (System.nanoTime() - server.startedNanos()) / 1e9);
      }
      // When the server had its first mesh state: before that no proxy can be served, so this part
      // of the sync time is start-up (JVM, informers listing the mesh, the first translation).
      CompletableFuture<Double> readyAfter = CompletableFuture.supplyAsync(() -> {
        try {
          return server.awaitReady(rowTimeout) ? (System.nanoTime() - server.startedNanos()) / 1e9 : Double.NaN;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Double.NaN;
        }
      });
      double clientCpuAtConnect = clientCpuSeconds();
      fleet.connect(server.xdsPort());
      if (!ProxyFleet.await(() -> fleet.syncedCount() == proxies, server::isAlive, deadline)) {
        return row.ended(server, "synced " + fleet.syncedCount() + "/" + proxies + " " + fleet.failures());
      }
      row.syncSeconds = (System.nanoTime() - server.startedNanos()) / 1e9;
      // Where the sync's time went: the server's CPU since it started, and this JVM's (the proxies parse every response).
      System.out.printf("ScaleBench:   all %d proxies synced %.1f s after the server started (its first mesh state"
              + " published after %.1f s); CPU s: server %.1f, bench JVM %.1f%n",
          proxies, row.syncSeconds, readyAfter.getNow(Double.NaN), server.cpuSeconds(),
          clientCpuSeconds() - clientCpuAtConnect);
      System.out.println("ScaleBench:   proxies synced after the server started: "
          + spread(fleet.syncedNanos(), server.startedNanos()));
      for (Kind kind : Kind.values()) {
        System.out.println("ScaleBench:     " + kind + " ACKed: " + spread(fleet.lastAcksNanos(kind), server.startedNanos()));
      }
      // Split in two: until the first response (start, informers' list, first translation), then sending.
      ProxyFleet.Totals synced = fleet.totals();
      double firstResponse = (fleet.firstResponseNanos() - server.startedNanos()) / 1e9;
      System.out.printf("ScaleBench:   first response %.1f s after the server started; then %.1f s to send %.0f MB"
              + " (%.0f MB/s) in %d responses holding %d resources%n",
          firstResponse, row.syncSeconds - firstResponse, synced.bytes() / 1e6,
          synced.bytes() / 1e6 / (row.syncSeconds - firstResponse), synced.responses(), synced.resources());

      if (syncOnly) {
        return row.ended(server, "synced");
      }
      // Steady state: nothing changes, so the server should be idle.
      ProxyFleet.await(() -> System.nanoTime() - fleet.lastResponseNanos() > SETTLED.toNanos(), server::isAlive,
          deadline);
      double cpuBefore = server.cpuSeconds();
      TimeUnit.NANOSECONDS.sleep(STEADY_WINDOW.toNanos());
      row.steadyCores = (server.cpuSeconds() - cpuBefore) / STEADY_WINDOW.toSeconds();
      row.heapAfterSync = server.liveHeapMib();
      // Every client has read everything: no budget should be held, no stream waiting.
      System.out.println("ScaleBench:   settled after the sync: " + server.metrics("xds_delta_s"));

      row.splitWarmup = edits(fleet, server, "warm-up TrafficSplit", Kind.RDS, mesh::editSplit, warmupEdits, deadline);
      row.virtualServiceWarmup = edits(fleet, server, "warm-up VirtualService", Kind.RDS, mesh::editVirtualService, warmupEdits,
          deadline);
      row.endpointsWarmup = edits(fleet, server, "warm-up endpoint", Kind.EDS, mesh::editEndpoints, warmupEdits, deadline);
      row.split = edits(fleet, server, "TrafficSplit", Kind.RDS, mesh::editSplit, edits, deadline);
      row.virtualService = edits(fleet, server, "VirtualService", Kind.RDS, mesh::editVirtualService, edits, deadline);
      row.endpoints = edits(fleet, server, "endpoint", Kind.EDS, mesh::editEndpoints, edits, deadline);
      row.heapAfterEdits = server.liveHeapMib();
      System.out.println("ScaleBench:   settled after the edits: " + server.metrics("xds_delta_s"));
      row.rss = server.rssAndPeakMib();
      String failures = fleet.failures();
      return row.ended(server, failures.isEmpty() ? "ok" : failures);
    }
  }

  /**
   * {@code count} edits, each timed from just before the apiserver write until the last proxy ACKed
   * a response of {@code kind}: when every proxy has, or (when only some need the change) when
   * no response has come for {@link #SETTLED}.
   */
  private EditStats edits(ProxyFleet fleet, XdsServerProcess server, String label, Kind kind, Runnable edit,
      int count, long rowDeadline) throws InterruptedException {
    EditStats stats = new EditStats();
    for (int round = 0; round < count && server.isAlive() && System.nanoTime() < rowDeadline; round++) {
      ProxyFleet.Totals before = fleet.totals();
      double cpuBefore = server.cpuSeconds();
      double clientCpuBefore = clientCpuSeconds();
      long start = System.nanoTime();
      edit.run();
      long deadline = Math.min(rowDeadline, start + EDIT_TIMEOUT.toNanos());
      ProxyFleet.await(() -> fleet.ackedSince(kind, start) == fleet.size()
              || (fleet.ackedSince(kind, start) > 0 && System.nanoTime() - fleet.lastResponseNanos() > SETTLED.toNanos()),
          server::isAlive, deadline);
      // Late second pushes of the same edit count too: wait for the stream to fall quiet.
      ProxyFleet.await(() -> System.nanoTime() - fleet.lastResponseNanos() > QUIET.toNanos(), server::isAlive, deadline);
      long updated = fleet.ackedSince(kind, start);
      if (updated == 0) {
        stats.missed++;
        System.out.printf("ScaleBench:   %s edit %d: no proxy ACKed a change within %d s%n", label, round,
            EDIT_TIMEOUT.toSeconds());
        continue;
      }
      ProxyFleet.Totals pushed = fleet.totals().minus(before);
      double millis = (fleet.lastAckNanos(kind) - start) / 1e6;
      stats.add(millis, updated, pushed, server.cpuSeconds() - cpuBefore, clientCpuSeconds() - clientCpuBefore);
      System.out.printf("ScaleBench:   %s edit %d: last of %d proxies ACKed %s after %.0f ms, %.1f MB in %d responses%n",
          label, round, updated, kind, millis, pushed.bytes() / 1e6, pushed.responses());
    }
    return stats;
  }

  /** Edit → last ACK samples of one kind of edit, and what each edit cost. */
  static final class EditStats {
    final Percentiles lastAck = new Percentiles();
    double first = Double.NaN;
    int count;
    int missed;
    long minUpdated = Long.MAX_VALUE;
    long bytes;
    long resources;
    double cpuSeconds;
    double clientCpuSeconds;

    void add(double millis, long updated, ProxyFleet.Totals pushed, double cpu, double clientCpu) {
      if (count == 0) {
        first = millis;
      }
      lastAck.add(millis);
      count++;
      minUpdated = Math.min(minUpdated, updated);
      bytes += pushed.bytes();
      resources += pushed.resources();
      cpuSeconds += cpu;
      clientCpuSeconds += clientCpu;
    }

    Optional<Double> p99() {
      return count == 0 ? Optional.empty() : Optional.of(lastAck.percentile(99));
    }

    Optional<Double> firstEdit() {
      return count == 0 ? Optional.empty() : Optional.of(first);
    }

    /** The first edit and the slowest, for the warm-up. */
    String firstAndMax() {
      return count == 0 ? "-" : String.format("%.0f, %.0f", first, lastAck.percentile(100));
    }

    Optional<Double> megabytesPerEdit() {
      return count == 0 ? Optional.empty() : Optional.of(bytes / 1e6 / count);
    }

    String latency() {
      if (count == 0) {
        return missed > 0 ? "no ACK" : "-";
      }
      return String.format("%.0f / %.0f / %.0f", lastAck.percentile(50), lastAck.percentile(99),
          lastAck.percentile(100)) + (missed > 0 ? " (" + missed + " missed)" : "");
    }

    String pushed() {
      return count == 0 ? "-" : String.format("%.1f MB, %d res, %d px", bytes / 1e6 / count, resources / count,
          minUpdated);
    }

    String cpu() {
      return count == 0 ? "-" : String.format("%.2f (%.2f)", cpuSeconds / count, clientCpuSeconds / count);
    }
  }

  /** One line of the table. */
  static final class Row {
    static final String HEADER = """
        | Services | proxies | mode | heap | synced (s) | TrafficSplit edit → last ACK p50 / p99 / max (ms) \
        | per TS edit: MB, resources, proxies updated | VirtualService edit p50 / p99 / max (ms) \
        | endpoint change p50 / p99 / max (ms) | per endpoint change: MB, resources, proxies | live heap after sync / after edits (MiB) \
        | RSS / peak RSS (MiB) | CPU steady (cores) | CPU s per TS / VS / endpoint edit, server (bench JVM)         | warm-up, TS / VS / endpoint: first edit after the sync, slowest (ms) | result |
        | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |""";

    final int services;
    final int proxies;
    final String mode;
    final String heap;
    double syncSeconds = Double.NaN;
    double steadyCores = Double.NaN;
    Optional<Double> heapAfterSync = Optional.empty();
    Optional<Double> heapAfterEdits = Optional.empty();
    double[] rss = {Double.NaN, Double.NaN};
    EditStats split = new EditStats();
    EditStats virtualService = new EditStats();
    EditStats endpoints = new EditStats();
    EditStats splitWarmup = new EditStats();
    EditStats virtualServiceWarmup = new EditStats();
    EditStats endpointsWarmup = new EditStats();
    String result = "";
    boolean died;
    String serverLog = "";

    Row(int services, int proxies, String mode, String heap) {
      this.services = services;
      this.proxies = proxies;
      this.mode = mode;
      this.heap = heap;
    }

    Row ended(XdsServerProcess server, String outcome) {
      if (Double.isNaN(rss[0])) {
        rss = server.rssAndPeakMib();
      }
      died = !server.isAlive();
      result = died
          ? String.format("server died %.0f s after it started, %s: %s (log %s)",
              (System.nanoTime() - server.startedNanos()) / 1e9, outcome, server.deathCause(), serverLog)
          : outcome;
      return this;
    }

    boolean died() {
      return died;
    }

    String markdown() {
      return String.join(" | ", "| " + String.format("%,d", services), String.format("%,d", proxies), mode, heap,
          Double.isNaN(syncSeconds) ? "-" : String.format("%.1f", syncSeconds),
          split.latency(), split.pushed(), virtualService.latency(), endpoints.latency(), endpoints.pushed(),
          heapAfterSync.map(h -> String.format("%.0f", h)).orElse("-") + " / "
              + heapAfterEdits.map(h -> String.format("%.0f", h)).orElse("-"),
          Double.isNaN(rss[0]) ? "-" : String.format("%.0f / %.0f", rss[0], rss[1]),
          Double.isNaN(steadyCores) ? "-" : String.format("%.3f", steadyCores),
          split.cpu() + " / " + virtualService.cpu() + " / " + endpoints.cpu(),
          splitWarmup.firstAndMax() + " / " + virtualServiceWarmup.firstAndMax() + " / "
              + endpointsWarmup.firstAndMax(),
          result + " |");
    }
  }

  /** CPU seconds of this JVM: the simulated proxies, the apiserver client and the bench itself. */
  private static double clientCpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime() / 1e9;
  }

  private static List<Integer> ints(String property, String defaults) {
    return strings(property, defaults).stream().map(s -> Integer.parseInt(s.replace("_", ""))).toList();
  }

  private static List<String> strings(String property, String defaults) {
    return Arrays.stream(System.getProperty(property, defaults).split(",")).map(String::strip)
        .filter(s -> !s.isEmpty()).toList();
  }
}
