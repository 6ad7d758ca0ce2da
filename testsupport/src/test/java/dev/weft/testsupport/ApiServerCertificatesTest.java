package dev.weft.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiServerCertificatesTest {

  @TempDir
  static Path dir;
  private static ApiServerCertificates certificates;

  @BeforeAll
  static void generate() throws Exception {
    certificates = ApiServerCertificates.generate(dir, InetAddress.getByName("10.96.0.1"));
  }

  @Test
  void servingCertificateIsSignedByTheCaForLoopbackAndTheKubernetesService() throws Exception {
    X509Certificate serving = read(certificates.servingCert());

    serving.verify(certificates.caCertificate().getPublicKey());
    assertThat(serving.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1");
    assertThat(serving.getSubjectAlternativeNames()).extracting(name -> (Object) name.get(1))
        .contains("127.0.0.1", "10.96.0.1", "localhost", "kubernetes.default.svc");
  }

  @Test
  void adminIsInSystemMasters() throws Exception {
    X509Certificate admin = read(certificates.adminCert());

    admin.verify(certificates.caCertificate().getPublicKey());
    assertThat(admin.getSubjectX500Principal().getName()).contains("CN=weft-admin").contains("O=system:masters");
    assertThat(admin.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.2");
  }

  @Test
  void keysAreWrittenInFormsGoAndFabric8Read() throws Exception {
    // SEC1 with the curve inside: a bare SEC1 body is what made kube-apiserver fail to parse.
    assertThat(Files.readString(certificates.servingKey())).startsWith("-----BEGIN EC PRIVATE KEY-----");
    assertThat(Files.readString(certificates.serviceAccountKey())).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    io.fabric8.kubernetes.client.internal.CertUtils.createKeyStore(
        new ByteArrayInputStream(certificates.admin().certPem().getBytes(StandardCharsets.UTF_8)),
        new ByteArrayInputStream(certificates.admin().keyPem().getBytes(StandardCharsets.UTF_8)),
        "EC", "changeit".toCharArray(), null, null);
  }

  @Test
  void issuesClientsForOtherIdentities() throws Exception {
    ApiServerCertificates.ClientIdentity viewer = certificates.issueClient("jane", "viewers", "qa");

    X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(viewer.certPem().getBytes(StandardCharsets.UTF_8)));
    cert.verify(certificates.caCertificate().getPublicKey());
    assertThat(cert.getSubjectX500Principal().getName()).contains("CN=jane").contains("O=viewers")
        .contains("O=qa");
  }

  @Test
  void adminTlsContextIsUsable() {
    assertThat(certificates.adminSslContext().getProtocol()).isEqualTo("TLS");
    assertThat(List.of(certificates.caCert(), certificates.adminKey())).allMatch(Files::isRegularFile);
  }

  private static X509Certificate read(Path pem) throws Exception {
    try (var in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }
}
