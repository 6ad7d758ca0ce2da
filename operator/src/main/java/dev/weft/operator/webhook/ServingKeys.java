package dev.weft.operator.webhook;

import dev.weft.operator.identity.CertifiedKey;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The webhook's serving certificate as the TLS stack asks for it: whichever was set last, so a
 * renewed certificate serves the next handshake without a restart. Before the first one a
 * handshake fails (the kube-apiserver then applies the webhook's failurePolicy).
 */
final class ServingKeys extends X509ExtendedKeyManager {

  private static final String ALIAS = "weft-webhook";
  private final AtomicReference<CertifiedKey> current = new AtomicReference<>();

  void set(CertifiedKey key) {
    current.set(key);
  }

  Optional<CertifiedKey> current() {
    return Optional.ofNullable(current.get());
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return alias(keyType);
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return alias(keyType);
  }

  private String alias(String keyType) {
    CertifiedKey key = current.get();
    return key != null && key.certificate().getPublicKey().getAlgorithm().equals(keyType) ? ALIAS : null;
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    String alias = alias(keyType);
    return alias == null ? null : new String[] {alias};
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    CertifiedKey key = current.get();
    return key == null ? null : new X509Certificate[] {key.certificate()};
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    CertifiedKey key = current.get();
    return key == null ? null : key.privateKey();
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }
}
