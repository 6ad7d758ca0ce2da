package dev.weft.operator.certificates;

import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.identity.RenewalSchedule;
import dev.weft.operator.identity.TrustBundle;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The workload certificate Secret: one per meshed ServiceAccount, in its namespace, named
 * {@code weft-identity-<serviceAccount>}, type {@code kubernetes.io/tls} with {@code tls.crt} (the
 * leaf), {@code tls.key} and {@code ca.crt} (the trust bundle), which is what the sidecar mounts
 * for file-based SDS. The label {@value #LABEL}={@value #LABEL_VALUE} marks the Secrets the
 * operator owns (and may delete); the annotations repeat what the certificate says, for people.
 */
public final class WorkloadSecrets {

  public static final String NAME_PREFIX = "weft-identity-";
  public static final String LABEL = "weft.dev/identity";
  public static final String LABEL_VALUE = "workload";
  public static final String SERVICE_ACCOUNT = "weft.dev/service-account";
  public static final String SPIFFE_ID = "weft.dev/spiffe-id";
  public static final String NOT_AFTER = "weft.dev/not-after";
  public static final String RENEW_AT = "weft.dev/renew-at";
  public static final String CERT = "tls.crt";
  public static final String KEY = "tls.key";
  public static final String BUNDLE = "ca.crt";

  private static final int MAX_NAME = 253;

  private WorkloadSecrets() {}

  /** The Secret's name for {@code serviceAccount}; shortened with a hash when too long for a name. */
  public static String name(String serviceAccount) {
    return name(NAME_PREFIX, serviceAccount);
  }

  /** {@code prefix + serviceAccount}, shortened with a hash when too long for a name. */
  static String name(String prefix, String serviceAccount) {
    String name = prefix + serviceAccount;
    if (name.length() <= MAX_NAME) {
      return name;
    }
    String hash = sha256(serviceAccount).substring(0, 10);
    return name.substring(0, MAX_NAME - hash.length() - 1) + "-" + hash;
  }

  public static Secret build(ServiceAccountRef account, CertifiedKey leaf, TrustBundle bundle) {
    return build(account, leaf.info(), leaf.certificatePem(), leaf.privateKeyPem(), bundle.pem(),
        RenewalSchedule.renewAt(leaf.info()));
  }

  /**
   * The Secret for {@code account} from PEM text ({@code certificatePem} may hold the leaf's chain
   * after it), {@code info} being the leaf's and {@code renewAt} when it is due to be replaced.
   */
  static Secret build(ServiceAccountRef account, CertificateInfo info, String certificatePem, String privateKeyPem,
      String bundlePem, Instant renewAt) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(SERVICE_ACCOUNT, account.name());
    info.spiffeId().ifPresent(id -> annotations.put(SPIFFE_ID, id));
    annotations.put(NOT_AFTER, info.notAfter().toString());
    annotations.put(RENEW_AT, renewAt.toString());
    return new SecretBuilder()
        .withNewMetadata().withNamespace(account.namespace()).withName(name(account.name()))
        .withLabels(Map.of(LABEL, LABEL_VALUE, "app.kubernetes.io/managed-by", "weft-operator"))
        .withAnnotations(annotations)
        .endMetadata()
        .withType("kubernetes.io/tls")
        .withData(Map.of(CERT, CaSecrets.base64(certificatePem), KEY, CaSecrets.base64(privateKeyPem),
            BUNDLE, CaSecrets.base64(bundlePem)))
        .build();
  }

  /** What a stored Secret holds, read from its certificate; an unreadable one says why. */
  public static StoredCertificate read(Secret secret) {
    String namespace = secret.getMetadata().getNamespace();
    String name = secret.getMetadata().getName();
    Map<String, String> annotations = secret.getMetadata().getAnnotations() == null ? Map.of()
        : secret.getMetadata().getAnnotations();
    String account = annotations.get(SERVICE_ACCOUNT);
    Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
    Optional<CertificateInfo> leaf = Optional.empty();
    Set<String> bundle = Set.of();
    String problem = null;
    try {
      if (!data.containsKey(CERT) || !data.containsKey(KEY) || !data.containsKey(BUNDLE)) {
        throw new IllegalArgumentException("it lacks one of " + CERT + ", " + KEY + ", " + BUNDLE);
      }
      leaf = Optional.of(CertificateInfo.ofPem(CaSecrets.decode(data.get(CERT))));
      bundle = TrustBundle.fromPem(CaSecrets.decode(data.get(BUNDLE))).fingerprints();
    } catch (IllegalArgumentException e) {
      problem = e.getMessage();
    }
    return new StoredCertificate(namespace, name, Optional.ofNullable(account), leaf, bundle,
        Optional.ofNullable(problem));
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
