package dev.weft.operator.identity;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Who a workload is in the mesh: its ServiceAccount in its namespace, under a trust domain. Its
 * SPIFFE ID {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>} is the URI SAN of
 * the workload's certificate and what peers check.
 */
public record WorkloadIdentity(String trustDomain, String namespace, String serviceAccount) {

  private static final Pattern SPIFFE = Pattern.compile("spiffe://([^/]+)/ns/([^/]+)/sa/([^/]+)");
  // A DNS-like trust domain, as SPIFFE allows (lower case letters, digits, dots, dashes, underscores).
  private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]{1,255}");

  public WorkloadIdentity {
    requireTrustDomain(trustDomain);
    requireSegment(namespace, "namespace");
    requireSegment(serviceAccount, "serviceAccount");
  }

  /** Throws with a message naming the value when {@code trustDomain} is not a valid SPIFFE trust domain. */
  public static String requireTrustDomain(String trustDomain) {
    Objects.requireNonNull(trustDomain, "trustDomain");
    if (!TRUST_DOMAIN.matcher(trustDomain).matches()) {
      throw new IllegalArgumentException("trust domain '" + trustDomain + "' is not valid: use lower case letters, "
          + "digits, '.', '-' and '_' only, like cluster.local");
    }
    return trustDomain;
  }

  private static void requireSegment(String value, String what) {
    Objects.requireNonNull(value, what);
    if (value.isEmpty() || value.contains("/")) {
      throw new IllegalArgumentException(what + " '" + value + "' cannot be part of a SPIFFE ID");
    }
  }

  /** The SPIFFE ID as a string, {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}. */
  public String spiffeId() {
    return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  public URI uri() {
    return URI.create(spiffeId());
  }

  /** The identity a SPIFFE ID of Weft's shape names, or empty for any other URI. */
  public static Optional<WorkloadIdentity> parse(String spiffeId) {
    Matcher m = SPIFFE.matcher(spiffeId == null ? "" : spiffeId);
    if (!m.matches()) {
      return Optional.empty();
    }
    try {
      return Optional.of(new WorkloadIdentity(m.group(1), m.group(2), m.group(3)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  @Override
  public String toString() {
    return spiffeId();
  }
}
