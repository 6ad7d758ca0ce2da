package dev.weft.operator.certificates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.operator.identity.CertifiedKey;
import io.fabric8.certmanager.api.model.v1.Certificate;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The cert-manager controller against the fabric8 mock server in CRUD mode, the test playing cert-manager. */
@EnableKubernetesMockClient(crud = true)
class CertManagerCertificateControllerTest {

  static final Duration BOUND = Duration.ofSeconds(10);
  static final String OPERATOR_NS = "weft-system";

  KubernetesClient client;
  CertManagerCertificateController controller;

  @AfterEach
  void stop() {
    if (controller != null) {
      controller.close();
    }
  }

  @Test
  void requestsACertificateCopiesWhatCertManagerWritesAndCleansUp() {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("shop")
        .withLabels(Map.of("weft.dev/inject", "enabled")).endMetadata().build()).create();
    client.pods().inNamespace("shop").resource(MeshedPodsTest.pod("shop", "web-1", "web").build()).create();

    controller = CertManagerCertificateController.start(client, Set.of(),
        CertificateSettings.defaults().withCertManager(CertManagerCertificatesTest.MESH_CA), OPERATOR_NS, () -> true,
        Clock.systemUTC(), CertificateMetrics.NONE);

    Certificate certificate = await("the Certificate").atMost(BOUND).pollInterval(Duration.ofMillis(50))
        .until(() -> client.resources(Certificate.class).inNamespace("shop").withName("weft-identity-web").get(),
            c -> c != null);
    assertThat(certificate.getSpec().getUris()).containsExactly("spiffe://cluster.local/ns/shop/sa/web");
    // The pass that created the Certificate writes its report after it: wait for that, not for the object.
    assertThat(await("the first report").atMost(BOUND).until(controller::report, Optional::isPresent))
        .hasValueSatisfying(r -> assertThat(r.issued()).isZero());

    CertifiedKey leaf = CertManagerCertificatesTest.leaf(CertManagerCertificatesTest.WEB, Instant.now());
    Secret issued = CertManagerCertificatesTest.writtenByCertManager(CertManagerCertificatesTest.WEB, leaf,
        CertManagerCertificatesTest.ISSUER_CA.root().certificatePem());
    issued.getMetadata().setLabels(certificate.getSpec().getSecretTemplate().getLabels());
    client.secrets().inNamespace("shop").resource(issued).create();

    Secret workload = await("weft-identity-web").atMost(BOUND).pollInterval(Duration.ofMillis(50))
        .until(() -> client.secrets().inNamespace("shop").withName("weft-identity-web").get(), s -> s != null);
    assertThat(workload.getData()).isEqualTo(issued.getData());
    assertThat(workload.getMetadata().getLabels()).containsEntry("weft.dev/identity", "workload");
    await("the report counts it").atMost(BOUND)
        .until(() -> controller.report().map(CertificateSummary::issued).orElse(0) == 1);
    assertThat(controller.report().orElseThrow().caExpiry())
        .contains(CertManagerCertificatesTest.ISSUER_CA.root().info().notAfter());
    assertThat(client.secrets().inNamespace(OPERATOR_NS).withName("weft-ca").get())
        .as("the operator's root, for the injection webhook only").isNotNull();

    client.pods().inNamespace("shop").withName("web-1").delete();

    await("Certificate and both Secrets deleted").atMost(BOUND).pollInterval(Duration.ofMillis(50))
        .until(() -> client.resources(Certificate.class).inNamespace("shop").withName("weft-identity-web").get() == null
            && client.secrets().inNamespace("shop").withName("weft-issued-web").get() == null
            && client.secrets().inNamespace("shop").withName("weft-identity-web").get() == null);
  }
}
