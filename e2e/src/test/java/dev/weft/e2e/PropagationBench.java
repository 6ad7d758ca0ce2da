package dev.weft.e2e;

import static org.awaitility.Awaitility.await;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import dev.weft.api.v1alpha1.TrafficSplitSpec;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.PaymentsMesh;
import dev.weft.demo.WeftCrds;
import dev.weft.e2e.scale.MeshGenerator;
import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.NetworkNamespace;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import dev.weft.xds.bootstrap.SidecarBootstrap.Workload;
import dev.weft.xds.server.ConnectedProxy;
import dev.weft.xds.translate.Translation;
import dev.weft.xds.translate.Translator;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * How fast a TrafficSplit change reaches a real Envoy: from just before the weights are written
 * (one merge patch to the apiserver) until the client sidecar has applied a route configuration
 * built from that edit (it ACKs it to the server; or its RDS update_success counter moves, too),
 * through informers, debounce, translation and ADS. Prints
 * p50/p99; asserts nothing about time (run with `make bench`).
 *
 * <p>{@code -Dweft.bench.propagation.services=1000} adds that many Services (ScaleBench's
 * generated mesh: 2 ports and 10 endpoints each, in 20 more namespaces, a TrafficSplit on every
 * 5th) that the server watches too, so each edit is translated and applied against a large mesh.
 */
@KubeApiServerTest
class PropagationBench {

  static final String NS = "bench";
  static final int ROUNDS = 50;
  /**
   * Edits before the measured ones ({@code weft.bench.propagation.warmup}), printed apart. A small
   * mesh's edit runs each path once, so the JIT (the server's, and the apiserver's and client's
   * side of the write) takes a few hundred edits to settle: after 20 the p50 was 23–25 ms, after
   * 200 17–21 ms, after 500 16 ms (docs/benchmarks.md). A server that has run a while is past it.
   */
  static final int WARMUP_ROUNDS = Integer.getInteger("weft.bench.propagation.warmup", 500);
  /**
   * The pause before each edit ({@code weft.bench.propagation.pauseMs}), longer than the debounce's
   * quiet period: edits one right after another were a burst, half of them waiting 20 ms more.
   */
  static final long PAUSE_MS = Long.getLong("weft.bench.propagation.pauseMs", 50);
  /** The outbound listener's RDS update_success counters, URL-encoded: ^http\.outbound_http\.rds\..*\.update_success$ */
  static final String RDS_UPDATES = URLEncoder.encode("^http\\.outbound_http\\.rds\\..*\\.update_success$",
      StandardCharsets.UTF_8);
  /**
   * How an edit counts as applied: by default when the server sees the client sidecar ACK the new
   * route configuration; {@code -Dweft.bench.propagation.doneBy=stats} polls the sidecar's RDS
   * update_success counter every 2 ms instead, which with 1,000 Services costs Envoy enough to
   * slow the update it waits for (its stats filter runs over every stat of 2,000 clusters).
   */
  static final boolean DONE_BY_STATS = "stats".equals(System.getProperty("weft.bench.propagation.doneBy", "ack"));
  /** Services added to the small mesh (0: none); a multiple of 100. */
  static final int EXTRA_SERVICES = Integer.getInteger("weft.bench.propagation.services", 0);
  /**
   * The client sidecar: {@code loopback} (default: web's sidecar of the local payments mesh, routing
   * by Host header through one route configuration for every Service) or {@code capture} (a
   * capture-mode sidecar, as injected pods run, in a network namespace; needs root).
   */
  static final boolean CAPTURE = "capture".equals(System.getProperty("weft.bench.propagation.sidecar", "loopback"));
  /** The capture-mode sidecar's veth /30 (198.18.15.0/30); see CaptureModeTest for the others. */
  static final int SUBNET = 15;

  @Test
  void trafficSplitPatchToEnvoy(Kubectl kubectl, KubernetesClient client) throws Exception {
    WeftCrds.install(kubectl);
    MeshObjects objects = PaymentsMesh.declare(client, NS);
    Set<String> watched = new HashSet<>(Set.of(NS));
    if (EXTRA_SERVICES > 0) {
      MeshGenerator generated = new MeshGenerator(client, EXTRA_SERVICES);
      Duration took = generated.create();
      watched.addAll(generated.namespaces());
      System.out.printf("PropagationBench: wrote %d more Services in %d namespaces in %d s%n",
          EXTRA_SERVICES, generated.namespaces().size(), took.toSeconds());
    }
    if (CAPTURE) {
      measureOnACaptureModeSidecar(client, watched);
    } else {
      measureOnALoopbackSidecar(client, objects, watched);
    }
  }

