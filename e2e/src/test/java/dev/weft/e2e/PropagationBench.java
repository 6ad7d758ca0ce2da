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
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.IOException;
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
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * How fast a TrafficSplit change reaches a real Envoy: from just before the weights are written
 * (one merge patch to the apiserver) until the client sidecar has applied the new route
 * configuration (it ACKs it to the server; or its RDS update_success counter moves), through
 * informers, debounce, translation and ADS. Prints
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
    try (XdsServerApp xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, watched));
        PaymentsMesh mesh = PaymentsMesh.start(objects, NS, 12, xds.xdsPort())) {
      createSplit(client);
      await("the split is served").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
          .until(() -> mesh.traffic.sendOne("payments").equals("payments-v2"));
      measure(client, xds, "127.0.0.1", mesh.web.sidecar(), mesh.web.name() + "." + NS, "loopback");
    }
  }

  /**
   * The client is a capture-mode sidecar, as an injected pod runs it (no inbound address: an
   * outbound listener on 0.0.0.0:15001 that picks the Service by the address dialled, and a route
   * configuration per Service port), in a network namespace of its own so that it can bind those
   * ports. No traffic is sent: the edit counts as applied when the sidecar ACKs it.
   */
  private static void measureOnACaptureModeSidecar(KubernetesClient client, Set<String> watched) throws Exception {
    try (NetworkNamespace netns = NetworkNamespace.create("propagation", SUBNET);
        XdsServerApp xds = XdsServerApp.start(client, new XdsServerApp.Config(netns.hostAddress(), 0, 0, watched))) {
      Workload web = new Workload("web-capture", NS, "web", "", List.of(), netns.namespaceAddress(),
          SidecarBootstrap.ADMIN_PORT, SidecarBootstrap.STATS_PORT);
      try (EnvoyProcess sidecar = EnvoyProcess.builder("web-capture-bench").launcher(netns.enter())
          .bootstrap(SidecarBootstrap.json(SidecarBootstrap.build(web, netns.hostAddress(), xds.xdsPort(),
              Transport.DELTA)))
          .start()) {
        String node = web.podName() + "." + NS;
        createSplit(client);
        await("the sidecar has the routes").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
            .until(() -> !rdsApplied(xds, node).isEmpty());
        measure(client, xds, netns.hostAddress(), sidecar, node, "capture-mode");
      }
    }
  }

  private static void createSplit(KubernetesClient client) {
    TrafficSplit split = new TrafficSplit();
    split.getMetadata().setName("payments-canary");
    split.getMetadata().setNamespace(NS);
    split.setSpec(new TrafficSplitSpec("payments", List.of(
        new TrafficSplitBackend("payments-v1", 90), new TrafficSplitBackend("payments-v2", 10))));
    client.resource(split).create();
  }

  /**
   * {@link #ROUNDS} weight edits, each timed from the write until {@code sidecar} applied it;
   * {@code xdsAddress} is where the server listens (its metrics too).
   */
  private static void measure(KubernetesClient client, XdsServerApp xds, String xdsAddress, EnvoyProcess sidecar,
      String node, String kind) throws Exception {
    Percentiles latency = new Percentiles();
    Percentiles writes = new Percentiles();
    double[] computeBefore = snapshotCompute(xdsAddress, xds.debugPort());
    double envoyCpuBefore = cpuSeconds(sidecar);
    long updatesBefore = rdsUpdates(sidecar);
    for (int round = 0; round < ROUNDS; round++) {
      // Only when it is the signal: each /stats read costs a sidecar with 1,000 Services tens of ms
      // of CPU, which would count as the update's.
      long before = DONE_BY_STATS ? rdsUpdates(sidecar) : 0;
      String appliedBefore = rdsApplied(xds, node);
      int canary = round % 2 == 0 ? 50 : 10;
      String weights = String.format("{\"spec\":{\"backends\":[{\"service\":\"payments-v1\",\"weight\":%d},"
          + "{\"service\":\"payments-v2\",\"weight\":%d}]}}", 100 - canary, canary);
      // One request (a merge patch), so the clock starts at the write, not at a read before it.
      long start = System.nanoTime();
      client.resources(TrafficSplit.class).inNamespace(NS).withName("payments-canary")
          .patch(PatchContext.of(PatchType.JSON_MERGE), weights);
      writes.add((System.nanoTime() - start) / 1e6);
      if (DONE_BY_STATS) {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(2))
            .until(() -> rdsUpdates(sidecar) > before);
      } else {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1))
            .until(() -> !rdsApplied(xds, node).equals(appliedBefore));
      }
      latency.add((System.nanoTime() - start) / 1e6);
    }
    System.out.println("TrafficSplit patch -> applied by a real Envoy, " + kind + " sidecar (apiserver write, "
        + "informer, debounce, translation, ADS delta push, Envoy RDS update), " + EXTRA_SERVICES
        + " Services added, done by " + (DONE_BY_STATS ? "stats" : "ACK") + ": " + latency);
    // Each edit was one route configuration update that Envoy counted as applied.
    System.out.printf("  RDS updates the client sidecar counted as applied: %d for %d edits%n",
        rdsUpdates(sidecar) - updatesBefore, ROUNDS);
    double[] computeAfter = snapshotCompute(xdsAddress, xds.debugPort());
    double publishes = computeAfter[0] - computeBefore[0];
    System.out.printf("  of which: the write (patch returned) %s; the server translated %.0f times,"
        + " %.1f ms each on average (xds_snapshot_compute_seconds)%n", writes, publishes,
        publishes == 0 ? 0 : (computeAfter[1] - computeBefore[1]) * 1000 / publishes);
    System.out.printf("  the client sidecar's CPU: %.1f ms per edit%n",
        (cpuSeconds(sidecar) - envoyCpuBefore) * 1000 / ROUNDS);
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
