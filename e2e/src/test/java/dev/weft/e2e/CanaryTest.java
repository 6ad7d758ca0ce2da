package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A canary on real parts: a real kube-apiserver, the xds-server, and real Envoy sidecars in front
 * of payments-v1 and payments-v2, with a client sidecar sending the traffic. The TrafficSplit is
 * applied, patched and deleted with kubectl, as a user would.
 */
@KubeApiServerTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CanaryTest {

  static final String NS = "canary";
  static final String SPLIT = """
      apiVersion: weft.dev/v1alpha1
      kind: TrafficSplit
      metadata:
        name: payments-canary
        namespace: canary
      spec:
        service: payments
        backends:
        - service: payments-v1
          weight: %d
        - service: payments-v2
          weight: %d
      """;

  static XdsServerApp xds;
  static MeshObjects objects;
  static LocalPod v1;
  static LocalPod v2;
  static LocalPod web;
  static Traffic traffic;

  @BeforeAll
  static void startMesh(Kubectl kubectl, KubernetesClient client) throws Exception {
    WeftCrds.install(kubectl);
    objects = new MeshObjects(client, NS);
    objects.createNamespace();
    for (String service : List.of("payments", "payments-v1", "payments-v2")) {
      objects.service(service, 80);
    }
    xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS)));

    // One sidecar on each xDS flavour: v2 and the client use delta, v1 state of the world.
    v1 = LocalPod.serving("payments-v1", NS, "payments", "127.0.10.11", xds.xdsPort(), Transport.STATE_OF_THE_WORLD);
    v2 = LocalPod.serving("payments-v2", NS, "payments", "127.0.10.12", xds.xdsPort(), Transport.DELTA);
    web = LocalPod.client("web", NS, "web", "127.0.10.20", xds.xdsPort(), Transport.DELTA);
    // The root Service selects the stable pods only (the Flagger "primary" pattern).
    objects.endpoints("payments", List.of(v1), List.of());
    objects.endpoints("payments-v1", List.of(v1), List.of());
    objects.endpoints("payments-v2", List.of(v2), List.of());
    traffic = new Traffic(web);

    await("payments answers through the client sidecar")
        .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> traffic.sendOne("payments").equals("payments-v1"));
  }

  @AfterAll
  static void stopMesh() {
    for (AutoCloseable part : new AutoCloseable[] {web, v2, v1, xds}) {
      if (part != null) {
        try {
          part.close();
        } catch (Exception e) {
          System.err.println("closing " + part + ": " + e);
        }
      }
    }
  }

  @Test
  @Order(1)
  void splitsTrafficNinetyTen(Kubectl kubectl) {
    kubectl.apply(SPLIT.formatted(90, 10)).requireSuccess();
    awaitSecondBackendAnswers();

    Traffic.Tally tally = traffic.send("payments", 2000);

    System.out.println("TrafficSplit 90/10, 2000 requests: " + tally);
    assertThat(tally.failures()).isEmpty();
    assertThat(tally.share("payments-v2")).isBetween(0.075, 0.125);
    assertThat(tally.count("payments-v1") + tally.count("payments-v2")).isEqualTo(2000);
  }

  @Test
  @Order(2)
  void movesToFiftyFiftyWithinTwoSecondsOfThePatch(Kubectl kubectl) {
    kubectl.run("patch", "trafficsplit", "payments-canary", "-n", NS, "--type=json", "-p",
        "[{\"op\":\"replace\",\"path\":\"/spec/backends/0/weight\",\"value\":50},"
            + "{\"op\":\"replace\",\"path\":\"/spec/backends/1/weight\",\"value\":50}]").requireSuccess();
    Instant patched = Instant.now();

    // The promise is about requests sent from 2 s after the patch on, so wait exactly that long.
    await().pollDelay(Duration.between(Instant.now(), patched.plusSeconds(2))).until(() -> true);
    Traffic.Tally tally = traffic.send("payments", 2000);

    System.out.println("TrafficSplit patched to 50/50, 2000 requests from 2 s after the patch: " + tally);
    assertThat(tally.failures()).isEmpty();
    assertThat(tally.share("payments-v2")).isBetween(0.45, 0.55);
  }

  @Test
  @Order(3)
  void losesNoRequestWhileEndpointsComeAndGo() throws Exception {
    AtomicBoolean running = new AtomicBoolean(true);
    Traffic.Tally tally = new Traffic.Tally();
    Thread load = new Thread(() -> {
      while (running.get()) {
        tally.add(traffic.sendOne("payments-v1"));
      }
    }, "load");
    load.start();
    try (LocalPod extra = LocalPod.serving("payments-v1-b", NS, "payments", "127.0.10.13", xds.xdsPort(),
        Transport.STATE_OF_THE_WORLD)) {
      objects.endpoints("payments-v1", List.of(v1, extra), List.of());
      await("the new payments-v1 pod gets traffic").atMost(Duration.ofSeconds(10))
          .until(() -> extra.app().requestCount() > 20);

      // Scale down as Kubernetes does: the endpoint turns terminating (still serving), then goes.
      objects.endpoints("payments-v1", List.of(v1), List.of(extra));
      AtomicInteger lastCount = new AtomicInteger(-1);
      await("the draining pod stops getting new requests").atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(300))
          .until(() -> lastCount.getAndSet(extra.app().requestCount()) == extra.app().requestCount());
      objects.endpoints("payments-v1", List.of(v1), List.of());
      int before = tally.total();
      await("traffic keeps flowing after the pod is gone").atMost(Duration.ofSeconds(10))
          .until(() -> tally.total() > before + 200);
    } finally {
      running.set(false);
      load.join();
    }

    System.out.println("payments-v1 scaled 1 -> 2 -> 1 under load: " + tally);
    assertThat(tally.failures()).isEmpty();
    assertThat(tally.total()).isGreaterThan(200);
  }

  @Test
  @Order(4)
  void sendsEverythingToTheRootServiceOnceTheSplitIsDeleted(Kubectl kubectl) {
    kubectl.run("delete", "trafficsplit", "payments-canary", "-n", NS).requireSuccess();
    Instant deleted = Instant.now();

    await().pollDelay(Duration.between(Instant.now(), deleted.plusSeconds(2))).until(() -> true);
    Traffic.Tally tally = traffic.send("payments", 500);

    System.out.println("TrafficSplit deleted, 500 requests: " + tally);
    assertThat(tally.failures()).isEmpty();
    assertThat(tally.count("payments-v1")).isEqualTo(500);
  }

  private static void awaitSecondBackendAnswers() {
    await("payments-v2 answers for payments once the split is served")
        .atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
        .until(() -> traffic.sendOne("payments").equals("payments-v2"));
  }
}
