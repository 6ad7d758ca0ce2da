package dev.weft.operator.certificates;

import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.RenewalSchedule;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * A workload certificate Secret as found: where it is, the ServiceAccount it was written for, its
 * leaf certificate and the fingerprints of its trust bundle, or why it could not be read.
 */
public record StoredCertificate(String namespace, String secret, Optional<String> serviceAccount,
    Optional<CertificateInfo> leaf, Set<String> bundle, Optional<String> problem) {

  public StoredCertificate {
    bundle = Set.copyOf(bundle);
  }

  public Optional<ServiceAccountRef> account() {
    return serviceAccount.map(sa -> new ServiceAccountRef(namespace, sa));
  }

  public Optional<Instant> renewAt() {
    return leaf.map(RenewalSchedule::renewAt);
  }

  public Optional<Instant> notAfter() {
    return leaf.map(CertificateInfo::notAfter);
  }
}
