package dev.weft.e2e;

import static org.awaitility.Awaitility.await;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import dev.weft.api.v1alpha1.TrafficSplitSpec;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.PaymentsMesh;
import dev.weft.demo.WeftCrds;
import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
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
    MeshObjects objects = PaymentsMesh.declare(client, NS);
    try (XdsServerApp xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS)));
        PaymentsMesh mesh = PaymentsMesh.start(objects, NS, 12, xds.xdsPort())) {
      TrafficSplit split = new TrafficSplit();
      split.getMetadata().setName("payments-canary");
      split.getMetadata().setNamespace(NS);
      split.setSpec(new TrafficSplitSpec("payments", List.of(
          new TrafficSplitBackend("payments-v1", 90), new TrafficSplitBackend("payments-v2", 10))));
      client.resource(split).create();
      await("the split is served").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
          .until(() -> mesh.traffic.sendOne("payments").equals("payments-v2"));

      Percentiles latency = new Percentiles();
      for (int round = 0; round < ROUNDS; round++) {
        long before = rdsUpdates(mesh.web.sidecar());
        int canary = round % 2 == 0 ? 50 : 10;
        long start = System.nanoTime();
        client.resources(TrafficSplit.class).inNamespace(NS).withName("payments-canary")
            .edit(ts -> {
              ts.getSpec().setBackends(List.of(new TrafficSplitBackend("payments-v1", 100 - canary),
                  new TrafficSplitBackend("payments-v2", canary)));
              return ts;
            });
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(2))
            .until(() -> rdsUpdates(mesh.web.sidecar()) > before);
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
