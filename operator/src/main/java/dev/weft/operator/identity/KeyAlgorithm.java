package dev.weft.operator.identity;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;

/** The key type of a root or a workload certificate. ECDSA P-256 is the default: small, fast, everywhere. */
public enum KeyAlgorithm {
  ECDSA_P256,
  RSA_2048;

  KeyPair generate(SecureRandom random) {
    try {
      if (this == ECDSA_P256) {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), random);
        return generator.generateKeyPair();
      }
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048, random);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate a " + this + " key", e);
    }
  }

  /** The signature algorithm a key of this kind signs with. */
  static String signatureAlgorithm(PrivateKey signer) {
    return switch (signer.getAlgorithm()) {
      case "EC", "ECDSA" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      default -> throw new IllegalArgumentException("the CA key is " + signer.getAlgorithm()
          + "; Weft signs with an EC (ECDSA) or RSA key");
    };
  }

  /** {@code ecdsa-p256} or {@code rsa-2048}, as in the helm values. */
  public static KeyAlgorithm parse(String value) {
    return switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
      case "ecdsa-p256", "ecdsa", "ec" -> ECDSA_P256;
      case "rsa-2048", "rsa" -> RSA_2048;
      default -> throw new IllegalArgumentException("key algorithm '" + value + "' is not known; use ecdsa-p256 "
          + "(the default) or rsa-2048");
    };
  }
}
