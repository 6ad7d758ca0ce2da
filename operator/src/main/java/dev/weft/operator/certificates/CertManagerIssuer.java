package dev.weft.operator.certificates;

import java.util.Map;
import java.util.Optional;

/**
 * The cert-manager issuer that signs workload certificates instead of the operator's own CA: the
 * {@code issuerRef} of every {@code Certificate} the operator creates. A {@code ClusterIssuer}
 * (the default kind) serves every namespace; an {@code Issuer} must exist, under this name, in
 * every namespace with meshed workloads (and in the operator's, for the xds-server's certificate).
 */
public record CertManagerIssuer(String name, String kind, String group) {

  public static final String DEFAULT_KIND = "ClusterIssuer";
  public static final String DEFAULT_GROUP = "cert-manager.io";

  public CertManagerIssuer {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("the cert-manager issuer needs a name (identity.certManager.issuerRef.name)");
    }
    name = name.strip();
    kind = kind == null || kind.isBlank() ? DEFAULT_KIND : kind.strip();
    group = group == null || group.isBlank() ? DEFAULT_GROUP : group.strip();
    if (DEFAULT_GROUP.equals(group) && !kind.equals("Issuer") && !kind.equals("ClusterIssuer")) {
      throw new IllegalArgumentException("identity.certManager.issuerRef.kind: cert-manager.io has kinds Issuer and "
          + "ClusterIssuer, not " + kind);
    }
  }

  /** {@code kind/name}, as log lines and status messages name it. */
  public String describe() {
    return kind + "/" + name + (DEFAULT_GROUP.equals(group) ? "" : " (" + group + ")");
  }

  /**
   * From {@code WEFT_CERT_MANAGER_ISSUER} (unset or empty: the operator's own CA),
   * {@code WEFT_CERT_MANAGER_ISSUER_KIND} (default {@value #DEFAULT_KIND}) and
   * {@code WEFT_CERT_MANAGER_ISSUER_GROUP} (default {@value #DEFAULT_GROUP}, other groups are
   * external issuers).
   */
  public static Optional<CertManagerIssuer> fromEnvironment(Map<String, String> env) {
    String name = env.getOrDefault("WEFT_CERT_MANAGER_ISSUER", "");
    if (name.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(new CertManagerIssuer(name, env.get("WEFT_CERT_MANAGER_ISSUER_KIND"),
        env.get("WEFT_CERT_MANAGER_ISSUER_GROUP")));
  }
}
