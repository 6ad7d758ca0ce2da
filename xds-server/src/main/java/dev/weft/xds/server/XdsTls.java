package dev.weft.xds.server;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * TLS for the ADS port from a mounted certificate Secret ({@code tls.crt}, {@code tls.key},
 * {@code ca.crt}, as the operator writes them): the server presents {@code tls.crt}, and a client
 * must present a certificate that chains to a root in {@code ca.crt}. The files are read again
 * every {@code reload}, so a renewed Secret, or a trust bundle changed by a root rotation, is used
 * for new connections without a restart. Who the client is, is then checked per stream
 * ({@link PeerIdentity}).
 */
public final class XdsTls implements AutoCloseable {

  private final ScheduledExecutorService reloads;
  private final AdvancedTlsX509KeyManager.Closeable identityReload;
  private final AdvancedTlsX509TrustManager.Closeable trustReload;
  private final ServerCredentials credentials;

  private XdsTls(ScheduledExecutorService reloads, AdvancedTlsX509KeyManager.Closeable identityReload,
      AdvancedTlsX509TrustManager.Closeable trustReload, ServerCredentials credentials) {
    this.reloads = reloads;
    this.identityReload = identityReload;
    this.trustReload = trustReload;
    this.credentials = credentials;
  }

  /**
   * Reads {@code directory} now (failing if a file is missing or unreadable) and every
   * {@code reload} from then on.
   */
  public static XdsTls fromDirectory(Path directory, Duration reload) throws IOException, GeneralSecurityException {
    ScheduledExecutorService reloads = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "weft-xds-tls-reload");
      thread.setDaemon(true);
      return thread;
    });
    try {
      AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
      AdvancedTlsX509KeyManager.Closeable identityReload = keys.updateIdentityCredentials(
          directory.resolve("tls.crt").toFile(), directory.resolve("tls.key").toFile(), reload.toMillis(),
          TimeUnit.MILLISECONDS, reloads);
      AdvancedTlsX509TrustManager trust = AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
          .build();
      AdvancedTlsX509TrustManager.Closeable trustReload = trust.updateTrustCredentials(
          directory.resolve("ca.crt").toFile(), reload.toMillis(), TimeUnit.MILLISECONDS, reloads);
      ServerCredentials credentials = TlsServerCredentials.newBuilder()
          .keyManager(keys)
          .trustManager(trust)
          .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
          .build();
      return new XdsTls(reloads, identityReload, trustReload, credentials);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      reloads.shutdownNow();
      throw e;
    }
  }

  /** The credentials for {@link XdsServer.Builder#credentials}. */
  public ServerCredentials credentials() {
    return credentials;
  }

  @Override
  public void close() {
    identityReload.close();
    trustReload.close();
    reloads.shutdownNow();
  }
}
