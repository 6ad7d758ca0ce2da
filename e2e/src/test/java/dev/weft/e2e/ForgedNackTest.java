package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.MeshStatus;
import dev.weft.api.v1alpha1.MeshStatusStatus;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.demo.MeshIdentities;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.PaymentsMesh;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.testsupport.Closeables;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap;
import dev.weft.xds.sync.SyncReportPublisher;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, item 5, first bullet, on the TLS port: before authenticated xDS, a forged proxy that
 * claimed {@code web} and NACKed on purpose showed up as {@code NACKED 1} in MeshStatus and flipped a
 * live TrafficSplit's Programmed to Unknown. Here the real operator issues every certificate (the
 * xds-server's too), the real xds-server serves ADS over mTLS and reports sync state, and the
 * operator keeps MeshStatus and Programmed. Two forgers claim {@code web.forged} and send a NACK: one
 * without a client certificate, one with a real mesh certificate stolen from {@code payments}. Neither
 * opens a stream, and MeshStatus and the split stay as the honest sidecars made them.
 */
@KubeApiServerTest
class ForgedNackTest {

  static final String NS = "forged";
  static final Duration BOUND = Duration.ofSeconds(30);
  static final String CDS = AuthenticatedXdsTest.CDS;
  static final String SPLIT = """
      apiVersion: weft.dev/v1alpha1
      kind: TrafficSplit
      metadata:
        name: payments-canary
        namespace: forged
      spec:
        service: payments
        backends:
        - service: payments-v1
          weight: 90
        - service: payments-v2
          weight: 10
      """;

  static WeftOperator operator;
  static MeshIdentities identities;
  static MeshIdentities.Mounted xdsIdentity;
  static XdsServerApp xds;
  static PaymentsMesh mesh;
  static String operatorNamespace;

