package dev.weft.xds.server;

import dev.weft.mesh.ProxyGroup;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is at the other end of an xDS call, by its client certificate: the SPIFFE ID in its URI SAN,
 * put into the call's {@link Context} by {@link #interceptor()} when the port serves TLS with client
 * certificates required. The registry ({@link ConnectedProxies}) compares it with the namespace and
 * ServiceAccount the node claims, so a proxy gets only its own identity's config.
 */
public final class PeerIdentity {

  private static final Logger LOG = LoggerFactory.getLogger(PeerIdentity.class);
  private static final Context.Key<String> SPIFFE_ID = Context.key("weft-peer-spiffe-id");
  /** The subjectAltName type of a URI (RFC 5280). */
  private static final int URI_SAN = 6;

  private PeerIdentity() {}

  /**
   * Reads the client certificate's SPIFFE ID into the call's context; a call over TLS whose
   * certificate carries none is closed with UNAUTHENTICATED. A call without TLS passes unchanged
   * (the port is plaintext, and nothing is checked).
   */
  public static ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (session == null) {
          return next.startCall(call, headers);
        }
        Optional<String> id = spiffeId(session);
        if (id.isEmpty()) {
          LOG.warn("refusing xDS call from {}: its client certificate has no spiffe:// URI SAN",
              call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
          call.close(Status.UNAUTHENTICATED.withDescription(
              "the client certificate has no SPIFFE ID (a spiffe:// URI SAN); use the workload certificate the "
              + "Weft operator issued"), new Metadata());
          return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(Context.current().withValue(SPIFFE_ID, id.get()), call, headers, next);
      }
    };
  }

  /** The SPIFFE ID of the current call's client certificate; null when the call is not over TLS. */
  static String current() {
    return SPIFFE_ID.get();
  }

  /**
   * Whether {@code spiffeId} speaks for {@code group}'s namespace and ServiceAccount: it must be
   * {@code spiffe://<any trust domain>/ns/<namespace>/sa/<serviceAccount>} (the trust domain is
   * settled by the TLS handshake: only the mesh's roots are trusted).
   */
  static boolean speaksFor(String spiffeId, ProxyGroup group) {
    if (!spiffeId.startsWith("spiffe://")) {
      return false;
    }
    int path = spiffeId.indexOf('/', "spiffe://".length());
    return path > 0 && spiffeId.substring(path).equals("/ns/" + group.namespace() + "/sa/" + group.serviceAccount());
  }

  static Optional<String> spiffeId(SSLSession session) {
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
        return Optional.empty();
      }
      return spiffeId(leaf);
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }

  static Optional<String> spiffeId(X509Certificate certificate) {
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      if (names == null) {
        return Optional.empty();
      }
      return names.stream()
          .filter(n -> n.size() == 2 && Integer.valueOf(URI_SAN).equals(n.get(0)))
          .map(n -> String.valueOf(n.get(1)))
          .filter(uri -> uri.startsWith("spiffe://"))
          .findFirst();
    } catch (CertificateParsingException e) {
      return Optional.empty();
    }
  }
}
