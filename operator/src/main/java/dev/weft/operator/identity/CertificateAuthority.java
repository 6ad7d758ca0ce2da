package dev.weft.operator.identity;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The mesh CA: a root (self-signed, or the user's own) that signs workload certificates whose one
 * URI SAN is the workload's SPIFFE ID. Pure: the time comes in as an argument and nothing is
 * stored; keeping the root in a Secret is the operator's job.
 */
public final class CertificateAuthority {

  /**
   * Certificates start this much before "now", so a peer whose clock is a little behind accepts
   * them; at most a tenth of the lifetime, so that a certificate living seconds (tests, rotation
   * drills) is not due for renewal the moment it is issued.
   */
  static final Duration BACKDATE = Duration.ofMinutes(1);

  private final CertifiedKey root;
  private final SecureRandom random;

  private CertificateAuthority(CertifiedKey root, SecureRandom random) {
    this.root = Objects.requireNonNull(root, "root");
    this.random = Objects.requireNonNull(random, "random");
    if (root.certificate().getBasicConstraints() < 0) {
      throw new IllegalArgumentException("the CA certificate " + root.info().subject()
          + " is not a CA certificate (basicConstraints CA:TRUE is missing)");
    }
  }

  /** A CA signing with {@code root} (the one kept in the Secret, or the user's own). */
  public static CertificateAuthority of(CertifiedKey root, SecureRandom random) {
    return new CertificateAuthority(root, random);
  }

  /** A CA with a fresh self-signed root for {@code settings}' trust domain, valid for its root lifetime from {@code now}. */
  public static CertificateAuthority selfSigned(IdentitySettings settings, Instant now, SecureRandom random) {
    KeyPair keys = settings.keyAlgorithm().generate(random);
    X500Name name = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, "weft")
        .addRDN(BCStyle.CN, "weft root " + settings.trustDomain() + " " + now.getEpochSecond())
        .build();
    Instant notAfter = now.plus(settings.rootLifetime());
    Duration backdate = backdate(settings.rootLifetime());
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(random),
          Date.from(now.minus(backdate)), Date.from(notAfter), name, keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
          .addExtension(Extension.keyUsage, true,
              new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature))
          .addExtension(Extension.subjectKeyIdentifier, false,
              extensions.createSubjectKeyIdentifier(keys.getPublic()))
          // The trust domain's own SPIFFE ID, as SPIFFE recommends for a CA.
          .addExtension(Extension.subjectAlternativeName, false,
              new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier,
                  "spiffe://" + settings.trustDomain())));
      X509Certificate certificate = sign(builder, keys.getPrivate());
      return new CertificateAuthority(new CertifiedKey(certificate, keys.getPrivate()), random);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot create the mesh root certificate", e);
    }
  }

  public CertifiedKey root() {
    return root;
  }

  /**
   * A new key and certificate for {@code identity}: one URI SAN (its SPIFFE ID), for client and
   * server TLS, valid from {@code now} for {@code lifetime} but never past the root's own expiry.
   */
  public CertifiedKey issue(WorkloadIdentity identity, KeyAlgorithm algorithm, Duration lifetime, Instant now) {
    return issue(identity, List.of(), algorithm, lifetime, now);
  }

  /**
   * The same, with {@code dnsNames} as DNS SANs next to the SPIFFE ID: for a server that clients
   * reach by a Service name and verify by host name (the xds-server), not only by SPIFFE ID.
   */
  public CertifiedKey issue(WorkloadIdentity identity, List<String> dnsNames, KeyAlgorithm algorithm,
      Duration lifetime, Instant now) {
    KeyPair keys = algorithm.generate(random);
    return new CertifiedKey(sign(identity, dnsNames, keys.getPublic(), lifetime, now), keys.getPrivate());
  }

  /** A certificate for {@code identity} over someone else's public key (a CSR's, or a test's). */
  public X509Certificate sign(WorkloadIdentity identity, PublicKey publicKey, Duration lifetime, Instant now) {
    return sign(identity, List.of(), publicKey, lifetime, now);
  }

  /** The same, with {@code dnsNames} as DNS SANs after the SPIFFE ID. */
  public X509Certificate sign(WorkloadIdentity identity, List<String> dnsNames, PublicKey publicKey, Duration lifetime,
      Instant now) {
    try {
      // A workload's certificate serves both ends of mutual TLS.
      return leaf(identity.serviceAccount() + "." + identity.namespace(), publicKey, lifetime, now,
          subjectAltNames(identity, dnsNames), KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot issue a certificate for " + identity, e);
    }
  }

  /**
   * A new key and TLS server certificate for a Kubernetes-facing endpoint (the injection webhook,
   * which the kube-apiserver calls by its Service's DNS name or, in tests, by IP): those DNS and IP
   * SANs and no SPIFFE ID, serverAuth only, valid from {@code now} for {@code lifetime} but never
   * past the root's own expiry.
   */
  public CertifiedKey issueServer(String commonName, List<String> dnsNames, List<String> ipAddresses,
      KeyAlgorithm algorithm, Duration lifetime, Instant now) {
    if (dnsNames.isEmpty() && ipAddresses.isEmpty()) {
      throw new IllegalArgumentException("a server certificate needs at least one DNS name or IP address");
    }
    KeyPair keys = algorithm.generate(random);
    List<GeneralName> names = new ArrayList<>();
    dnsNames.forEach(name -> names.add(new GeneralName(GeneralName.dNSName, name)));
    ipAddresses.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
    try {
      return new CertifiedKey(leaf(commonName, keys.getPublic(), lifetime, now,
          new GeneralNames(names.toArray(GeneralName[]::new)), KeyPurposeId.id_kp_serverAuth), keys.getPrivate());
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot issue a server certificate for " + dnsNames + " " + ipAddresses, e);
    }
  }

  /**
   * A leaf certificate signed by the root: subject {@code O=weft, CN=commonName}, valid from
   * {@code now} (backdated a little for clock skew) for {@code lifetime} but never past the root's
   * own expiry, with {@code names} as its SANs and {@code purposes} as its extended key usage.
   */
  private X509Certificate leaf(String commonName, PublicKey publicKey, Duration lifetime, Instant now,
      GeneralNames names, KeyPurposeId... purposes) throws GeneralSecurityException, CertIOException {
    Instant notAfter = now.plus(lifetime);
    Instant rootExpiry = root.certificate().getNotAfter().toInstant();
    if (notAfter.isAfter(rootExpiry)) {
      notAfter = rootExpiry;
    }
    if (!notAfter.isAfter(now)) {
      throw new IllegalStateException("the mesh root " + root.info().subject() + " expired at " + rootExpiry
          + "; rotate it (docs/security.md) before certificates can be issued");
    }
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "weft")
        .addRDN(BCStyle.CN, commonName).build();
    JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(root.certificate(), serial(random),
        Date.from(now.minus(backdate(lifetime))), Date.from(notAfter), subject, publicKey)
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
        .addExtension(Extension.keyUsage, true,
            // keyEncipherment only means something for RSA key exchange.
            new KeyUsage(KeyUsage.digitalSignature
                | ("RSA".equals(publicKey.getAlgorithm()) ? KeyUsage.keyEncipherment : 0)))
        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes))
        .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(publicKey))
        .addExtension(Extension.authorityKeyIdentifier, false,
            extensions.createAuthorityKeyIdentifier(root.certificate()))
        .addExtension(Extension.subjectAlternativeName, false, names);
    return sign(builder, root.privateKey());
  }

  private static GeneralNames subjectAltNames(WorkloadIdentity identity, List<String> dnsNames) {
    List<GeneralName> names = new ArrayList<>();
    names.add(new GeneralName(GeneralName.uniformResourceIdentifier, identity.spiffeId()));
    for (String dnsName : dnsNames) {
      names.add(new GeneralName(GeneralName.dNSName, dnsName));
    }
    return new GeneralNames(names.toArray(GeneralName[]::new));
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, java.security.PrivateKey signer)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder(KeyAlgorithm.signatureAlgorithm(signer)).build(signer)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static Duration backdate(Duration lifetime) {
    return lifetime.dividedBy(10).compareTo(BACKDATE) < 0 ? lifetime.dividedBy(10) : BACKDATE;
  }

  /** A positive 127-bit serial: unique without coordination between replicas. */
  private static BigInteger serial(SecureRandom random) {
    return new BigInteger(127, random).add(BigInteger.ONE);
  }
}
