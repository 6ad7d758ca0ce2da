package dev.weft.operator.certificates;

import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.identity.Pem;
import dev.weft.operator.identity.TrustBundle;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The CA Secret's format, shared by the root the operator creates and a root the user brings:
 * {@code tls.crt} and {@code tls.key} are the signing root (what {@code kubectl create secret tls}
 * writes), and the optional {@code ca.crt} lists the roots workloads trust. The signing root is
 * always trusted; a second root in {@code ca.crt} is how a rotation keeps both trusted
 * (docs/security.md).
 */
public final class CaSecrets {

  public static final String CERT = "tls.crt";
  public static final String KEY = "tls.key";
  public static final String BUNDLE = "ca.crt";
  public static final String LABEL = "weft.dev/ca";

  private CaSecrets() {}

  /** The Secret holding {@code authority}'s root, created by the operator in its own namespace. */
  public static Secret build(String namespace, String name, CertificateAuthority authority) {
    CertifiedKey root = authority.root();
    return new SecretBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name)
        .withLabels(Map.of(LABEL, "root", "app.kubernetes.io/managed-by", "weft-operator"))
        .endMetadata()
        .withType("kubernetes.io/tls")
        .withData(Map.of(CERT, base64(root.certificatePem()), KEY, base64(root.privateKeyPem()),
            BUNDLE, base64(root.certificatePem())))
        .build();
  }

  /**
   * The CA in {@code secret}.
   *
   * @throws IllegalArgumentException naming the Secret and the key when something is missing or unreadable
   */
  public static MeshCa read(Secret secret, SecureRandom random) {
    String where = "Secret " + secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName();
    Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
    try {
      X509Certificate root = Pem.parseCertificate(text(data, CERT, where));
      CertificateAuthority authority = CertificateAuthority.of(
          new CertifiedKey(root, Pem.parsePrivateKey(text(data, KEY, where))), random);
      List<X509Certificate> roots = new ArrayList<>(List.of(root));
      if (data.containsKey(BUNDLE) && !decode(data.get(BUNDLE)).isBlank()) {
        roots.addAll(Pem.parseCertificates(decode(data.get(BUNDLE))));
      }
      return new MeshCa(authority, new TrustBundle(roots), secret.getMetadata().getNamespace() + "/"
          + secret.getMetadata().getName());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + " does not hold a usable CA: " + e.getMessage()
          + " (it needs " + CERT + " and " + KEY + ", a CA certificate and its unencrypted key in PEM)", e);
    }
  }

  private static String text(Map<String, String> data, String key, String where) {
    String value = data.get(key);
    if (value == null) {
      throw new IllegalArgumentException("key " + key + " is missing in " + where);
    }
    return decode(value);
  }

  static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }
}
