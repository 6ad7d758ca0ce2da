package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.demo.LocalPod;
import dev.weft.demo.MeshIdentities;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.Traffic;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.operator.identity.Pem;
import dev.weft.testsupport.Closeables;
import dev.weft.testsupport.HttpBackend;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mTLS between sidecars through the config the xds-server translates, with the certificates the
 * operator issues, on real parts (kube-apiserver, operator, xds-server, Envoy). The pods are local
 * pods on 127.0.15.x with their Secrets mounted as a kubelet would: web calls payments over mTLS;
 * payments' strict inbound listener serves a client holding a certificate of the mesh and refuses
 * one from another CA, one without a certificate and plaintext; a namespace labelled
 * {@code weft.dev/mtls=permissive} also takes plaintext; web's sidecar refuses a peer whose
 * certificate is valid but names another identity than the Service's pods; and it reaches a Service
 * half way into the mesh over mTLS at its meshed endpoint and in plaintext at the other.
 */
@KubeApiServerTest
class MeshMtlsTest {

  static final String STRICT = "mtls";
  static final String PERMISSIVE = "mtls-permissive";
  static final Duration BOUND = Duration.ofSeconds(30);

  static XdsServerApp xds;
  static WeftOperator operator;
  static MeshIdentities.Mounted xdsIdentity;
  static LocalPod payments;
  static LocalPod legacyPayments;
  static LocalPod web;
  static HttpBackend inventoryWithoutSidecar;
  static Traffic traffic;

