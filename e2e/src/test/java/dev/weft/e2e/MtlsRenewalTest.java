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
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leaf renewal under continuous traffic through the translated config: the operator issues
 * certificates that live 15 s (renewed at about 2/3 of that), the local pods' mounted Secrets follow
 * it as a kubelet's would, and Envoy re-reads them through SDS, while clients keep sending through
 * web's sidecar to payments over mTLS. No request may be lost; the counts are printed.
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
        "cluster.local", Duration.ofDays(1), LIFETIME, KeyAlgorithm.ECDSA_P256));
    try (XdsServerApp xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS)));
        WeftOperator operator = WeftOperator.start(client, new WeftOperator.Config(Set.of(NS),
            new InetSocketAddress("127.0.0.1", 0), Optional.empty()).withCertificates(Optional.of(certificates)))) {
      MeshIdentities identities = new MeshIdentities(client, mounts);
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
        try {
          await("both sidecars present a renewed certificate, twice").atMost(BOUND)
              .pollInterval(Duration.ofMillis(200)).until(() -> {
                serverSerials.add(serial(payments));
                clientSerials.add(serial(web));
                return serverSerials.size() >= 3 && clientSerials.size() >= 3;
              });
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
        assertThat(tally.failures()).as("requests lost while certificates were renewed").isEmpty();
        assertThat(tally.count("payments-1")).isEqualTo(tally.total()).isPositive();
        assertThat(serverSerials).hasSizeGreaterThanOrEqualTo(3);
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
