package dev.weft.testsupport;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/** The PKI of a throwaway cluster: a CA, the apiserver's serving cert, an admin client cert and the service-account key. */
public final class ApiServerCertificates {

  /** The group that RBAC lets do anything, as kubeadm's admin.conf uses. */
  public static final String ADMIN_GROUP = "system:masters";
  public static final String ADMIN_USER = "weft-admin";

  private static final Duration VALIDITY = Duration.ofDays(7);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final X509Certificate caCert;
  private final KeyPair caKeys;
  private final X509Certificate adminCert;
  private final KeyPair adminKeys;
  private final Path dir;

  private ApiServerCertificates(Path dir, X509Certificate caCert, KeyPair caKeys, X509Certificate adminCert,
      KeyPair adminKeys) {
    this.dir = dir;
    this.caCert = caCert;
    this.caKeys = caKeys;
    this.adminCert = adminCert;
    this.adminKeys = adminKeys;
  }

  /**
   * Generates everything and writes the PEM files into {@code dir}; the serving cert is valid for
   * {@code serviceIp} (the in-cluster {@code kubernetes} Service) and loopback.
   */
  public static ApiServerCertificates generate(Path dir, InetAddress serviceIp) {
    try {
      Files.createDirectories(dir);
      KeyPair caKeys = ecKeys();
      X509Certificate ca = caCertificate(caKeys);

      KeyPair servingKeys = ecKeys();
      List<GeneralName> names = new ArrayList<>();
      names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
      names.add(new GeneralName(GeneralName.iPAddress, serviceIp.getHostAddress()));
      for (String dns : List.of("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
          "kubernetes.default.svc.cluster.local")) {
        names.add(new GeneralName(GeneralName.dNSName, dns));
      }
      X509Certificate serving = leaf(ca, caKeys, servingKeys, "CN=kube-apiserver",
          KeyPurposeId.id_kp_serverAuth, names);

      KeyPair adminKeys = ecKeys();
      X509Certificate admin = leaf(ca, caKeys, adminKeys, subject(ADMIN_USER, ADMIN_GROUP),
          KeyPurposeId.id_kp_clientAuth, List.of());

      KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
      rsa.initialize(2048);
      KeyPair serviceAccountKeys = rsa.generateKeyPair();

      ApiServerCertificates certs = new ApiServerCertificates(dir, ca, caKeys, admin, adminKeys);
      writePem(certs.caCert(), ca);
      writePem(certs.servingCert(), serving);
      Files.writeString(certs.servingKey(), keyPem(servingKeys));
      writePem(certs.adminCert(), admin);
      Files.writeString(certs.adminKey(), keyPem(adminKeys));
      writePem(certs.serviceAccountKey(), serviceAccountKeys.getPrivate());
      return certs;
    } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
      throw new IllegalStateException("cannot generate the test cluster's certificates", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the test cluster's certificates to " + dir, e);
    }
  }

  public Path caCert() {
    return dir.resolve("ca.crt");
  }

  public Path servingCert() {
    return dir.resolve("apiserver.crt");
  }

  public Path servingKey() {
    return dir.resolve("apiserver.key");
  }

  public Path adminCert() {
    return dir.resolve("admin.crt");
  }

  public Path adminKey() {
    return dir.resolve("admin.key");
  }

  /** The key that signs (and verifies) service-account tokens. */
  public Path serviceAccountKey() {
    return dir.resolve("service-account.key");
  }

  public X509Certificate caCertificate() {
    return caCert;
  }

  public X509Certificate adminCertificate() {
    return adminCert;
  }

  /**
   * A client certificate for any user and groups, signed by the cluster CA, as PEM (cert, key): for
   * tests that check what RBAC lets a less powerful identity do.
   */
  public ClientIdentity issueClient(String user, String... groups) {
    try {
      KeyPair keys = ecKeys();
      X509Certificate cert = leaf(caCert, caKeys, keys, subject(user, groups), KeyPurposeId.id_kp_clientAuth,
          List.of());
      return new ClientIdentity(user, pem(cert), keyPem(keys));
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot issue a client certificate for " + user, e);
    }
  }