  @BeforeAll
  static void startMesh(Kubectl kubectl, KubernetesClient client, @TempDir Path mounts) throws Exception {
    WeftCrds.install(kubectl);
    kubectl.apply("""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: %s
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: %s
          labels:
            weft.dev/mtls: permissive
        """.formatted(STRICT, PERMISSIVE)).requireSuccess();
    MeshObjects strict = new MeshObjects(client, STRICT);
    MeshObjects permissive = new MeshObjects(client, PERMISSIVE);
    strict.service("payments", 80);
    strict.service("checkout", 80);
    strict.service("inventory", 80);
    permissive.service("payments", 80);
    // The ADS port is mTLS too, as the chart runs it: the operator issues the xds-server's certificate
    // first, and every sidecar reaches the xds-server with its own.
    operator = WeftOperator.start(client, new WeftOperator.Config(Set.of(STRICT, PERMISSIVE),
        new InetSocketAddress("127.0.0.1", 0), Optional.empty())
        .withCertificates(Optional.of(CertificateSettings.defaults().withXdsServiceAccount("weft-xds"))));
    String operatorNamespace = client.getNamespace() == null ? "default" : client.getNamespace();
    MeshIdentities identities = new MeshIdentities(client, mounts,
        "spiffe://cluster.local/ns/" + operatorNamespace + "/sa/weft-xds");
    xdsIdentity = identities.mountServiceAccount(operatorNamespace, "weft-xds");
    xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(STRICT, PERMISSIVE))
        .withXdsTls(xdsIdentity.identityDirectory().toString()));
    payments = LocalPod.serving("payments-1", STRICT, "payments", "127.0.15.11", xds.xdsPort(), Transport.DELTA,
        identities);
    legacyPayments = LocalPod.serving("payments-legacy-1", PERMISSIVE, "payments", "127.0.15.12", xds.xdsPort(),
        Transport.DELTA, identities);
    web = LocalPod.client("web-1", STRICT, "web", "127.0.15.20", xds.xdsPort(), Transport.DELTA, identities);
    strict.endpoints("payments", List.of(payments), List.of());
    permissive.endpoints("payments", List.of(legacyPayments), List.of());
    // checkout's endpoint is payments' sidecar, but its slice says the pod behind it runs as
    // checkout: web's sidecar must expect checkout's SPIFFE ID there, and refuse what it meets.
    client.pods().resource(new PodBuilder().withNewMetadata().withName("checkout-1").withNamespace(STRICT)
        .endMetadata().withNewSpec().withServiceAccountName("checkout")
        .addNewContainer().withName("app").withImage("registry.invalid/app:1").endContainer()
        .addNewContainer().withName("weft-proxy").withImage("registry.invalid/weft-proxy:1").endContainer()
        .endSpec().build()).serverSideApply();
    client.discovery().v1().endpointSlices().resource(slice("checkout", payments.appPort())
        .addNewEndpoint().withAddresses(payments.address()).withNewConditions().withReady(true).endConditions()
        .withNewTargetRef().withKind("Pod").withName("checkout-1").withNamespace(STRICT).endTargetRef()
        .endEndpoint()
        .build()).serverSideApply();
    // inventory is half way into the mesh: one endpoint is payments' sidecar (a meshed pod), the
    // other an app on the same port without a sidecar (no Pod behind it).
    inventoryWithoutSidecar = HttpBackend.start("inventory-without-sidecar", InetAddress.getByName("127.0.15.13"),
        payments.appPort());
    client.discovery().v1().endpointSlices().resource(slice("inventory", payments.appPort())
        .addNewEndpoint().withAddresses(payments.address()).withNewConditions().withReady(true).endConditions()
        .withNewTargetRef().withKind("Pod").withName(payments.name()).withNamespace(STRICT).endTargetRef()
        .endEndpoint()
        .addNewEndpoint().withAddresses("127.0.15.13").withNewConditions().withReady(true).endConditions()
        .endEndpoint()
        .build()).serverSideApply();
    traffic = new Traffic(web);
    await("payments answers web through mTLS").atMost(BOUND).pollInterval(Duration.ofMillis(100))
        .until(() -> traffic.sendOne("payments").equals("payments-1"));
  }

  @AfterAll
  static void stopMesh() {
    Closeables.closeAll(web, legacyPayments, payments, inventoryWithoutSidecar, xds, xdsIdentity, operator);
  }

  @Test
  void callsBetweenSidecarsRunOverMtlsWithTheOperatorsCertificates() {
    long handshakesBefore = handshakes(web, "payments", STRICT);
    assertThat(web.sidecar().counter("cluster.weft-xds.ssl.handshake")).as("web's ADS stream is mTLS").isPositive();

    Traffic.Tally tally = traffic.send("payments", 200);

    long handshakes = handshakes(web, "payments", STRICT) - handshakesBefore;
    long verifyFailures = web.sidecar().counter(cluster("payments", STRICT) + ".ssl.fail_verify_san");
    System.out.println("web -> payments through the translated config, 200 requests: " + tally
        + "; web's sidecar: " + handshakes(web, "payments", STRICT) + " mTLS handshakes in all, "
        + verifyFailures + " SAN mismatches");
    assertThat(tally.failures()).isEmpty();
    assertThat(tally.count("payments-1")).isEqualTo(200);
    assertThat(handshakes(web, "payments", STRICT)).as("web's sidecar speaks mTLS to payments").isPositive();
    assertThat(handshakes).as("connections are kept alive, so few new handshakes").isLessThanOrEqualTo(200);
  }

  @Test
  void aStrictInboundServesTheMeshsCertificateAndRefusesAnotherCasNoneAndPlaintext() throws Exception {
    Path webIdentity = web.identity().identityDirectory();
    CertifiedKey mesh = new CertifiedKey(
        Pem.parseCertificate(Files.readString(webIdentity.resolve("tls.crt"))),
        Pem.parsePrivateKey(Files.readString(webIdentity.resolve("tls.key"))));
    X509Certificate meshRoot = Pem.parseCertificate(Files.readString(webIdentity.resolve("ca.crt")));
    IdentitySettings settings = IdentitySettings.defaults();
    CertifiedKey otherCa = CertificateAuthority.selfSigned(settings, Instant.now(), new SecureRandom())
        .issue(settings.identity(STRICT, "web"), KeyAlgorithm.ECDSA_P256, Duration.ofHours(1), Instant.now());
    InetSocketAddress inbound = new InetSocketAddress(payments.address(), payments.appPort());
    int before = payments.app().requestCount();

    String withMeshCertificate = httpsGet(inbound, mesh, meshRoot);
    String withOtherCa = httpsGet(inbound, otherCa, meshRoot);
    String withoutCertificate = httpsGet(inbound, null, meshRoot);
    String plaintext = plainGet(inbound);

    System.out.println("strict inbound of payments: mesh certificate (" + mesh.info().spiffeId().orElse("?") + ") -> "
        + withMeshCertificate + "; same SPIFFE ID from another CA -> " + withOtherCa + "; no certificate -> "
        + withoutCertificate + "; plaintext -> " + plaintext);
    assertThat(withMeshCertificate).startsWith("HTTP/1.1 200");
    assertThat(withOtherCa).startsWith("refused").doesNotContain("certificate_required");
    assertThat(withoutCertificate).startsWith("refused");
    assertThat(plaintext).startsWith("refused");
    assertThat(payments.app().requestCount()).as("only the mesh's certificate reached the app").isEqualTo(before + 1);
  }

  @Test
  void aPermissiveNamespaceTakesPlaintextAndMtls() throws Exception {
    Path webIdentity = web.identity().identityDirectory();
    CertifiedKey mesh = new CertifiedKey(
        Pem.parseCertificate(Files.readString(webIdentity.resolve("tls.crt"))),
        Pem.parsePrivateKey(Files.readString(webIdentity.resolve("tls.key"))));
    X509Certificate meshRoot = Pem.parseCertificate(Files.readString(webIdentity.resolve("ca.crt")));
    InetSocketAddress inbound = new InetSocketAddress(legacyPayments.address(), legacyPayments.appPort());

    String plaintext = plainGet(inbound);
    String mtls = httpsGet(inbound, mesh, meshRoot);
    String throughWeb = traffic.sendOne("payments." + PERMISSIVE);

    System.out.println("permissive inbound of " + PERMISSIVE + "/payments: plaintext -> " + plaintext + "; mTLS -> "
        + mtls + "; web's sidecar -> " + throughWeb + " (" + handshakes(web, "payments", PERMISSIVE)
        + " mTLS handshakes)");
    assertThat(plaintext).startsWith("HTTP/1.1 200");
    assertThat(mtls).startsWith("HTTP/1.1 200");
    assertThat(throughWeb).isEqualTo("payments-legacy-1");
    assertThat(handshakes(web, "payments", PERMISSIVE)).as("meshed callers still use mTLS").isPositive();
  }

  @Test
  void aServiceHalfWayIntoTheMeshIsReachedOverMtlsAtItsSidecarAndInPlaintextElsewhere() {
    await("both of inventory's endpoints answer web").atMost(BOUND).pollInterval(Duration.ofMillis(200))
        .until(() -> traffic.send("inventory", 20),
            t -> t.count("payments-1") > 0 && t.count("inventory-without-sidecar") > 0);
    int plainBefore = inventoryWithoutSidecar.requestCount();

    Traffic.Tally tally = traffic.send("inventory", 40);

    System.out.println("web -> inventory (one meshed endpoint, one without a sidecar), 40 requests: " + tally
        + "; mTLS handshakes in all " + handshakes(web, "inventory", STRICT));
    assertThat(tally.failures()).isEmpty();
    assertThat(tally.count("payments-1")).isPositive();
    assertThat(tally.count("inventory-without-sidecar")).isPositive();
    assertThat(handshakes(web, "inventory", STRICT)).as("the meshed endpoint is reached over mTLS").isPositive();
    assertThat(inventoryWithoutSidecar.requestCount() - plainBefore)
        .as("the endpoint without a sidecar is reached in plaintext (TLS would not parse as HTTP there)")
        .isEqualTo(tally.count("inventory-without-sidecar"));
  }

  @Test
  void aPeerWhoseCertificateNamesAnotherIdentityThanTheServicesPodsIsRefused() {
    int before = payments.app().requestCount();

    String answer = traffic.sendOne("checkout");

    long mismatches = web.sidecar().counter(cluster("checkout", STRICT) + ".ssl.fail_verify_san");
    System.out.println("web -> checkout, whose endpoint is payments' sidecar (spiffe://cluster.local/ns/mtls/sa/"
        + "payments, not .../sa/checkout): " + answer + "; ssl.fail_verify_san=" + mismatches);
    assertThat(answer).startsWith("FAILED 503");
    assertThat(mismatches).isPositive();
    assertThat(payments.app().requestCount()).isEqualTo(before);
  }

  /** An FQDN slice (loopback addresses) of a Service in the strict namespace, one HTTP port, endpoints to add. */
  static EndpointSliceBuilder slice(String service, int port) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withName(service + "-1").withNamespace(STRICT)
        .addToLabels(MeshObjects.SERVICE_NAME, service).endMetadata()
        .withAddressType("FQDN")
        .addNewPort().withName(MeshObjects.HTTP).withPort(port).withProtocol("TCP").endPort();
  }

  static String cluster(String service, String namespace) {
    return "cluster.outbound|80|" + service + "." + namespace + ".svc.cluster.local";
  }

  static long handshakes(LocalPod pod, String service, String namespace) {
    return pod.sidecar().counter(cluster(service, namespace) + ".ssl.handshake");
  }

  /**
   * One HTTP/1.1 GET over TLS straight to a sidecar's inbound listener, presenting {@code key}
   * (null: no certificate) and trusting {@code root}; the status line, or "refused: ..." when the
   * handshake or the request fails.
   */
  static String httpsGet(InetSocketAddress address, CertifiedKey key, X509Certificate root) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", root);
    TrustManagerFactory trusting = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trusting.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(key == null ? new KeyManager[0] : new KeyManager[] {new Presenting(key)}, trusting.getTrustManagers(),
        new SecureRandom());
    try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket()) {
      socket.connect(address, 2000);
      socket.setSoTimeout(5000);
      socket.startHandshake();
      return exchange(socket);
    } catch (IOException e) {
      return "refused: " + e;
    }
  }

  /**
   * Presents its one certificate whatever the server asks for: the JDK's own key manager offers
   * only a certificate from a CA the server lists, so another CA's would never be sent at all.
   */
  static final class Presenting extends X509ExtendedKeyManager {
    private final CertifiedKey key;

    Presenting(CertifiedKey key) {
      this.key = key;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return "me";
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      return "me";
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return new X509Certificate[] {key.certificate()};
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return key.privateKey();
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {"me"};
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }
  }

  static String plainGet(InetSocketAddress address) {
    try (Socket socket = new Socket()) {
      socket.connect(address, 2000);
      socket.setSoTimeout(5000);
      return exchange(socket);
    } catch (IOException e) {
      return "refused: " + e;
    }
  }

  private static String exchange(Socket socket) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write("GET / HTTP/1.1\r\nHost: payments\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = socket.getInputStream();
    String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    if (response.isEmpty()) {
      return "refused: the connection was closed without an answer";
    }
    return response.lines().findFirst().orElse("");
  }
}
