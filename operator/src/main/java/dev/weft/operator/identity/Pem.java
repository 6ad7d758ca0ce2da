package dev.weft.operator.identity;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * PEM in and out: certificates (one or a bundle) and private keys. Keys are written as PKCS#8
 * ({@code PRIVATE KEY}), which Envoy and every TLS library read; both PKCS#8 and the older
 * {@code EC PRIVATE KEY}/{@code RSA PRIVATE KEY} forms are read, so a bring-your-own root made
 * with openssl works as it comes.
 */
public final class Pem {

  private Pem() {}

  /** The certificates as concatenated PEM blocks, in order. */
  public static String certificates(List<X509Certificate> certificates) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      for (X509Certificate certificate : certificates) {
        writer.writeObject(certificate);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  public static String privateKey(PrivateKey key) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(new JcaPKCS8Generator(key, null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /** Every certificate in {@code pem}, in order; other blocks are skipped. Throws when there is none. */
  public static List<X509Certificate> parseCertificates(String pem) {
    List<X509Certificate> certificates = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (PEMParser parser = new PEMParser(new StringReader(pem == null ? "" : pem))) {
      Object next;
      while ((next = parser.readObject()) != null) {
        if (next instanceof X509CertificateHolder holder) {
          certificates.add(converter.getCertificate(holder));
        }
      }
    } catch (IOException | CertificateException | RuntimeException e) {
      throw new IllegalArgumentException("not a PEM certificate: " + e.getMessage(), e);
    }
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException("no PEM certificate (-----BEGIN CERTIFICATE-----) found");
    }
    return certificates;
  }

  /** The first certificate in {@code pem}. */
  public static X509Certificate parseCertificate(String pem) {
    return parseCertificates(pem).get(0);
  }

  /** The private key in {@code pem} (PKCS#8, or a traditional EC/RSA key pair block). */
  public static PrivateKey parsePrivateKey(String pem) {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try (PEMParser parser = new PEMParser(new StringReader(pem == null ? "" : pem))) {
      Object next;
      while ((next = parser.readObject()) != null) {
        if (next instanceof PrivateKeyInfo info) {
          return converter.getPrivateKey(info);
        }
        if (next instanceof PEMKeyPair pair) {
          return converter.getKeyPair(pair).getPrivate();
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("not a PEM private key: " + e.getMessage(), e);
    }
    throw new IllegalArgumentException("no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----) found");
  }
}
