package dev.weft.e2e;

import static dev.weft.e2e.PresentedCertificates.ADS_RELOAD_GRACE;
import static dev.weft.e2e.PresentedCertificates.adsServes;
import static dev.weft.e2e.PresentedCertificates.serial;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.demo.LocalPod;
import dev.weft.demo.Traffic;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
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
    CertificateSettings certificates = CertificateSettings.defaults().withIdentity(new IdentitySettings(
        "cluster.local", Duration.ofDays(1), LIFETIME, KeyAlgorithm.ECDSA_P256));
    try (OperatorIssuedMesh mesh = OperatorIssuedMesh.start(kubectl, client, NS, certificates, mounts,
        "127.0.17.11", "127.0.17.20")) {
      LocalPod payments = mesh.payments;
      LocalPod web = mesh.web;
      String firstServer = serial(payments);
      String firstClient = serial(web);
      SteadyLoad load = new SteadyLoad(mesh.traffic, "payments", CLIENTS, 100_000);
      Set<String> serverSerials = new TreeSet<>(List.of(firstServer));
      Set<String> clientSerials = new TreeSet<>(List.of(firstClient));
      Set<String> xdsSerials = new TreeSet<>();
      List<String> xdsLate = new ArrayList<>();
      try {
        await("both sidecars and the ADS port present a renewed certificate, twice").atMost(BOUND)
            .pollInterval(Duration.ofMillis(200)).until(() -> {
              serverSerials.add(serial(payments));
              clientSerials.add(serial(web));
              adsServes(mesh.xds.xdsPort(), web, mesh.xdsIdentity, xdsSerials, xdsLate);
              return serverSerials.size() >= 3 && clientSerials.size() >= 3 && xdsSerials.size() >= 3;
            });
      } catch (ConditionTimeoutException e) {
        throw new AssertionError("payments' sidecar presented " + serverSerials + ", web's " + clientSerials
            + ", the ADS port " + xdsSerials + "; ADS port problems: " + xdsLate, e);
      } finally {
        load.stop();
      }
      double seconds = load.stop();
      Traffic.Tally tally = load.tally;

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
