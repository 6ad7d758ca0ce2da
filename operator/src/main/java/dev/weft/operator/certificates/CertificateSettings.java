package dev.weft.operator.certificates;

import dev.weft.api.v1alpha1.ApiDuration;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How the operator runs the mesh CA: the identity settings (trust domain, lifetimes, key type),
 * the CA Secret's name in the operator's namespace, whether the operator creates a self-signed
 * root there when it is missing (else the user brings the Secret), and how often it re-checks
 * every certificate even without an event. {@code xdsServiceAccount}, when not empty, is the
 * xds-server's ServiceAccount in the operator's namespace: it gets a certificate like a meshed
 * workload's (the ADS port's serving certificate, which sidecars verify by its SPIFFE ID), whether
 * or not a meshed pod runs as it. {@code xdsService}, when not empty, is the name of the
 * xds-server's Service in that namespace: its DNS names (see {@link #xdsDnsNames}) go into that
 * certificate next to the SPIFFE ID, so that a client dialling the Service by name can verify it
 * by host name too; {@code clusterDomain} is the cluster's DNS suffix ({@code cluster.local}).
 */
public record CertificateSettings(IdentitySettings identity, String caSecret, boolean createCa, Duration resync,
    Duration rootOverlap, String xdsServiceAccount, String xdsService, String clusterDomain,
    Optional<CertManagerIssuer> certManager) {

  public static final String DEFAULT_CLUSTER_DOMAIN = "cluster.local";

  public static final String DEFAULT_CA_SECRET = "weft-ca";
  public static final Duration DEFAULT_RESYNC = Duration.ofMinutes(1);
  /**
   * How long each step of a root rotation waits for the previous one to reach every sidecar: the
   * kubelet refreshes a mounted Secret within a minute or two; an hour leaves room for a slow node.
   */
  public static final Duration DEFAULT_ROOT_OVERLAP = Duration.ofHours(1);

  public CertificateSettings {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(caSecret, "caSecret");
    Objects.requireNonNull(resync, "resync");
    Objects.requireNonNull(rootOverlap, "rootOverlap");
    xdsServiceAccount = xdsServiceAccount == null ? "" : xdsServiceAccount.strip();
    xdsService = xdsService == null ? "" : xdsService.strip();
    clusterDomain = clusterDomain == null || clusterDomain.isBlank() ? DEFAULT_CLUSTER_DOMAIN
        : clusterDomain.strip().replaceAll("\\.+$", "");
    certManager = certManager == null ? Optional.empty() : certManager;
  }

  /** Issued by the operator's own CA. */
  public CertificateSettings(IdentitySettings identity, String caSecret, boolean createCa, Duration resync,
      Duration rootOverlap, String xdsServiceAccount, String xdsService, String clusterDomain) {
    this(identity, caSecret, createCa, resync, rootOverlap, xdsServiceAccount, xdsService, clusterDomain,
        Optional.empty());
  }

  /** The same, issued through the cert-manager issuer {@code issuer} instead of the operator's CA. */
  public CertificateSettings withCertManager(CertManagerIssuer issuer) {
    return new CertificateSettings(identity, caSecret, createCa, resync, rootOverlap, xdsServiceAccount, xdsService,
        clusterDomain, Optional.of(issuer));
  }

  /** The xds-server's ServiceAccount, without DNS names. */
  public CertificateSettings(IdentitySettings identity, String caSecret, boolean createCa, Duration resync,
      Duration rootOverlap, String xdsServiceAccount) {
    this(identity, caSecret, createCa, resync, rootOverlap, xdsServiceAccount, "", DEFAULT_CLUSTER_DOMAIN);
  }

  /** No certificate for the xds-server. */
  public CertificateSettings(IdentitySettings identity, String caSecret, boolean createCa, Duration resync,
      Duration rootOverlap) {
    this(identity, caSecret, createCa, resync, rootOverlap, "");
  }

  /** With the default rotation overlap. */
  public CertificateSettings(IdentitySettings identity, String caSecret, boolean createCa, Duration resync) {
    this(identity, caSecret, createCa, resync, DEFAULT_ROOT_OVERLAP);
  }

  /** The same, also issuing the certificate of the xds-server's ServiceAccount {@code account} (empty: none). */
  public CertificateSettings withXdsServiceAccount(String account) {
    return new CertificateSettings(identity, caSecret, createCa, resync, rootOverlap, account, xdsService,
        clusterDomain, certManager);
  }

  /**
   * The same, with the DNS names of the Service {@code service} (empty: none) in the cluster
   * domain {@code domain} in the xds-server's certificate.
   */
  public CertificateSettings withXdsService(String service, String domain) {
    return new CertificateSettings(identity, caSecret, createCa, resync, rootOverlap, xdsServiceAccount, service,
        domain, certManager);
  }

  /**
   * The DNS SANs of the xds-server's certificate when its Service lives in {@code namespace}: the
   * four names a pod can dial it by ({@code <svc>}, {@code <svc>.<ns>}, {@code <svc>.<ns>.svc},
   * {@code <svc>.<ns>.svc.<clusterDomain>}); none without a Service or without the ServiceAccount.
   */
  public List<String> xdsDnsNames(String namespace) {
    if (xdsService.isEmpty() || xdsServiceAccount.isEmpty()) {
      return List.of();
    }
    return List.of(xdsService, xdsService + "." + namespace, xdsService + "." + namespace + ".svc",
        xdsService + "." + namespace + ".svc." + clusterDomain);
  }

  public static CertificateSettings defaults() {
    return new CertificateSettings(IdentitySettings.defaults(), DEFAULT_CA_SECRET, true, DEFAULT_RESYNC);
  }

  public CertificateSettings withIdentity(IdentitySettings newIdentity) {
    return new CertificateSettings(newIdentity, caSecret, createCa, resync, rootOverlap, xdsServiceAccount, xdsService,
        clusterDomain, certManager);
  }

  public CertificateSettings withResync(Duration newResync) {
    return new CertificateSettings(identity, caSecret, createCa, newResync, rootOverlap, xdsServiceAccount, xdsService,
        clusterDomain, certManager);
  }

  public CertificateSettings withRootOverlap(Duration overlap) {
    return new CertificateSettings(identity, caSecret, createCa, resync, overlap, xdsServiceAccount, xdsService,
        clusterDomain, certManager);
  }

  /**
   * From the environment the chart sets: {@code WEFT_CERTIFICATES} ({@code false}: no CA, no
   * certificates), {@code WEFT_TRUST_DOMAIN}, {@code WEFT_ROOT_LIFETIME} and
   * {@code WEFT_CERT_LIFETIME} (durations such as 8760h, 24h), {@code WEFT_KEY_ALGORITHM}
   * ({@code ecdsa-p256} or {@code rsa-2048}), {@code WEFT_CA_SECRET} and {@code WEFT_CA_CREATE}
   * ({@code false}: bring your own root in that Secret) and {@code WEFT_ROOT_OVERLAP} (how long
   * each step of an automatic rotation of the self-signed root waits; default 1h) and
   * {@code WEFT_XDS_SERVICE_ACCOUNT} (the xds-server's ServiceAccount, whose certificate the
   * operator keeps in its own namespace; unset: none), {@code WEFT_XDS_SERVICE} (the xds-server's
   * Service, whose DNS names that certificate also carries; unset: none) and
   * {@code WEFT_CLUSTER_DOMAIN} (default {@code cluster.local}); {@code WEFT_CERT_MANAGER_ISSUER}
   * and its {@code _KIND} and {@code _GROUP} issue through cert-manager ({@link CertManagerIssuer}).
   */
  public static Optional<CertificateSettings> fromEnvironment(Map<String, String> env) {
    if ("false".equalsIgnoreCase(env.getOrDefault("WEFT_CERTIFICATES", "true").strip())) {
      return Optional.empty();
    }
    IdentitySettings identity = new IdentitySettings(
        value(env, "WEFT_TRUST_DOMAIN", IdentitySettings.DEFAULT_TRUST_DOMAIN),
        duration(env, "WEFT_ROOT_LIFETIME", IdentitySettings.DEFAULT_ROOT_LIFETIME),
        duration(env, "WEFT_CERT_LIFETIME", IdentitySettings.DEFAULT_CERTIFICATE_LIFETIME),
        KeyAlgorithm.parse(value(env, "WEFT_KEY_ALGORITHM", "ecdsa-p256")));
    return Optional.of(new CertificateSettings(identity, value(env, "WEFT_CA_SECRET", DEFAULT_CA_SECRET),
        !"false".equalsIgnoreCase(value(env, "WEFT_CA_CREATE", "true")), DEFAULT_RESYNC,
        duration(env, "WEFT_ROOT_OVERLAP", DEFAULT_ROOT_OVERLAP), env.getOrDefault("WEFT_XDS_SERVICE_ACCOUNT", ""),
        env.getOrDefault("WEFT_XDS_SERVICE", ""), env.getOrDefault("WEFT_CLUSTER_DOMAIN", DEFAULT_CLUSTER_DOMAIN),
        CertManagerIssuer.fromEnvironment(env)));
  }

  private static String value(Map<String, String> env, String key, String fallback) {
    String value = env.get(key);
    return value == null || value.isBlank() ? fallback : value.strip();
  }

  private static Duration duration(Map<String, String> env, String key, Duration fallback) {
    String value = env.get(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return ApiDuration.parse(value.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
    }
  }
}
