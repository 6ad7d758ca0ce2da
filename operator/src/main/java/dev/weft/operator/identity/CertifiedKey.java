package dev.weft.operator.identity;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Objects;

/** A certificate and its private key: a root the CA signs with, or a workload's leaf. */
public record CertifiedKey(X509Certificate certificate, PrivateKey privateKey) {

  public CertifiedKey {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(privateKey, "privateKey");
  }

  public String certificatePem() {
    return Pem.certificates(java.util.List.of(certificate));
  }

  public String privateKeyPem() {
    return Pem.privateKey(privateKey);
  }

  public CertificateInfo info() {
    return CertificateInfo.of(certificate);
  }
}
