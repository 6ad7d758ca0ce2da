package dev.weft.operator.identity;

import java.security.InvalidAlgorithmParameterException;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The roots a workload trusts. Usually one; two while the root is rotated, so that certificates
 * from the old root and the new one both verify and no connection breaks in between.
 */
public record TrustBundle(List<X509Certificate> roots) {

  public TrustBundle {
    if (roots.isEmpty()) {
      throw new IllegalArgumentException("a trust bundle holds at least one root");
    }
    // One copy of each root, first occurrence first: the signing root leads.
    Set<String> seen = new HashSet<>();
    List<X509Certificate> unique = new ArrayList<>();
    for (X509Certificate root : roots) {
      if (seen.add(CertificateInfo.fingerprint(root))) {
        unique.add(root);
      }
    }
    roots = List.copyOf(unique);
  }

  public static TrustBundle of(X509Certificate... roots) {
    return new TrustBundle(List.of(roots));
  }

  public static TrustBundle fromPem(String pem) {
    return new TrustBundle(Pem.parseCertificates(pem));
  }

  public String pem() {
    return Pem.certificates(roots);
  }

  /** This bundle and {@code more} roots after it. */
  public TrustBundle with(List<X509Certificate> more) {
    List<X509Certificate> all = new ArrayList<>(roots);
    all.addAll(more);
    return new TrustBundle(all);
  }

  /** The roots' fingerprints, to tell whether a stored bundle is the current one. */
  public Set<String> fingerprints() {
    Set<String> fingerprints = new LinkedHashSet<>();
    roots.forEach(r -> fingerprints.add(CertificateInfo.fingerprint(r)));
    return fingerprints;
  }

  /**
   * Why {@code chain} (leaf first, then any intermediates) does not verify against these roots at
   * {@code at}, or empty when it does: signature, validity and CA constraints, as a TLS peer checks
   * them. Identity (the SPIFFE ID) is a separate check, {@link CertificateInfo#mismatch}.
   */
  public Optional<String> verify(List<X509Certificate> chain, Instant at) {
    try {
      Set<TrustAnchor> anchors = new HashSet<>();
      roots.forEach(r -> anchors.add(new TrustAnchor(r, null)));
      PKIXParameters parameters = new PKIXParameters(anchors);
      parameters.setRevocationEnabled(false);
      parameters.setDate(Date.from(at));
      CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), parameters);
      return Optional.empty();
    } catch (CertPathValidatorException e) {
      return Optional.of(reason(e));
    } catch (CertificateException | InvalidAlgorithmParameterException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot verify a certificate chain", e);
    }
  }

  private static String reason(CertPathValidatorException e) {
    if (e.getReason() == CertPathValidatorException.BasicReason.EXPIRED) {
      return "the certificate has expired (" + e.getMessage() + ")";
    }
    if (e.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
      return "the certificate is not valid yet (" + e.getMessage() + ")";
    }
    return e.getMessage() == null ? e.getReason().toString() : e.getMessage();
  }

  public Optional<String> verify(X509Certificate leaf, Instant at) {
    return verify(List.of(leaf), at);
  }
}