  /** The client is web's sidecar of the local payments mesh (loopback pods, no iptables). */
  private static void measureOnALoopbackSidecar(KubernetesClient client, MeshObjects objects, Set<String> watched)
      throws Exception {
    BuiltRoutes built = new BuiltRoutes(NS, "web");
    try (XdsServerApp xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, watched),
            built::recording);
        PaymentsMesh mesh = PaymentsMesh.start(objects, NS, 12, xds.xdsPort())) {
      long created = createSplit(client);
      await("the split is served").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
          .until(() -> mesh.traffic.sendOne("payments").equals("payments-v2")
              && built.include(rdsApplied(xds, mesh.web.name() + "." + NS), created));
      measure(client, xds, built, "127.0.0.1", mesh.web.sidecar(), mesh.web.name() + "." + NS, "loopback");
    }
  }

  /**
   * The client is a capture-mode sidecar, as an injected pod runs it (no inbound address: an
   * outbound listener on 0.0.0.0:15001 that picks the Service by the address dialled, and a route
   * configuration per Service port), in a network namespace of its own so that it can bind those
   * ports. No traffic is sent: the edit counts as applied when the sidecar ACKs it.
   */
  private static void measureOnACaptureModeSidecar(KubernetesClient client, Set<String> watched) throws Exception {
    BuiltRoutes built = new BuiltRoutes(NS, "web");
    try (NetworkNamespace netns = NetworkNamespace.create("propagation", SUBNET);
        XdsServerApp xds = XdsServerApp.start(client, new XdsServerApp.Config(netns.hostAddress(), 0, 0, watched),
            built::recording)) {
      Workload web = new Workload("web-capture", NS, "web", "", List.of(), netns.namespaceAddress(),
          SidecarBootstrap.ADMIN_PORT, SidecarBootstrap.STATS_PORT);
      try (EnvoyProcess sidecar = EnvoyProcess.builder("web-capture-bench").launcher(netns.enter())
          .bootstrap(SidecarBootstrap.json(SidecarBootstrap.build(web, netns.hostAddress(), xds.xdsPort(),
              Transport.DELTA)))
          .start()) {
        String node = web.podName() + "." + NS;
        long created = createSplit(client);
        // The split's own routes, not the ones before it: else each round would end on the ACK of
        // the round before it, and an edit coalesced with the next one would never end.
        await("the sidecar has the split's routes").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
            .until(() -> built.include(rdsApplied(xds, node), created));
        measure(client, xds, built, netns.hostAddress(), sidecar, node, "capture-mode");
      }
    }
  }

  /** Creates the 90/10 split; returns its generation. */
  private static long createSplit(KubernetesClient client) {
    TrafficSplit split = new TrafficSplit();
    split.getMetadata().setName("payments-canary");
    split.getMetadata().setNamespace(NS);
    split.setSpec(new TrafficSplitSpec("payments", List.of(
        new TrafficSplitBackend("payments-v1", 90), new TrafficSplitBackend("payments-v2", 10))));
    return client.resource(split).create().getMetadata().getGeneration();
  }

  /**
   * {@link #WARMUP_ROUNDS} weight edits, then {@link #ROUNDS} measured ones, each timed from the
   * write until {@code sidecar} applied it; {@code xdsAddress} is where the server listens (its
   * metrics too).
   */
  private static void measure(KubernetesClient client, XdsServerApp xds, BuiltRoutes built, String xdsAddress,
      EnvoyProcess sidecar, String node, String kind) throws Exception {
    // A server runs for weeks: the first edits after its start run code the JIT has not compiled
    // yet. They are printed on their own line, not left out silently.
    Percentiles cold = new Percentiles();
    for (int round = 0; round < WARMUP_ROUNDS; round++) {
      cold.add(edit(client, xds, built, sidecar, node, round)[0]);
    }
    Percentiles latency = new Percentiles();
    Percentiles writes = new Percentiles();
    Percentiles afterWrite = new Percentiles();
    double[] computeBefore = snapshotCompute(xdsAddress, xds.debugPort());
    double envoyCpuBefore = cpuSeconds(sidecar);
    long updatesBefore = rdsUpdates(sidecar);
    for (int round = WARMUP_ROUNDS; round < WARMUP_ROUNDS + ROUNDS; round++) {
      double[] timed = edit(client, xds, built, sidecar, node, round);
      latency.add(timed[0]);
      writes.add(timed[1]);
      afterWrite.add(timed[0] - timed[1]);
    }
    System.out.println("TrafficSplit patch -> applied by a real Envoy, " + kind + " sidecar (apiserver write, "
        + "informer, debounce, translation, ADS delta push, Envoy RDS update), " + EXTRA_SERVICES
        + " Services added, done by " + (DONE_BY_STATS ? "stats" : "ACK") + ", after " + WARMUP_ROUNDS
        + " edits: " + latency);
    if (WARMUP_ROUNDS > 0) {
      System.out.println("  the first " + WARMUP_ROUNDS + " edits after the server started (the JIT warming up): " + cold);
    }
    // Each edit was one route configuration update that Envoy counted as applied.
    System.out.printf("  RDS updates the client sidecar counted as applied: %d for %d edits%n",
        rdsUpdates(sidecar) - updatesBefore, ROUNDS);
    double[] computeAfter = snapshotCompute(xdsAddress, xds.debugPort());
    double publishes = computeAfter[0] - computeBefore[0];
    System.out.printf("  of which: the write (patch returned) %s; from its return to the ACK %s; the server"
        + " translated %.0f times, %.1f ms each on average (xds_snapshot_compute_seconds)%n", writes, afterWrite,
        publishes,
        publishes == 0 ? 0 : (computeAfter[1] - computeBefore[1]) * 1000 / publishes);
    System.out.printf("  the client sidecar's CPU: %.1f ms per edit%n",
        (cpuSeconds(sidecar) - envoyCpuBefore) * 1000 / ROUNDS);
  }

  /** One weight edit, until {@code sidecar} applied it: milliseconds in all, and of the write. */
  private static double[] edit(KubernetesClient client, XdsServerApp xds, BuiltRoutes built, EnvoyProcess sidecar,
      String node, int round) throws InterruptedException {
    // An edit as a user makes one: on its own. Back to back, an edit of a small mesh lands within
    // the debounce's 20 ms quiet period of the one before and waits for it as part of a burst.
    TimeUnit.MILLISECONDS.sleep(PAUSE_MS);
    // Only when it is the signal: each /stats read costs a sidecar with 1,000 Services tens of ms
    // of CPU, which would count as the update's.
    long before = DONE_BY_STATS ? rdsUpdates(sidecar) : 0;
    String appliedBefore = rdsApplied(xds, node);
    int canary = round % 2 == 0 ? 50 : 10;
    String weights = String.format("{\"spec\":{\"backends\":[{\"service\":\"payments-v1\",\"weight\":%d},"
        + "{\"service\":\"payments-v2\",\"weight\":%d}]}}", 100 - canary, canary);
    // One request (a merge patch), so the clock starts at the write, not at a read before it.
    long start = System.nanoTime();
    long generation = client.resources(TrafficSplit.class).inNamespace(NS).withName("payments-canary")
        .patch(PatchContext.of(PatchType.JSON_MERGE), weights).getMetadata().getGeneration();
    double write = (System.nanoTime() - start) / 1e6;
    try {
      // Its own edit's routes: with content versions, an edit coalesced with the one after it (the
      // same weights as served) is applied as soon as the server built them.
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(DONE_BY_STATS ? 2 : 1))
          .until(() -> (!DONE_BY_STATS || rdsUpdates(sidecar) > before)
              && built.include(rdsApplied(xds, node), generation));
    } catch (ConditionTimeoutException e) {
      // An edit that never arrives is a bug to find, not a slow sample: say where it stopped.
      System.out.printf("PropagationBench: round %d (canary %d, generation %d) not applied; RDS acked before: %s;"
          + " built: %s; the proxy now: %s; the split now: %s%nthreads:%n%s%n", round, canary, generation,
          appliedBefore, built,
          xds.proxies().proxies().stream().filter(p -> p.nodeId().equals(node)).toList(),
          client.resources(TrafficSplit.class).inNamespace(NS).withName("payments-canary").get().getSpec(),
          threadDump());
      throw e;
    }
    return new double[] {(System.nanoTime() - start) / 1e6, write};
  }

  /**
   * The route configuration version the proxy last acknowledged, as the server saw it: Envoy ACKs a
   * response once it applied it, so this moves when the sidecar's RDS update_success does, without
   * asking Envoy anything.
   */
  private static String rdsApplied(XdsServerApp xds, String nodeId) {
    return xds.proxies().proxies().stream()
        .filter(proxy -> proxy.nodeId().equals(nodeId))
        .flatMap(proxy -> proxy.subscriptions().stream())
        .filter(subscription -> subscription.typeUrl().endsWith(".RouteConfiguration"))
        .map(ConnectedProxy.Subscription::ackedVersion)
        .findFirst()
        .orElse("");
  }

  /**
   * The route configuration versions the server built for one proxy group, each with the newest
   * generation of the bench's TrafficSplit it was built from: a proxy that acknowledged one of
   * them runs that edit or a later one. Versions are content digests, so weights written again
   * give a version already known, now standing for the newer generation too.
   */
  static final class BuiltRoutes {
    private final String namespace;
    private final String serviceAccount;
    private final Map<String, Long> generationByVersion = new ConcurrentHashMap<>();

    BuiltRoutes(String namespace, String serviceAccount) {
      this.namespace = namespace;
      this.serviceAccount = serviceAccount;
    }

    /** {@code translator}, recording what it builds for the group (the seam {@link XdsServerApp#start} offers). */
    Translator recording(Translator translator) {
      return (state, groups) -> {
        Translation translation = translator.translate(state, groups);
        long generation = state.splits().stream()
            .filter(rule -> rule.source().namespace().equals(namespace) && rule.source().name().equals("payments-canary"))
            .mapToLong(rule -> rule.source().generation())
            .max().orElse(0);
        translation.configs().forEach((group, config) -> {
          if (group.namespace().equals(namespace) && group.serviceAccount().equals(serviceAccount)) {
            generationByVersion.merge(config.routesVersion(), generation, Math::max);
          }
        });
        return translation;
      };
    }

    /** Whether route configuration {@code version} was built from {@code generation} of the split or a later one. */
    boolean include(String version, long generation) {
      Long built = generationByVersion.get(version);
      return built != null && built >= generation;
    }

    @Override
    public String toString() {
      return generationByVersion.toString();
    }
  }

  private static String threadDump() {
    StringBuilder dump = new StringBuilder();
    for (ThreadInfo thread : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
      dump.append(thread);
    }
    return dump.toString();
  }

  /** The server's snapshot computations so far: count and seconds, from its /metrics. */
  private static double[] snapshotCompute(String address, int debugPort) throws Exception {
    HttpResponse<String> metrics = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://" + address + ":" + debugPort + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    double[] countAndSum = new double[2];
    for (String line : metrics.body().split("\n")) {
      if (line.startsWith("xds_snapshot_compute_seconds_count")) {
        countAndSum[0] = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      } else if (line.startsWith("xds_snapshot_compute_seconds_sum")) {
        countAndSum[1] = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return countAndSum;
  }

  /** User + system CPU seconds of an Envoy process (from /proc), NaN where there is no /proc. */
  private static double cpuSeconds(EnvoyProcess envoy) {
    String bootstrap = envoy.bootstrapFile().toString();
    return ProcessHandle.current().descendants()
        .filter(p -> p.info().arguments().map(args -> List.of(args).contains(bootstrap)).orElse(false))
        .findFirst()
        .map(p -> {
          try {
            String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
            // Fields after the command's closing parenthesis; utime and stime are the 14th and 15th.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
          } catch (IOException | RuntimeException e) {
            return Double.NaN;
          }
        })
        .orElse(Double.NaN);
  }

  /** Route configuration updates the sidecar's outbound HTTP connection manager has applied. */
  private static long rdsUpdates(EnvoyProcess envoy) {
    // Only these counters: with 1,000 Services the whole /stats page is thousands of lines, and
    // polling it every 2 ms kept Envoy busy enough to slow the very update being timed.
    String lines = envoy.admin("/stats?usedonly&filter=" + RDS_UPDATES);
    long sum = 0;
    for (String line : lines.split("\n")) {
      int colon = line.indexOf(": ");
      if (colon > 0) {
        sum += Long.parseLong(line.substring(colon + 2).strip());
      }
    }
    return sum;
  }
}
