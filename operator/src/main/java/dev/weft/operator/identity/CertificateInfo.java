package dev.weft.operator.identity;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * What the operator needs to know about a certificate, read from the certificate itself: its URI
 * SANs (the SPIFFE IDs), validity, serial, issuer and SHA-256 fingerprint. Reading these from the
 * stored PEM, not from annotations, is what lets renewal and MeshStatus trust them.
 */
public record CertificateInfo(List<String> uris, Instant notBefore, Instant notAfter, String serial, String subject,
    String issuer, String fingerprint, boolean ca) {

  /** GeneralName tag of a URI in subjectAltName (RFC 5280). */
  private static final int URI_NAME = 6;

  public CertificateInfo {
    uris = List.copyOf(uris);
  }

  public static CertificateInfo of(X509Certificate certificate) {
    return new CertificateInfo(uris(certificate), certificate.getNotBefore().toInstant(),
        certificate.getNotAfter().toInstant(), certificate.getSerialNumber().toString(16),
        certificate.getSubjectX500Principal().getName(), certificate.getIssuerX500Principal().getName(),
        fingerprint(certificate), certificate.getBasicConstraints() >= 0);
  }

  /** The first certificate in {@code pem}. */
  public static CertificateInfo ofPem(String pem) {
    return of(Pem.parseCertificate(pem));
  }

  /** The one SPIFFE ID among the URI SANs, if there is exactly one (an X.509-SVID has exactly one). */
  public Optional<String> spiffeId() {
    List<String> spiffe = uris.stream().filter(u -> u.startsWith("spiffe://")).toList();
    return spiffe.size() == 1 ? Optional.of(spiffe.get(0)) : Optional.empty();
  }

  /** The workload identity the certificate names, if it has exactly one SPIFFE ID of Weft's shape. */
  public Optional<WorkloadIdentity> identity() {
    return spiffeId().flatMap(WorkloadIdentity::parse);
  }

  /**
   * Why this certificate does not speak for {@code expected}, or empty when its one SPIFFE ID is
   * exactly {@code expected}'s.
   */
  public Optional<String> mismatch(WorkloadIdentity expected) {
    Optional<String> id = spiffeId();
    if (id.isEmpty()) {
      return Optional.of("the certificate has " + uris.size() + " URI SANs " + uris
          + ", not exactly one SPIFFE ID; expected " + expected.spiffeId());
    }
    if (!id.get().equals(expected.spiffeId())) {
      return Optional.of("the certificate is for " + id.get() + ", not " + expected.spiffeId());
    }
    return Optional.empty();
  }

  public boolean expiredAt(Instant now) {
    return !now.isBefore(notAfter);
  }

  private static List<String> uris(X509Certificate certificate) {
    List<String> uris = new ArrayList<>();
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      if (names != null) {
        for (List<?> name : names) {
          if (name.size() >= 2 && name.get(0) instanceof Integer tag && tag == URI_NAME) {
            uris.add(String.valueOf(name.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      throw new IllegalArgumentException("unreadable subjectAltName: " + e.getMessage(), e);
    }
    return uris;
  }

  static String fingerprint(X509Certificate certificate) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException("cannot fingerprint a certificate", e);
    }
  }
}
