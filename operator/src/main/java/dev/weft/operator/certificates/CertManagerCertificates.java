package dev.weft.operator.certificates;

import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.operator.identity.TrustBundle;
import dev.weft.operator.identity.WorkloadIdentity;
import io.fabric8.certmanager.api.model.v1.Certificate;
import io.fabric8.certmanager.api.model.v1.CertificateBuilder;
import io.fabric8.certmanager.api.model.v1.CertificateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cert-manager side of workload certificates, pure: the {@code Certificate} the operator wants
 * for a meshed ServiceAccount, and the workload Secret ({@link WorkloadSecrets}' layout, what the
 * sidecar mounts) made from the Secret cert-manager wrote for it, or why that Secret cannot be used
 * yet. cert-manager writes into its own Secret ({@code weft-issued-<sa>}), never into the mounted
 * one, so that a half-written or wrong certificate never reaches a sidecar: the operator checks the
 * SPIFFE ID, the key and the bundle first and copies only what passes.
 */
public final class CertManagerCertificates {

  /** The label on the Secrets cert-manager writes for the operator (through the Certificate's secretTemplate). */
  public static final String ISSUED_LABEL_VALUE = "cert-manager";
  public static final String ISSUED_PREFIX = "weft-issued-";
  /** cert-manager's own annotation on the Secrets it writes: the Certificate they belong to. */
  static final String CERTIFICATE_NAME = "cert-manager.io/certificate-name";

  private CertManagerCertificates() {}

  /** The Certificate's name: the same as the workload Secret's ({@code weft-identity-<sa>}). */
  public static String certificateName(String serviceAccount) {
    return WorkloadSecrets.name(serviceAccount);
  }

  /** The Secret cert-manager writes for {@code serviceAccount}. */
  public static String issuedSecretName(String serviceAccount) {
    return WorkloadSecrets.name(ISSUED_PREFIX, serviceAccount);
  }

  /**
   * The Certificate for {@code account}: the SPIFFE ID as the only URI SAN ({@code dnsNames} too,
   * for the xds-server), the identity settings' lifetime and key type, renewed with a third of its
   * life left (cert-manager has no jitter of its own), a new key every time.
   */
  public static Certificate desired(ServiceAccountRef account, List<String> dnsNames, IdentitySettings identity,
      CertManagerIssuer issuer) {
    Duration lifetime = identity.certificateLifetime();
    boolean rsa = identity.keyAlgorithm() == KeyAlgorithm.RSA_2048;
    return new CertificateBuilder()
        .withNewMetadata().withNamespace(account.namespace()).withName(certificateName(account.name()))
        .withLabels(Map.of(WorkloadSecrets.LABEL, WorkloadSecrets.LABEL_VALUE,
            "app.kubernetes.io/managed-by", "weft-operator"))
        .withAnnotations(Map.of(WorkloadSecrets.SERVICE_ACCOUNT, account.name()))
        .endMetadata()
        .withNewSpec()
        .withSecretName(issuedSecretName(account.name()))
        .withNewSecretTemplate()
        .withLabels(Map.of(WorkloadSecrets.LABEL, ISSUED_LABEL_VALUE, "app.kubernetes.io/managed-by", "weft-operator"))
        .withAnnotations(Map.of(WorkloadSecrets.SERVICE_ACCOUNT, account.name()))
        .endSecretTemplate()
        .withUris(identity.identity(account.namespace(), account.name()).spiffeId())
        .withDnsNames(dnsNames.isEmpty() ? null : List.copyOf(dnsNames))
        .withDuration(new io.fabric8.kubernetes.api.model.Duration(lifetime))
        .withRenewBefore(new io.fabric8.kubernetes.api.model.Duration(lifetime.dividedBy(3)))
        .withNewPrivateKey()
        .withAlgorithm(rsa ? "RSA" : "ECDSA").withSize(rsa ? 2048 : 256)
        .withEncoding("PKCS8").withRotationPolicy("Always")
        .endPrivateKey()
        .withUsages("digital signature", "server auth", "client auth")
        .withNewIssuerRef().withName(issuer.name()).withKind(issuer.kind()).withGroup(issuer.group()).endIssuerRef()
        .endSpec()
        .build();
  }

  /** Whether {@code found}'s spec says what {@code desired}'s does (else the operator updates it). */
  public static boolean sameSpec(Certificate found, Certificate desired) {
    CertificateSpec spec = found.getSpec();
    return spec != null && spec.equals(desired.getSpec());
  }

  /** What the Secret cert-manager wrote gives: a workload Secret, or why not yet. */
  public sealed interface Consumed {
    /** The workload Secret to store, and the leaf it carries. */
    record Usable(Secret secret, CertificateInfo leaf) implements Consumed {}

    /** Not usable; {@code reason} says why (logged, and the old workload Secret stays). */
    record Unusable(String reason) implements Consumed {}
  }

  /**
   * The workload Secret for {@code account} from {@code issued}, cert-manager's Secret: its
   * {@code tls.crt} (the leaf, then any intermediates), {@code tls.key} and {@code ca.crt} (the
   * issuer's CA, the peers' trust bundle). Refused when a key is missing, the leaf is not for
   * {@code expected} (cert-manager has not caught up with a changed Certificate yet) or it expired.
   */
  public static Consumed consume(ServiceAccountRef account, WorkloadIdentity expected, Secret issued,
      Duration renewBefore, Instant now) {
    Map<String, String> data = issued.getData() == null ? Map.of() : issued.getData();
    for (String key : List.of(WorkloadSecrets.CERT, WorkloadSecrets.KEY, WorkloadSecrets.BUNDLE)) {
      if (data.get(key) == null || data.get(key).isEmpty()) {
        return new Consumed.Unusable("it has no " + key + (key.equals(WorkloadSecrets.BUNDLE)
            ? " (the issuer must publish its CA; cert-manager's CA issuer does)" : ""));
      }
    }
    try {
      String certificatePem = CaSecrets.decode(data.get(WorkloadSecrets.CERT));
      String bundlePem = CaSecrets.decode(data.get(WorkloadSecrets.BUNDLE));
      CertificateInfo leaf = CertificateInfo.ofPem(certificatePem);
      TrustBundle.fromPem(bundlePem);
      Optional<String> mismatch = leaf.mismatch(expected);
      if (mismatch.isPresent()) {
        return new Consumed.Unusable(mismatch.get());
      }
      if (leaf.expiredAt(now)) {
        return new Consumed.Unusable("its certificate expired at " + leaf.notAfter());
      }
      Instant renewAt = leaf.notAfter().minus(renewBefore);
      return new Consumed.Usable(WorkloadSecrets.build(account, leaf, certificatePem,
          CaSecrets.decode(data.get(WorkloadSecrets.KEY)), bundlePem, renewAt), leaf);
    } catch (IllegalArgumentException e) {
      return new Consumed.Unusable("it cannot be read: " + e.getMessage());
    }
  }

  /** Whether {@code stored} already holds what {@code wanted} does (then nothing is written). */
  public static boolean sameContent(Secret stored, Secret wanted) {
    return stored != null && stored.getData() != null && stored.getData().equals(wanted.getData())
        && new LinkedHashMap<>(Optional.ofNullable(stored.getMetadata().getLabels()).orElse(Map.of()))
            .equals(new LinkedHashMap<>(wanted.getMetadata().getLabels()));
  }
}
