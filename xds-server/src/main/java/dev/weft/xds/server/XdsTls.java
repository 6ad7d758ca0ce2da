package dev.weft.xds.server;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS for the ADS port from a mounted certificate Secret ({@code tls.crt}, {@code tls.key},
 * {@code ca.crt}, as the operator writes them): the server presents {@code tls.crt}, and a client
 * must present a certificate that chains to a root in {@code ca.crt}. Every {@code reload} the
 * files are compared with what was loaded and loaded again when they changed, so a renewed Secret, or a
 * trust bundle changed by a root rotation, is used for new connections without a restart. Who the client is, is then checked per stream
 * ({@link PeerIdentity}).
 *
 * <p>The files may not be there yet: the chart mounts the Secret as optional, and the operator
 * writes it only once it leads. Until they can be read (looked for every second), the port
 * completes no handshake and {@link #notReadyBecause()} says why, so the replica stays unready
 * instead of crash-looping or serving plaintext.
 */
public final class XdsTls implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(XdsTls.class);
  /** How often missing files are looked for. */
  static final Duration WAIT_POLL = Duration.ofSeconds(1);
  /** How often, while waiting, the log says so again. */
  private static final Duration WAIT_LOG = Duration.ofMinutes(1);

  private final Path directory;
  private final Duration reload;
  private final ScheduledExecutorService reloads;
  private final AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
  private final AdvancedTlsX509TrustManager trust;
  private final ServerCredentials credentials;
  private final CountDownLatch loaded = new CountDownLatch(1);
  private volatile String waitingBecause = "";
  /** The content of the three files as last loaded: a changed file is loaded again. */
  private String loadedContent = "";
  private ScheduledFuture<?> checks;
  private ScheduledFuture<?> waiting;
  private long lastWaitLog;

  private XdsTls(Path directory, Duration reload) {
    this.directory = directory;
    this.reload = reload;
    try {
      this.trust = AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
          .build();
    } catch (java.security.cert.CertificateException e) {
      throw new IllegalStateException("cannot make a trust manager for the ADS port", e);
    }
    this.reloads = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "weft-xds-tls-reload");
      thread.setDaemon(true);
      return thread;
    });
    this.credentials = TlsServerCredentials.newBuilder()
        .keyManager(keys)
        .trustManager(trust)
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
        .build();
  }

  /**
   * Reads {@code directory} now and every {@code reload} from then on; when the files are missing
   * or unreadable, looks for them every second until they can be read, meanwhile refusing every
   * handshake.
   */
  public static XdsTls fromDirectory(Path directory, Duration reload) {
    XdsTls tls = new XdsTls(directory, reload);
    synchronized (tls) {
      if (!tls.tryLoad()) {
        LOG.warn("ADS port: no usable certificate in {} yet ({}); it completes no TLS handshake and the replica "
            + "stays unready until the operator has written the Secret and the kubelet has mounted it",
            directory, tls.waitingBecause);
        tls.lastWaitLog = System.nanoTime();
        tls.waiting = tls.reloads.scheduleWithFixedDelay(tls::retry, WAIT_POLL.toMillis(), WAIT_POLL.toMillis(),
            TimeUnit.MILLISECONDS);
      }
    }
    return tls;
  }

  private synchronized void retry() {
    if (loaded.getCount() == 0 || reloads.isShutdown()) {
      return;
    }
    if (tryLoad()) {
      LOG.info("ADS port: certificate found in {}; serving TLS", directory);
      waiting.cancel(false);
    } else if (System.nanoTime() - lastWaitLog > WAIT_LOG.toNanos()) {
      lastWaitLog = System.nanoTime();
      LOG.warn("ADS port: still no usable certificate in {} ({})", directory, waitingBecause);
    }
  }

  /** Reads the files once and, if they are usable, starts the checks for a change. */
  private boolean tryLoad() {
    try {
      load();
      waitingBecause = "";
      loaded.countDown();
      checks = reloads.scheduleWithFixedDelay(this::reloadIfChanged, reload.toMillis(), reload.toMillis(),
          TimeUnit.MILLISECONDS);
      return true;
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      waitingBecause = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      return false;
    }
  }

  /**
   * Loads the files when their content changed since the last load (a kubelet swaps a renewed
   * Secret in at once, so the three are read together). Comparing content, not modification
   * times, also catches a file rewritten within the same clock tick. A half-written or unreadable
   * set keeps the last good one and is tried again next time.
   */
  private synchronized void reloadIfChanged() {
    try {
      load();
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      LOG.warn("ADS port: cannot read the changed certificate files in {} ({}); still serving the last good ones",
          directory, e.getMessage());
    }
  }

  private void load() throws IOException, GeneralSecurityException {
    File cert = directory.resolve("tls.crt").toFile();
    File key = directory.resolve("tls.key").toFile();
    File ca = directory.resolve("ca.crt").toFile();
    StringBuilder content = new StringBuilder();
    for (File file : new File[] {cert, key, ca}) {
      if (!file.isFile()) {
        throw new IOException(file.getName() + " is missing");
      }
      content.append(Files.readString(file.toPath())).append('\0');
    }
    if (content.toString().equals(loadedContent)) {
      return;
    }
    keys.updateIdentityCredentials(cert, key);
    trust.updateTrustCredentials(ca);
    boolean first = loadedContent.isEmpty();
    loadedContent = content.toString();
    if (!first) {
      LOG.info("ADS port: certificate files in {} changed; new handshakes use them", directory);
    }
  }

  /** The credentials for {@link XdsServer.Builder#credentials}. */
  public ServerCredentials credentials() {
    return credentials;
  }

  /** Why the port cannot complete a handshake yet (no usable files), or empty once it can. */
  public Optional<String> notReadyBecause() {
    return loaded.getCount() == 0 ? Optional.empty()
        : Optional.of("no usable certificate for the ADS port in " + directory + " yet: " + waitingBecause);
  }

  /** Whether the files were read within {@code timeout}. */
  public boolean awaitLoaded(Duration timeout) throws InterruptedException {
    return loaded.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public synchronized void close() {
    if (checks != null) {
      checks.cancel(false);
    }
    reloads.shutdownNow();
  }
}
