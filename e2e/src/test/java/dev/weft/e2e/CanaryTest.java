package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.demo.LocalPod;
import dev.weft.demo.MeshIdentities;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.PaymentsMesh;
import dev.weft.demo.Traffic;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A canary on real parts: a real kube-apiserver, the operator, the xds-server, and real Envoy
 * sidecars in front of payments-v1 and payments-v2, with a client sidecar sending the traffic. Every
 * hop between sidecars is mTLS with the certificates the operator issued each pod's ServiceAccount
 * (mounted from its Secrets), through the config the xds-server translated; each sidecar's ADS
 * stream is mTLS too, with the xds-server's certificate from the operator. The TrafficSplit is
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
  static WeftOperator operator;
  static MeshIdentities identities;
  static MeshIdentities.Mounted xdsIdentity;
  static PaymentsMesh mesh;

  @BeforeAll
  static void startMesh(Kubectl kubectl, KubernetesClient client, @TempDir Path mounts) throws Exception {
    WeftCrds.install(kubectl);
    MeshObjects objects = PaymentsMesh.declare(client, NS);
    // The operator issues the xds-server's certificate too: sidecars reach the ADS port over mTLS.
    operator = WeftOperator.start(client, new WeftOperator.Config(Set.of(NS),
        new InetSocketAddress("127.0.0.1", 0), Optional.empty())
        .withCertificates(Optional.of(CertificateSettings.defaults().withXdsServiceAccount("weft-xds"))));
    String operatorNamespace = client.getNamespace() == null ? "default" : client.getNamespace();
    identities = new MeshIdentities(client, mounts, "spiffe://cluster.local/ns/" + operatorNamespace + "/sa/weft-xds");
    xdsIdentity = identities.mountServiceAccount(operatorNamespace, "weft-xds");
    xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS))
        .withXdsTls(xdsIdentity.identityDirectory().toString()));
    mesh = PaymentsMesh.start(objects, NS, 10, xds.xdsPort(), identities);
  }

  @AfterAll
  static void stopMesh() {
    if (mesh != null) {
      mesh.close();
    }
    if (operator != null) {
      operator.close();
    }
    if (xds != null) {
      xds.close();
    }
    if (xdsIdentity != null) {
      xdsIdentity.close();
    }
  }

  @Test
  @Order(1)
  void splitsTrafficNinetyTen(Kubectl kubectl) {
    kubectl.apply(SPLIT.formatted(90, 10)).requireSuccess();
    awaitSecondBackendAnswers();

    Traffic.Tally tally = mesh.traffic.send("payments", 2000);

    long adsHandshakes = mesh.web.sidecar().counter("cluster.weft-xds.ssl.handshake");
    System.out.println("TrafficSplit 90/10, 2000 requests: " + tally + "; mTLS handshakes by web's sidecar: "
        + mesh.clientHandshakes(NS) + " to payments, " + adsHandshakes + " to the xds-server");
    assertThat(tally.failures()).isEmpty();
    assertThat(mesh.clientHandshakes(NS)).as("the canary runs over mTLS").isPositive();
    assertThat(adsHandshakes).as("the sidecar's ADS stream is mTLS").isPositive();
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
    Traffic.Tally tally = mesh.traffic.send("payments", 2000);

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
        tally.add(mesh.traffic.sendOne("payments-v1"));
      }
    }, "load");
    load.start();
    try (LocalPod extra = LocalPod.serving("payments-v1-b", NS, "payments", "127.0.10.13", xds.xdsPort(),
        Transport.STATE_OF_THE_WORLD, identities)) {
      mesh.objects.endpoints("payments-v1", List.of(mesh.v1, extra), List.of());
      await("the new payments-v1 pod gets traffic").atMost(Duration.ofSeconds(10))
          .until(() -> extra.app().requestCount() > 20);

      // Scale down as Kubernetes does: the endpoint turns terminating (still serving), then goes.
      mesh.objects.endpoints("payments-v1", List.of(mesh.v1), List.of(extra));
      AtomicInteger lastCount = new AtomicInteger(-1);
      await("the draining pod stops getting new requests").atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(300))
          .until(() -> lastCount.getAndSet(extra.app().requestCount()) == extra.app().requestCount());
      mesh.objects.endpoints("payments-v1", List.of(mesh.v1), List.of());
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
    Traffic.Tally tally = mesh.traffic.send("payments", 500);

    System.out.println("TrafficSplit deleted, 500 requests: " + tally);
    assertThat(tally.failures()).isEmpty();
    assertThat(tally.count("payments-v1")).isEqualTo(500);
  }

  private static void awaitSecondBackendAnswers() {
    await("payments-v2 answers for payments once the split is served")
        .atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
        .until(() -> mesh.traffic.sendOne("payments").equals("payments-v2"));
  }
}
