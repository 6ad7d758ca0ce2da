package dev.weft.e2e;

import static org.awaitility.Awaitility.await;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import dev.weft.api.v1alpha1.TrafficSplitSpec;
import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * How fast a TrafficSplit change reaches a real Envoy: from the moment the apiserver accepted the
 * patch until the client sidecar reports the new route configuration applied (its RDS
 * update_success counter moves), through informers, debounce, translation and ADS. Prints
 * p50/p99; asserts nothing about time (run with `make bench`).
 */
@KubeApiServerTest
class PropagationBench {

  static final String NS = "bench";
  static final int ROUNDS = 50;

  @Test
  void trafficSplitPatchToEnvoy(Kubectl kubectl, KubernetesClient client) throws Exception {
    WeftCrds.install(kubectl);
    MeshObjects objects = new MeshObjects(client, NS);
    objects.createNamespace();
    for (String service : List.of("payments", "payments-v1", "payments-v2")) {
      objects.service(service, 80);
    }
    try (XdsServerApp xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS)));
        LocalPod v1 = LocalPod.serving("payments-v1", NS, "payments", "127.0.12.11", xds.xdsPort(),
            Transport.STATE_OF_THE_WORLD);
        LocalPod v2 = LocalPod.serving("payments-v2", NS, "payments", "127.0.12.12", xds.xdsPort(),
            Transport.STATE_OF_THE_WORLD);
        LocalPod web = LocalPod.client("web", NS, "web", "127.0.12.20", xds.xdsPort(), Transport.DELTA)) {
      objects.endpoints("payments", List.of(v1), List.of());
      objects.endpoints("payments-v1", List.of(v1), List.of());
      objects.endpoints("payments-v2", List.of(v2), List.of());
      TrafficSplit split = new TrafficSplit();
      split.getMetadata().setName("payments-canary");
      split.getMetadata().setNamespace(NS);
      split.setSpec(new TrafficSplitSpec("payments", List.of(
          new TrafficSplitBackend("payments-v1", 90), new TrafficSplitBackend("payments-v2", 10))));
      client.resource(split).create();
      Traffic traffic = new Traffic(web);
      await().atMost(Duration.ofSeconds(30)).until(() -> traffic.sendOne("payments").startsWith("payments-"));

      Percentiles latency = new Percentiles();
      for (int round = 0; round < ROUNDS; round++) {
        long before = rdsUpdates(web.sidecar());
        int canary = round % 2 == 0 ? 50 : 10;
        long start = System.nanoTime();
        client.resources(TrafficSplit.class).inNamespace(NS).withName("payments-canary")
            .edit(ts -> {
              ts.getSpec().setBackends(List.of(new TrafficSplitBackend("payments-v1", 100 - canary),
                  new TrafficSplitBackend("payments-v2", canary)));
              return ts;
            });
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(2))
            .until(() -> rdsUpdates(web.sidecar()) > before);
        latency.add((System.nanoTime() - start) / 1e6);
      }
      System.out.println("TrafficSplit patch -> applied by a real Envoy (apiserver write, informer, "
          + "debounce 20-100 ms, translation, ADS delta push, Envoy RDS update): " + latency);
    }
  }

  /** Route configuration updates the sidecar's outbound HTTP connection manager has applied. */
  private static long rdsUpdates(EnvoyProcess envoy) {
    return envoy.stats().entrySet().stream()
        .filter(e -> e.getKey().startsWith("http.outbound_http.rds.") && e.getKey().endsWith(".update_success"))
        .map(Map.Entry::getValue)
        .mapToLong(Long::parseLong)
        .sum();
  }
}