  @BeforeAll
  static void startMesh(Kubectl kubectl, KubernetesClient client, @TempDir Path mounts) throws Exception {
    WeftCrds.install(kubectl);
    MeshObjects objects = PaymentsMesh.declare(client, NS);
    operatorNamespace = client.getNamespace() == null ? "default" : client.getNamespace();
    operator = WeftOperator.start(client, new WeftOperator.Config(Set.of(NS),
        new InetSocketAddress("127.0.0.1", 0), Optional.empty())
        .withCertificates(Optional.of(CertificateSettings.defaults().withXdsServiceAccount("weft-xds")))
        .withXdsNamespaces(Set.of(operatorNamespace)));
    identities = new MeshIdentities(client, mounts, "spiffe://cluster.local/ns/" + operatorNamespace + "/sa/weft-xds");
    xdsIdentity = identities.mountServiceAccount(operatorNamespace, "weft-xds");
    xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS))
        .withXdsTls(xdsIdentity.identityDirectory().toString())
        .withSyncReport(SyncReportPublisher.Settings.of(operatorNamespace, "xds-0")
            .withTimings(Duration.ofMillis(200), Duration.ofSeconds(1))));
    mesh = PaymentsMesh.start(objects, NS, 12, xds.xdsPort(), identities);
  }

  @AfterAll
  static void stopMesh() {
    Closeables.closeAll(mesh, xds, xdsIdentity, operator);
  }

  @Test
  void aForgedProxyClaimingWebCannotNackIntoMeshStatusNorFlipProgrammed(Kubectl kubectl, KubernetesClient client,
      @TempDir Path dir) throws Exception {
    kubectl.apply(SPLIT).requireSuccess();
    await("the honest sidecars synced and the split Programmed").atMost(BOUND).pollInterval(Duration.ofMillis(200))
        .until(() -> programmed(client).map(c -> c.getStatus() == Condition.Status.True).orElse(false)
            && meshStatus(client) != null && meshStatus(client).getProxies().getSynced() == 3);
    String before = kubectl.run("get", "meshstatus").requireSuccess().stdout();

    // The stolen certificate: payments' own, from its Secret (what an attacker in a payments pod holds).
    Secret stolen = client.secrets().inNamespace(NS).withName("weft-identity-payments").get();
    for (String key : new String[] {"tls.crt", "tls.key", "ca.crt"}) {
      Files.writeString(dir.resolve(key), new String(Base64.getDecoder().decode(stolen.getData().get(key)),
          StandardCharsets.UTF_8));
    }
    AuthenticatedXdsTest.Result anonymous = forgedNack(channel(dir, false));
    AuthenticatedXdsTest.Result impostor = forgedNack(channel(dir, true));
    System.out.println("forged proxy web." + NS + " without a certificate, sending a NACK: " + anonymous);
    System.out.println("forged proxy web." + NS + " with payments' certificate, sending a NACK: " + impostor);
    assertThat(anonymous.response()).isNull();
    assertThat(anonymous.status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(impostor.response()).isNull();
    assertThat(impostor.status().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);

    // Several report intervals (200 ms) and operator passes: nothing changes.
    await("MeshStatus and Programmed to stay as the honest sidecars made them").during(Duration.ofSeconds(5))
        .atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
        .until(() -> {
          MeshStatusStatus status = meshStatus(client);
          return status.getProxies().getNacked() == 0 && status.getLastNack() == null
              && status.getProxies().getConnected() == 3
              && programmed(client).map(c -> c.getStatus() == Condition.Status.True).orElse(false);
        });
    String after = kubectl.run("get", "meshstatus").requireSuccess().stdout();
    System.out.println("$ kubectl get meshstatus (before the forgers)\n" + before
        + "$ kubectl get meshstatus (5 s after)\n" + after
        + "Programmed of payments-canary: " + programmed(client).orElseThrow());
    assertThat(xds.proxies().proxies()).extracting(p -> p.nodeId())
        .containsExactlyInAnyOrder("payments-v1." + NS, "payments-v2." + NS, "web." + NS);
  }

  private static Optional<Condition> programmed(KubernetesClient client) {
    TrafficSplit split = client.resources(TrafficSplit.class).inNamespace(NS).withName("payments-canary").get();
    return split == null || split.getStatus() == null ? Optional.empty() : split.getStatus().condition("Programmed");
  }

  private static MeshStatusStatus meshStatus(KubernetesClient client) {
    MeshStatus mesh = client.resources(MeshStatus.class).withName(MeshStatus.NAME).get();
    return mesh == null ? null : mesh.getStatus();
  }

  /** A TLS channel to the ADS port trusting the mesh bundle, presenting the stolen certificate or none. */
  private static ManagedChannel channel(Path dir, boolean withCertificate) throws Exception {
    AdvancedTlsX509TrustManager trust = AdvancedTlsX509TrustManager.newBuilder()
        .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION).build();
    trust.updateTrustCredentials(dir.resolve("ca.crt").toFile());
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(trust);
    if (withCertificate) {
      tls.keyManager(dir.resolve("tls.crt").toFile(), dir.resolve("tls.key").toFile());
    }
    return NettyChannelBuilder.forAddress("127.0.0.1", xds.xdsPort(), tls.build()).build();
  }

  /**
   * The forger's stream: a node claiming web's namespace and ServiceAccount, a CDS request, then at
   * once a NACK (a request with an error detail), as the forged proxy of the adversarial run did.
   */
  private static AuthenticatedXdsTest.Result forgedNack(ManagedChannel channel) throws Exception {
    Node node = Node.newBuilder().setId("web." + NS).setCluster("web." + NS)
        .setMetadata(Struct.newBuilder()
            .putFields(SidecarBootstrap.META_NAMESPACE, Value.newBuilder().setStringValue(NS).build())
            .putFields(SidecarBootstrap.META_SERVICE_ACCOUNT, Value.newBuilder().setStringValue("web").build()))
        .build();
    return AuthenticatedXdsTest.firstResponse(channel,
        DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).build(),
        DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).setVersionInfo("0").setResponseNonce("1")
            .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage("forged: rejecting on purpose"))
            .build());
  }
}
