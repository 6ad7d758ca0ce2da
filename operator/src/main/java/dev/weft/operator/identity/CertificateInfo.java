package dev.weft.operator.identity;

import java.io.IOException;
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
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;

/**
 * What the operator needs to know about a certificate, read from the certificate itself: its URI
 * SANs (the SPIFFE IDs), its DNS SANs (only the xds-server's has any), validity, serial, issuer and SHA-256 fingerprint. Reading these from the
 * stored PEM, not from annotations, is what lets renewal and MeshStatus trust them.
 */
public record CertificateInfo(List<String> uris, Instant notBefore, Instant notAfter, String serial, String subject,
    String issuer, String fingerprint, boolean ca, String subjectKeyId, String authorityKeyId,
    List<String> dnsNames) {

  /** GeneralName tags of a DNS name and a URI in subjectAltName (RFC 5280). */
  private static final int DNS_NAME = 2;
  private static final int URI_NAME = 6;

  public CertificateInfo {
    uris = List.copyOf(uris);
    dnsNames = List.copyOf(dnsNames);
  }

  /** Without DNS SANs. */
  public CertificateInfo(List<String> uris, Instant notBefore, Instant notAfter, String serial, String subject,
      String issuer, String fingerprint, boolean ca, String subjectKeyId, String authorityKeyId) {
    this(uris, notBefore, notAfter, serial, subject, issuer, fingerprint, ca, subjectKeyId, authorityKeyId, List.of());
  }

  public static CertificateInfo of(X509Certificate certificate) {
    return new CertificateInfo(names(certificate, URI_NAME), certificate.getNotBefore().toInstant(),
        certificate.getNotAfter().toInstant(), certificate.getSerialNumber().toString(16),
        certificate.getSubjectX500Principal().getName(), certificate.getIssuerX500Principal().getName(),
        fingerprint(certificate), certificate.getBasicConstraints() >= 0, subjectKeyId(certificate),
        authorityKeyId(certificate), names(certificate, DNS_NAME));
  }

  /** An info without key identifiers, for tests of what only needs names and times. */
  public CertificateInfo(List<String> uris, Instant notBefore, Instant notAfter, String serial, String subject,
      String issuer, String fingerprint, boolean ca) {
    this(uris, notBefore, notAfter, serial, subject, issuer, fingerprint, ca, "", "");
  }

  /**
   * Whether {@code root} signed this certificate, judged by key identifiers (the leaf's authority
   * key id is the root's subject key id) or, where either is missing, by the issuer's name. It is
   * how a certificate from a root that no longer signs is found without checking signatures.
   */
  public boolean issuedBy(CertificateInfo root) {
    if (!authorityKeyId.isEmpty() && !root.subjectKeyId().isEmpty()) {
      return authorityKeyId.equals(root.subjectKeyId());
    }
    return issuer.equals(root.subject());
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

  private static List<String> names(X509Certificate certificate, int kind) {
    List<String> uris = new ArrayList<>();
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      if (names != null) {
        for (List<?> name : names) {
          if (name.size() >= 2 && name.get(0) instanceof Integer tag && tag == kind) {
            uris.add(String.valueOf(name.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      throw new IllegalArgumentException("unreadable subjectAltName: " + e.getMessage(), e);
    }
    return uris;
  }

  private static String subjectKeyId(X509Certificate certificate) {
    try {
      byte[] value = certificate.getExtensionValue(Extension.subjectKeyIdentifier.getId());
      if (value != null) {
        return HexFormat.of().formatHex(
            SubjectKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(value)).getKeyIdentifier());
      }
      // What an issuer without the extension would be identified by (RFC 5280, method 1).
      return HexFormat.of().formatHex(new JcaX509ExtensionUtils()
          .createSubjectKeyIdentifier(certificate.getPublicKey()).getKeyIdentifier());
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new IllegalArgumentException("unreadable subjectKeyIdentifier: " + e.getMessage(), e);
    }
  }

  private static String authorityKeyId(X509Certificate certificate) {
    try {
      byte[] value = certificate.getExtensionValue(Extension.authorityKeyIdentifier.getId());
      if (value == null) {
        return "";
      }
      byte[] id = AuthorityKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(value))
          .getKeyIdentifier();
      return id == null ? "" : HexFormat.of().formatHex(id);
    } catch (IOException e) {
      throw new IllegalArgumentException("unreadable authorityKeyIdentifier: " + e.getMessage(), e);
    }
  }

  static String fingerprint(X509Certificate certificate) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException("cannot fingerprint a certificate", e);
    }
  }
}
