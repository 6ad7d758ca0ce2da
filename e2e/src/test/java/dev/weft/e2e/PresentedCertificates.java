package dev.weft.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.demo.LocalPod;
import dev.weft.demo.MeshIdentities;
import dev.weft.operator.identity.Pem;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * What the parts of a running mesh present and trust, as the certificate-lifecycle tests observe
 * it: a sidecar's certificates from its admin's {@code /certs}, a mounted Secret's files, and the
 * ADS port's certificate through a fresh mTLS handshake. Serials are lower-case hex without leading
 * zeros, so that Envoy's and Java's spellings compare.
 */
final class PresentedCertificates {

  /** How long the ADS port may take to serve its renewed certificate (it checks its files every second). */
  static final Duration ADS_RELOAD_GRACE = Duration.ofSeconds(3);

  private PresentedCertificates() {}

  /** The serial of the certificate a sidecar presents (its TLS contexts' cert_chain). */
  static String serial(LocalPod pod) {
    return String.join(",", serials(pod, "cert_chain"));
  }

  /** The serials of the roots a sidecar trusts (its TLS contexts' ca_cert). */
  static Set<String> trustedRoots(LocalPod pod) {
    return serials(pod, "ca_cert");
  }

  private static Set<String> serials(LocalPod pod, String field) {
    try {
      JsonNode certs = new ObjectMapper().readTree(pod.sidecar().admin("/certs"));
      Set<String> serials = new TreeSet<>();
      for (JsonNode context : certs.path("certificates")) {
        for (JsonNode cert : context.path(field)) {
          serials.add(normalized(cert.path("serial_number").asText()));
        }
      }
      return serials;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String serial(X509Certificate certificate) {
    return certificate.getSerialNumber().toString(16);
  }

  /** The roots in a mounted Secret's {@code ca.crt}, in its order. */
  static List<X509Certificate> mountedBundle(MeshIdentities.Mounted mounted) throws IOException {
    return Pem.parseCertificates(Files.readString(mounted.identityDirectory().resolve("ca.crt")));
  }

  /** The certificate in a mounted Secret's {@code tls.crt}. */
  static X509Certificate mountedCertificate(MeshIdentities.Mounted mounted) throws IOException {
    return Pem.parseCertificate(Files.readString(mounted.identityDirectory().resolve("tls.crt")));
  }

  /** A TLS context presenting {@code own}'s certificate and trusting the roots of its bundle, as its sidecar does. */
  static SSLContext mtls(MeshIdentities.Mounted own) throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("own", Pem.parsePrivateKey(Files.readString(own.identityDirectory().resolve("tls.key"))),
        new char[0], new X509Certificate[] {mountedCertificate(own)});
    KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, new char[0]);
    KeyStore roots = KeyStore.getInstance("PKCS12");
    roots.load(null, null);
    List<X509Certificate> bundle = mountedBundle(own);
    for (int i = 0; i < bundle.size(); i++) {
      roots.setCertificateEntry("root-" + i, bundle.get(i));
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(roots);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), trust.getTrustManagers(), null);
    return context;
  }

  /**
   * One request for {@code host} on a new mTLS connection to {@code address}:{@code port} (a
   * sidecar's inbound listener), made with {@code own}'s certificate and bundle as of now, so that
   * the handshake uses what is mounted this moment rather than a pooled connection's old one.
   * Returns the serial the listener presented and the first line of the answer.
   */
  static String freshRequest(String address, int port, String host, MeshIdentities.Mounted own) throws Exception {
    try (SSLSocket socket = (SSLSocket) mtls(own).getSocketFactory().createSocket(address, port)) {
      socket.setSoTimeout(5_000);
      socket.startHandshake();
      String served = serial((X509Certificate) socket.getSession().getPeerCertificates()[0]);
      socket.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      BufferedReader answer = new BufferedReader(new InputStreamReader(socket.getInputStream(),
          StandardCharsets.US_ASCII));
      return served + " " + answer.readLine();
    }
  }

  private static String normalized(String hex) {
    return hex.isEmpty() ? hex : new BigInteger(hex, 16).toString(16);
  }

  /**
   * One fresh mTLS handshake with the ADS port, as {@code client}'s sidecar would (its certificate,
   * key and trust bundle): records the serial the port presents, and notes a failed handshake, or a
   * served certificate that is not the one of the xds-server's mounted Secret although the Secret
   * changed more than {@link #ADS_RELOAD_GRACE} ago.
   */
  static void adsServes(int port, LocalPod client, MeshIdentities.Mounted xds, Set<String> serials, List<String> late)
      throws Exception {
    Path files = xds.identityDirectory();
    String mounted = serial(mountedCertificate(xds));
    Instant mountedAt = Files.getLastModifiedTime(files.resolve("tls.crt")).toInstant();
    SSLContext context = mtls(client.identity());
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(5_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"h2"});
      socket.setSSLParameters(parameters);
      try {
        socket.startHandshake();
      } catch (SSLHandshakeException e) {
        late.add("handshake failed at " + Instant.now() + " (" + e.getMessage() + ") while the Secret held " + mounted
            + " since " + mountedAt);
        return;
      }
      String served = serial((X509Certificate) socket.getSession().getPeerCertificates()[0]);
      serials.add(served);
      if (!served.equals(mounted) && Duration.between(mountedAt, Instant.now()).compareTo(ADS_RELOAD_GRACE) > 0) {
        late.add(served + " while the Secret held " + mounted + " since " + mountedAt);
      }
    }
  }
}
