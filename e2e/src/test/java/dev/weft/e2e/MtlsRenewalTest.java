package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.demo.LocalPod;
import dev.weft.demo.MeshIdentities;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.Traffic;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.operator.identity.Pem;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leaf renewal under continuous traffic through the translated config: the operator issues
 * certificates that live 15 s (renewed at about 2/3 of that), the local pods' mounted Secrets follow
 * it as a kubelet's would, and Envoy re-reads them through SDS, while clients keep sending through
 * web's sidecar to payments over mTLS. No request may be lost; the counts are printed. The sidecars
 * get their config over the ADS port's mTLS, as in the chart: the xds-server's own 15 s certificate
 * is renewed too, and the port serves each renewed one (checked with a fresh handshake) well before
 * the previous one expires.
 */
@KubeApiServerTest
class MtlsRenewalTest {

  static final String NS = "mtls-renew";
  static final Duration LIFETIME = Duration.ofSeconds(15);
  static final Duration BOUND = Duration.ofSeconds(60);
  static final int CLIENTS = 4;

  @Test
  void renewedCertificatesArePickedUpWithoutLosingARequest(Kubectl kubectl, KubernetesClient client,
      @TempDir Path mounts) throws Exception {
    WeftCrds.install(kubectl);
    MeshObjects objects = new MeshObjects(client, NS);
    objects.createNamespace();
    objects.service("payments", 80);
    CertificateSettings certificates = CertificateSettings.defaults().withIdentity(new IdentitySettings(
        "cluster.local", Duration.ofDays(1), LIFETIME, KeyAlgorithm.ECDSA_P256)).withXdsServiceAccount("weft-xds");
    String operatorNamespace = client.getNamespace() == null ? "default" : client.getNamespace();
    MeshIdentities identities = new MeshIdentities(client, mounts,
        "spiffe://cluster.local/ns/" + operatorNamespace + "/sa/weft-xds");
    try (WeftOperator operator = WeftOperator.start(client, new WeftOperator.Config(Set.of(NS),
            new InetSocketAddress("127.0.0.1", 0), Optional.empty()).withCertificates(Optional.of(certificates)));
        MeshIdentities.Mounted xdsIdentity = identities.mountServiceAccount(operatorNamespace, "weft-xds");
        XdsServerApp xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS))
            .withXdsTls(xdsIdentity.identityDirectory().toString()))) {
      try (LocalPod payments = LocalPod.serving("payments-1", NS, "payments", "127.0.17.11", xds.xdsPort(),
              Transport.DELTA, identities);
          LocalPod web = LocalPod.client("web-1", NS, "web", "127.0.17.20", xds.xdsPort(), Transport.DELTA,
              identities)) {
        objects.endpoints("payments", List.of(payments), List.of());
        Traffic traffic = new Traffic(web);
        await("payments answers through web's sidecar").atMost(BOUND)
            .until(() -> traffic.sendOne("payments").equals("payments-1"));
        String firstServer = serial(payments);
        String firstClient = serial(web);

        Traffic.Tally tally = new Traffic.Tally();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> load = new ArrayList<>();
        long started = System.nanoTime();
        for (int i = 0; i < CLIENTS; i++) {
          Thread thread = new Thread(() -> {
            // Bounded in count as well as by the rotation's end.
            while (running.get() && tally.total() < 100_000) {
              tally.add(traffic.sendOne("payments"));
            }
          }, "load-" + i);
          thread.start();
          load.add(thread);
        }
        Set<String> serverSerials = new TreeSet<>(List.of(firstServer));
        Set<String> clientSerials = new TreeSet<>(List.of(firstClient));
        Set<String> xdsSerials = new TreeSet<>();
        List<String> xdsLate = new ArrayList<>();
        try {
          await("both sidecars and the ADS port present a renewed certificate, twice").atMost(BOUND)
              .pollInterval(Duration.ofMillis(200)).until(() -> {
                serverSerials.add(serial(payments));
                clientSerials.add(serial(web));
                adsServes(xds.xdsPort(), web, xdsIdentity, xdsSerials, xdsLate);
                return serverSerials.size() >= 3 && clientSerials.size() >= 3 && xdsSerials.size() >= 3;
              });
        } catch (ConditionTimeoutException e) {
          throw new AssertionError("payments' sidecar presented " + serverSerials + ", web's " + clientSerials
              + ", the ADS port " + xdsSerials + "; ADS port problems: " + xdsLate, e);
        } finally {
          running.set(false);
          for (Thread thread : load) {
            thread.join();
          }
        }
        double seconds = (System.nanoTime() - started) / 1e9;

        System.out.printf("leaf renewal under load (certificates of %d s): %d requests in %.1f s (%.0f/s) from %d "
            + "clients through web's sidecar, %d failed; payments' sidecar presented %d certificates, web's %d; "
            + "web's mTLS handshakes to payments: %d%n", LIFETIME.toSeconds(), tally.total(), seconds,
            tally.total() / seconds, CLIENTS, tally.failures().size(), serverSerials.size(), clientSerials.size(),
            web.sidecar().counter("cluster.outbound|80|payments." + NS + ".svc.cluster.local.ssl.handshake"));
        System.out.printf("ADS port over mTLS: served %d certificates of its own in turn (each checked with a fresh "
            + "handshake); served one older than its Secret's for more than %d s: %s%n", xdsSerials.size(),
            ADS_RELOAD_GRACE.toSeconds(), xdsLate.isEmpty() ? "never" : xdsLate);
        assertThat(tally.failures()).as("requests lost while certificates were renewed").isEmpty();
        assertThat(xdsLate).as("the ADS port kept serving a replaced certificate").isEmpty();
        assertThat(tally.count("payments-1")).isEqualTo(tally.total()).isPositive();
        assertThat(serverSerials).hasSizeGreaterThanOrEqualTo(3);
      }
    }
  }

  /** How long the ADS port may take to serve its renewed certificate (it checks its files every second). */
  static final Duration ADS_RELOAD_GRACE = Duration.ofSeconds(3);

  /**
   * One fresh mTLS handshake with the ADS port, as web's sidecar would (its certificate and key):
   * records the serial the port presents, and notes it when that is not the serial of the
   * xds-server's mounted Secret although the Secret changed more than {@link #ADS_RELOAD_GRACE} ago.
   */
  static void adsServes(int port, LocalPod web, MeshIdentities.Mounted xds, Set<String> serials, List<String> late)
      throws Exception {
    Path files = xds.identityDirectory();
    String mounted = Pem.parseCertificate(Files.readString(files.resolve("tls.crt"))).getSerialNumber().toString(16);
    Instant mountedAt = Files.getLastModifiedTime(files.resolve("tls.crt")).toInstant();
    Path own = web.identity().identityDirectory();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("web", Pem.parsePrivateKey(Files.readString(own.resolve("tls.key"))), new char[0],
        new X509Certificate[] {Pem.parseCertificate(Files.readString(own.resolve("tls.crt")))});
    KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, new char[0]);
    KeyStore roots = KeyStore.getInstance("PKCS12");
    roots.load(null, null);
    int i = 0;
    for (X509Certificate root : Pem.parseCertificates(Files.readString(own.resolve("ca.crt")))) {
      roots.setCertificateEntry("root-" + i++, root);
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(roots);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), trust.getTrustManagers(), null);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(5_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"h2"});
      socket.setSSLParameters(parameters);
      try {
        socket.startHandshake();
      } catch (SSLHandshakeException e) {
        late.add("handshake failed at " + Instant.now() + " (" + e.getMessage() + ") while the Secret held " + mounted
            + " since " + mountedAt);
        return;
      }
      String served = ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber().toString(16);
      serials.add(served);
      if (!served.equals(mounted) && Duration.between(mountedAt, Instant.now()).compareTo(ADS_RELOAD_GRACE) > 0) {
        late.add(served + " while the Secret held " + mounted + " since " + mountedAt);
      }
    }
  }

  /** The serial of the certificate a sidecar presents (its TLS contexts' cert_chain in the admin's /certs). */
  static String serial(LocalPod pod) {
    try {
      JsonNode certs = new ObjectMapper().readTree(pod.sidecar().admin("/certs"));
      Set<String> serials = new TreeSet<>();
      for (JsonNode context : certs.path("certificates")) {
        for (JsonNode cert : context.path("cert_chain")) {
          serials.add(cert.path("serial_number").asText());
        }
      }
      return String.join(",", serials);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
