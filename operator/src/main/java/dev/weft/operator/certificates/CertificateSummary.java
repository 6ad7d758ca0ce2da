package dev.weft.operator.certificates;

import dev.weft.operator.identity.CertificateInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The workload certificates as MeshStatus reports them: how many are issued, which expire soon (a
 * renewal that should have happened did not: less than a fifth of the certificate's life is left,
 * where a healthy one is renewed with about a third left), the earliest expiry, and whether the CA
 * itself is usable. Pure, from the Secrets found and the time.
 */
public record CertificateSummary(int issued, List<Entry> expiring, Optional<Instant> nextExpiry,
    Optional<String> caProblem, Optional<String> caSubject, Optional<Instant> caExpiry) {

  /** A certificate that needs attention. */
  public record Entry(String namespace, String serviceAccount, String secret, String spiffeId, Instant notAfter,
      boolean expired) {}

  /** Below this share of its life left, a certificate counts as expiring. */
  static final double EXPIRING_SHARE = 0.2;

  public CertificateSummary {
    expiring = List.copyOf(expiring);
  }

  /** A report while the CA cannot be used: nothing can be issued until {@code problem} is fixed. */
  public static CertificateSummary caUnavailable(String problem, Collection<StoredCertificate> stored, Instant now) {
    CertificateSummary found = of(stored, null, now);
    return new CertificateSummary(found.issued(), found.expiring(), found.nextExpiry(), Optional.of(problem),
        Optional.empty(), Optional.empty());
  }

  public static CertificateSummary of(Collection<StoredCertificate> stored, MeshCa ca, Instant now) {
    int issued = 0;
    Instant next = null;
    List<Entry> expiring = new ArrayList<>();
    for (StoredCertificate secret : stored) {
      if (secret.leaf().isEmpty()) {
        continue;
      }
      CertificateInfo leaf = secret.leaf().get();
      issued++;
      next = next == null || leaf.notAfter().isBefore(next) ? leaf.notAfter() : next;
      Duration life = Duration.between(leaf.notBefore(), leaf.notAfter());
      Duration left = Duration.between(now, leaf.notAfter());
      if (left.toMillis() < life.toMillis() * EXPIRING_SHARE) {
        expiring.add(new Entry(secret.namespace(), secret.serviceAccount().orElse(""), secret.secret(),
            leaf.spiffeId().orElse(""), leaf.notAfter(), leaf.expiredAt(now)));
      }
    }
    expiring.sort(Comparator.comparing(Entry::notAfter).thenComparing(Entry::namespace).thenComparing(Entry::secret));
    return new CertificateSummary(issued, expiring, Optional.ofNullable(next), Optional.empty(),
        Optional.ofNullable(ca).map(c -> c.root().subject()), Optional.ofNullable(ca).map(c -> c.root().notAfter()));
  }
}
