package dev.weft.operator.identity;

import java.time.Duration;
import java.util.Objects;

/**
 * How the mesh issues identities: the trust domain of every SPIFFE ID, the lifetimes of the
 * self-signed root and of workload certificates, and their key type.
 */
public record IdentitySettings(String trustDomain, Duration rootLifetime, Duration certificateLifetime,
    KeyAlgorithm keyAlgorithm) {

  public static final String DEFAULT_TRUST_DOMAIN = "cluster.local";
  public static final Duration DEFAULT_ROOT_LIFETIME = Duration.ofDays(365);
  public static final Duration DEFAULT_CERTIFICATE_LIFETIME = Duration.ofHours(24);

  public IdentitySettings {
    WorkloadIdentity.requireTrustDomain(trustDomain);
    requirePositive(rootLifetime, "rootLifetime");
    requirePositive(certificateLifetime, "certificateLifetime");
    Objects.requireNonNull(keyAlgorithm, "keyAlgorithm");
    if (certificateLifetime.compareTo(rootLifetime) >= 0) {
      throw new IllegalArgumentException("the certificate lifetime (" + certificateLifetime + ") must be shorter "
          + "than the root's (" + rootLifetime + ")");
    }
  }

  public static IdentitySettings defaults() {
    return new IdentitySettings(DEFAULT_TRUST_DOMAIN, DEFAULT_ROOT_LIFETIME, DEFAULT_CERTIFICATE_LIFETIME,
        KeyAlgorithm.ECDSA_P256);
  }

  public IdentitySettings withCertificateLifetime(Duration lifetime) {
    return new IdentitySettings(trustDomain, rootLifetime, lifetime, keyAlgorithm);
  }

  public IdentitySettings withTrustDomain(String domain) {
    return new IdentitySettings(domain, rootLifetime, certificateLifetime, keyAlgorithm);
  }

  public WorkloadIdentity identity(String namespace, String serviceAccount) {
    return new WorkloadIdentity(trustDomain, namespace, serviceAccount);
  }

  private static void requirePositive(Duration value, String what) {
    Objects.requireNonNull(value, what);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, not " + value);
    }
  }
}
