package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ADS port with TLS and client certificates (issue 12, item 4), on a real apiserver with a
 * real xds-server and certificates from the mesh CA code: a client with no certificate cannot open
 * a stream; a client whose certificate says {@code web} but whose node claims {@code payments} is
 * refused with PERMISSION_DENIED, gets no config and never shows up among the connected proxies
 * (so it cannot read payments' config, nor NACK on payments' behalf into MeshStatus); the same
 * client claiming its own identity is served.
 */
@KubeApiServerTest
class AuthenticatedXdsTest {

  static final String NS = "xds-auth";
  static final Duration BOUND = Duration.ofSeconds(20);
  static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

  static XdsServerApp xds;
  static Path certificates;
  static CertificateAuthority mesh;
  static IdentitySettings settings = IdentitySettings.defaults();

  @BeforeAll
  static void start(Kubectl kubectl, KubernetesClient client, @TempDir Path dir) throws Exception {
    WeftCrds.install(kubectl);
    MeshObjects objects = new MeshObjects(client, NS);
    objects.createNamespace();
    objects.service("payments", 80);
    mesh = CertificateAuthority.selfSigned(settings, Instant.now(), new SecureRandom());
    certificates = dir;
    write(dir.resolve("xds"), mesh.issue(settings.identity("weft-system", "weft-xds"), KeyAlgorithm.ECDSA_P256,
        Duration.ofHours(1), Instant.now()), mesh);
    write(dir.resolve("web"), mesh.issue(settings.identity(NS, "web"), KeyAlgorithm.ECDSA_P256,
        Duration.ofHours(1), Instant.now()), mesh);
    xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS))
        .withXdsTls(dir.resolve("xds").toString()));
  }

  @AfterAll
  static void stop() {
    if (xds != null) {
      xds.close();
    }
  }

  static void write(Path dir, CertifiedKey leaf, CertificateAuthority ca) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("tls.crt"), leaf.certificatePem());
    Files.writeString(dir.resolve("tls.key"), leaf.privateKeyPem());
    Files.writeString(dir.resolve("ca.crt"), ca.root().certificatePem());
  }

  @Test
  void aClientWithoutACertificateCannotOpenTheAdsStream() throws Exception {
    Result result = firstResponse(channel(null), node("anonymous-1", "web"));

    System.out.println("ADS without a client certificate: " + result);
    assertThat(result.response).isNull();
    assertThat(result.status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(xds.proxies().proxies()).noneMatch(p -> p.nodeId().equals("anonymous-1." + NS));
  }

  @Test
  void aCertificateForOneIdentityGetsNoConfigForAnother() throws Exception {
    Result impostor = firstResponse(channel("web"), node("payments-1", "payments"));

    System.out.println("certificate spiffe://cluster.local/ns/" + NS + "/sa/web, node claims payments: " + impostor);
    assertThat(impostor.response).as("no config for the claimed identity").isNull();
    assertThat(impostor.status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(impostor.status.getDescription()).contains("claims namespace " + NS + " and ServiceAccount payments")
        .contains("spiffe://cluster.local/ns/" + NS + "/sa/web");
    assertThat(xds.proxies().proxies()).as("a refused stream never counts as a proxy")
        .noneMatch(p -> p.nodeId().equals("payments-1." + NS));

    Result honest = firstResponse(channel("web"), node("web-1", "web"));
    System.out.println("the same certificate claiming its own identity: " + honest);
    assertThat(honest.response).as("its own config").isNotNull();
    assertThat(honest.response.getResourcesList()).isNotEmpty();
  }

  @Test
  void aSidecarGetsItsConfigOverMtlsAndAnEnvoyClaimingAnotherIdentityGetsNone() throws Exception {
    try (EnvoyProcess honest = sidecar("web-2", "web", "127.0.16.2")) {
      System.out.println("Envoy with web's certificate claiming web: LIVE over mTLS, "
          + honest.counter("cluster.weft-xds.ssl.handshake") + " TLS handshake(s) with the xds-server");
      assertThat(honest.counter("cluster.weft-xds.ssl.handshake")).isPositive();
    }
    try (EnvoyProcess impostor = sidecarNotWaited("payments-2", "payments", "127.0.16.3")) {
      await("the impostor's sidecar reaches the xds-server").atMost(BOUND)
          .until(() -> impostor.counter("cluster.weft-xds.ssl.handshake") > 0);
      await("and stays without config").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
          .until(() -> !impostor.isLive());
      System.out.println("Envoy with web's certificate claiming payments: not LIVE, "
          + impostor.counter("cluster.weft-xds.ssl.handshake") + " TLS handshake(s), cds updates "
          + impostor.counter("cluster_manager.cds.update_success"));
      assertThat(impostor.counter("cluster_manager.cds.update_success")).isZero();
      assertThat(xds.proxies().proxies()).noneMatch(p -> p.nodeId().equals("payments-2." + NS));
    }
  }

  @Test
  void anAdsPortWhoseCertificateIsNotThereYetIsUnreadyAndServesOnceTheOperatorWritesIt(KubernetesClient client)
      throws Exception {
    // The chart mounts the xds-server's Secret as optional: the pod starts before the operator leads.
    Path mount = Files.createDirectories(certificates.resolve("xds-later"));
    try (XdsServerApp early = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS))
        .withXdsTls(mount.toString()))) {
      HttpClient http = HttpClient.newHttpClient();
      URI readyz = URI.create("http://127.0.0.1:" + early.debugPort() + "/readyz");
      HttpResponse<String> unready = await("the informers to sync").atMost(BOUND)
          .until(() -> http.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.ofString()),
              r -> r.body().contains("certificate"));
      Result before = firstResponse(channel("web", early.xdsPort()), node("web-3", "web"));
      System.out.println("ADS port without its certificate: /readyz " + unready.statusCode() + " "
          + unready.body().strip() + "; a client with a certificate: " + before);
      assertThat(unready.statusCode()).isEqualTo(503);
      assertThat(unready.body()).contains(mount.toString()).contains("tls.crt is missing");
      assertThat(before.response).isNull();
      assertThat(before.status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);

      // What the kubelet does once the Secret exists: the files appear in the mounted directory.
      for (String file : List.of("ca.crt", "tls.key", "tls.crt")) {
        Files.copy(certificates.resolve("xds").resolve(file), mount.resolve(file));
      }
      await("/readyz 200 once the certificate is read").atMost(BOUND)
          .until(() -> http.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.ofString())
              .statusCode(), code -> code == 200);
      Result after = firstResponse(channel("web", early.xdsPort()), node("web-3", "web"));
      System.out.println("after the files appeared: /readyz 200; " + after);
      assertThat(after.response).isNotNull();
    }
  }

  static EnvoyProcess sidecar(String pod, String serviceAccount, String address) throws Exception {
    return EnvoyProcess.builder("xds-auth-" + pod).bootstrap(bootstrap(pod, serviceAccount, address)).start();
  }

  static EnvoyProcess sidecarNotWaited(String pod, String serviceAccount, String address) throws Exception {
    return EnvoyProcess.builder("xds-auth-" + pod).bootstrap(bootstrap(pod, serviceAccount, address))
        .awaitLive(false).start();
  }

  /** A sidecar holding web's certificate (whatever it claims), reaching the xds-server over mTLS. */
  static String bootstrap(String pod, String serviceAccount, String address) throws Exception {
    Path sds = Files.createDirectories(certificates.resolve(pod + "-sds"));
    for (Map.Entry<String, String> file : SidecarBootstrap.sdsFiles(certificates.resolve("web").toString())
        .entrySet()) {
      Files.writeString(sds.resolve(file.getKey()), file.getValue());
    }
    SidecarBootstrap.Workload workload = new SidecarBootstrap.Workload(pod, NS, serviceAccount, address, List.of(),
        address, SidecarBootstrap.ADMIN_PORT, SidecarBootstrap.STATS_PORT, sds.toString());
    return SidecarBootstrap.json(SidecarBootstrap.build(workload, "127.0.0.1", xds.xdsPort(),
        SidecarBootstrap.Transport.DELTA, "spiffe://cluster.local/ns/weft-system/sa/weft-xds"));
  }

  static Node node(String pod, String serviceAccount) {
    return Node.newBuilder().setId(pod + "." + NS).setCluster(serviceAccount + "." + NS)
        .setMetadata(Struct.newBuilder()
            .putFields(SidecarBootstrap.META_NAMESPACE, Value.newBuilder().setStringValue(NS).build())
            .putFields(SidecarBootstrap.META_SERVICE_ACCOUNT, Value.newBuilder().setStringValue(serviceAccount).build()))
        .build();
  }

  /** A TLS channel to the ADS port trusting the mesh root, presenting {@code who}'s certificate (null: none). */
  static ManagedChannel channel(String who) throws Exception {
    return channel(who, xds.xdsPort());
  }

  static ManagedChannel channel(String who, int port) throws Exception {
    AdvancedTlsX509TrustManager trust = AdvancedTlsX509TrustManager.newBuilder()
        .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION).build();
    trust.updateTrustCredentials(certificates.resolve("xds/ca.crt").toFile());
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(trust);
    if (who != null) {
      tls.keyManager(certificates.resolve(who + "/tls.crt").toFile(), certificates.resolve(who + "/tls.key").toFile());
    }
    ChannelCredentials credentials = tls.build();
    return NettyChannelBuilder.forAddress("127.0.0.1", port, credentials).build();
  }

  /** What one state-of-the-world CDS request gets: a response, or how the stream ended. */
  record Result(DiscoveryResponse response, Status status) {
    @Override
    public String toString() {
      return response != null ? "served " + response.getResourcesCount() + " clusters, version "
          + response.getVersionInfo() : "no config; " + status.getCode() + ": " + status.getDescription();
    }
  }

  static Result firstResponse(ManagedChannel channel, Node node) throws Exception {
    return firstResponse(channel, DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).build());
  }

  /** Sends {@code requests} on one ADS stream: the first response, or how the stream ended; closes the channel. */
  static Result firstResponse(ManagedChannel channel, DiscoveryRequest... requests) throws Exception {
    try {
      CompletableFuture<Result> result = new CompletableFuture<>();
      StreamObserver<DiscoveryRequest> stream = AggregatedDiscoveryServiceGrpc.newStub(channel)
          .streamAggregatedResources(new StreamObserver<>() {
            @Override
            public void onNext(DiscoveryResponse response) {
              result.complete(new Result(response, Status.OK));
            }

            @Override
            public void onError(Throwable t) {
              result.complete(new Result(null, Status.fromThrowable(t)));
            }

            @Override
            public void onCompleted() {
              result.complete(new Result(null, Status.OK.withDescription("closed by the server")));
            }
          });
      for (DiscoveryRequest request : requests) {
        stream.onNext(request);
      }
      return await("the ADS stream answers or ends").atMost(BOUND).until(() -> result.getNow(null), r -> r != null);
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
