package dev.weft.operator.certificates;

import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.WorkloadIdentity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What to do with workload certificates, given the meshed ServiceAccounts and the Secrets found:
 * issue where one is missing, unreadable, for another identity, from a root that no longer signs,
 * expired or due for renewal; rewrite only the bundle where the trusted roots changed; delete where
 * no meshed pod runs as the ServiceAccount any more. Pure: state and the time in, actions out.
 */
public record CertificatePlan(List<Action> actions, Optional<Instant> nextRenewal) {

  /** What is done to one Secret. */
  public enum Kind { ISSUE, UPDATE_BUNDLE, DELETE }

  /** Why, in one word: the label of the operator's certificate metrics. */
  public enum Cause {
    NEW, RENEWAL, EXPIRED, ROOT_CHANGED, INVALID, BUNDLE_CHANGED, UNUSED;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** One action, with its cause and the reason the operator logs. */
  public record Action(Kind kind, ServiceAccountRef account, String secret, Cause cause, String reason) {}

  private record Why(Cause cause, String reason) {}

  public CertificatePlan {
    actions = List.copyOf(actions);
  }

  /**
   * The plan for {@code meshed} ServiceAccounts and the {@code stored} Secrets, with {@code root}
   * signing, {@code bundle} the fingerprints of the roots to trust and {@code trustDomain} the
   * domain of every SPIFFE ID.
   */
  public static CertificatePlan plan(Set<ServiceAccountRef> meshed, Collection<StoredCertificate> stored,
      CertificateInfo root, Set<String> bundle, String trustDomain, Instant now) {
    return plan(meshed, Map.of(), stored, root, bundle, trustDomain, now);
  }

  /**
   * The same, where the certificate of each ServiceAccount in {@code dnsNames} must carry exactly
   * those DNS SANs (the xds-server's: its Service's names), and every other one none; a certificate
   * whose DNS names differ is issued again (the Service was renamed, or the certificate predates
   * the names).
   */
  public static CertificatePlan plan(Set<ServiceAccountRef> meshed, Map<ServiceAccountRef, List<String>> dnsNames,
      Collection<StoredCertificate> stored, CertificateInfo root, Set<String> bundle, String trustDomain,
      Instant now) {
    Map<ServiceAccountRef, StoredCertificate> byAccount = new HashMap<>();
    List<Action> actions = new ArrayList<>();
    for (StoredCertificate secret : stored) {
      Optional<ServiceAccountRef> account = secret.account();
      boolean wanted = account.isPresent() && meshed.contains(account.get())
          && WorkloadSecrets.name(account.get().name()).equals(secret.secret());
      if (wanted) {
        byAccount.put(account.get(), secret);
      } else {
        ServiceAccountRef who = account.orElse(new ServiceAccountRef(secret.namespace(), "?"));
        actions.add(new Action(Kind.DELETE, who, secret.secret(), Cause.UNUSED,
            "no meshed pod runs as ServiceAccount " + who + " any more"));
      }
    }
    Instant next = null;
    for (ServiceAccountRef account : new TreeSet<>(meshed)) {
      String name = WorkloadSecrets.name(account.name());
      StoredCertificate secret = byAccount.get(account);
      Optional<Why> reissue = reissueReason(secret, new WorkloadIdentity(trustDomain, account.namespace(),
          account.name()), dnsNames.getOrDefault(account, List.of()), root, now);
      if (reissue.isPresent()) {
        actions.add(new Action(Kind.ISSUE, account, name, reissue.get().cause(), reissue.get().reason()));
        continue;
      }
      if (!secret.bundle().equals(bundle)) {
        actions.add(new Action(Kind.UPDATE_BUNDLE, account, name, Cause.BUNDLE_CHANGED, "the trusted roots changed"));
      }
      Instant renewAt = secret.renewAt().orElseThrow();
      next = next == null || renewAt.isBefore(next) ? renewAt : next;
    }
    actions.sort(java.util.Comparator.comparing(Action::kind).thenComparing(Action::account));
    return new CertificatePlan(actions, Optional.ofNullable(next));
  }

  private static Optional<Why> reissueReason(StoredCertificate secret, WorkloadIdentity identity,
      List<String> dnsNames, CertificateInfo root, Instant now) {
    if (secret == null) {
      return Optional.of(new Why(Cause.NEW, "no certificate yet"));
    }
    if (secret.problem().isPresent() || secret.leaf().isEmpty()) {
      return Optional.of(new Why(Cause.INVALID,
          "the stored certificate cannot be read: " + secret.problem().orElse("no certificate")));
    }
    CertificateInfo leaf = secret.leaf().get();
    Optional<String> mismatch = leaf.mismatch(identity);
    if (mismatch.isPresent()) {
      return Optional.of(new Why(Cause.INVALID, mismatch.get()));
    }
    if (!Set.copyOf(leaf.dnsNames()).equals(Set.copyOf(dnsNames))) {
      return Optional.of(new Why(Cause.INVALID, "its DNS names " + leaf.dnsNames() + " are not " + dnsNames));
    }
    if (!leaf.issuedBy(root)) {
      return Optional.of(new Why(Cause.ROOT_CHANGED,
          "it was issued by " + leaf.issuer() + ", not by the signing root " + root.subject()));
    }
    if (leaf.expiredAt(now)) {
      return Optional.of(new Why(Cause.EXPIRED, "it expired at " + leaf.notAfter()));
    }
    Instant renewAt = secret.renewAt().orElseThrow();
    if (!now.isBefore(renewAt)) {
      return Optional.of(new Why(Cause.RENEWAL,
          "due for renewal since " + renewAt + " (expires " + leaf.notAfter() + ")"));
    }
    return Optional.empty();
  }
}