  /** A client identity as PEM text, ready for a kubeconfig. */
  public record ClientIdentity(String user, String certPem, String keyPem) {
  }

  /** PEM text of the CA certificate. */
  public String caPem() {
    try {
      return pem(caCert);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** PEM text of the admin client certificate and key. */
  public ClientIdentity admin() {
    try {
      return new ClientIdentity(ADMIN_USER, pem(adminCert), keyPem(adminKeys));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** TLS as the admin user, trusting only the cluster CA: for raw HTTPS calls such as /readyz. */
  public SSLContext adminSslContext() {
    try {
      char[] password = "unused".toCharArray();
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("admin", adminKeys.getPrivate(), password, new Certificate[] {adminCert, caCert});
      KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyManagers.init(keys, password);

      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", caCert);
      TrustManagerFactory trustManagers =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trustManagers.init(trust);

      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), RANDOM);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build the admin TLS context", e);
    }
  }

  private static String subject(String user, String... groups) {
    StringBuilder subject = new StringBuilder("CN=").append(user);
    for (String group : groups) {
      subject.append(",O=").append(group);
    }
    return subject.toString();
  }

  private static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return generator.generateKeyPair();
  }

  private static X509Certificate caCertificate(KeyPair keys)
      throws GeneralSecurityException, OperatorCreationException, CertIOException {
    X500Name name = new X500Name("CN=weft-test-cluster-ca");
    Instant now = Instant.now();
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)), name, keys.getPublic());
    JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    builder.addExtension(Extension.subjectKeyIdentifier, false,
        extensions.createSubjectKeyIdentifier(keys.getPublic()));
    return sign(builder, keys.getPrivate());
  }

  private static X509Certificate leaf(X509Certificate ca, KeyPair caKeys, KeyPair keys, String subject,
      KeyPurposeId purpose, List<GeneralName> names)
      throws GeneralSecurityException, OperatorCreationException, CertIOException {
    Instant now = Instant.now();
    // Backdated an hour so that a clock a little behind does not see a not-yet-valid cert.
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, serial(),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)), new X500Name(subject),
        keys.getPublic());
    JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
    builder.addExtension(Extension.authorityKeyIdentifier, false,
        extensions.createAuthorityKeyIdentifier(ca.getPublicKey()));
    if (!names.isEmpty()) {
      builder.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(names.toArray(GeneralName[]::new)));
    }
    return sign(builder, caKeys.getPrivate());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
      throws GeneralSecurityException, OperatorCreationException {
    return new JcaX509CertificateConverter()
        .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
  }

  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }

  private static void writePem(Path file, Object object) throws IOException {
    Files.writeString(file, pem(object));
  }

  private static String pem(Object object) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writer.writeObject(object);
    }
    return text.toString();
  }

  /**
   * An EC key as SEC1 "EC PRIVATE KEY" with its curve and public key inside: Go (apiserver,
   * kubectl) and fabric8 both read that form without a hint, but neither reads the bare SEC1
   * structure that a JDK key's PKCS#8 encoding wraps, which has no curve.
   */
  private static String keyPem(KeyPair keys) throws IOException {
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
    org.bouncycastle.asn1.sec.ECPrivateKey bare =
        org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
    SubjectPublicKeyInfo publicKey = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
    org.bouncycastle.asn1.sec.ECPrivateKey complete = new org.bouncycastle.asn1.sec.ECPrivateKey(256,
        bare.getKey(), publicKey.getPublicKeyData(), info.getPrivateKeyAlgorithm().getParameters());
    StringWriter text = new StringWriter();
    try (PemWriter writer = new PemWriter(text)) {
      writer.writeObject(new PemObject("EC PRIVATE KEY", complete.getEncoded()));
    }
    return text.toString();
  }
}
