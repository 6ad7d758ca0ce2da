package dev.weft.xds.tls;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * The TLS pieces of a sidecar's config. Outbound, a cluster presents the sidecar's certificate and
 * accepts the peer only if its certificate chains to the trust bundle and carries one of the
 * destination's SPIFFE IDs (the ServiceAccounts of the pods behind the Service), not merely any
 * identity of the trust domain. Inbound, a listener requires a client certificate from the trust
 * domain (strict), or also takes plaintext for migration (permissive).
 */
public final class MutualTls {

  /** How an inbound listener treats callers. */
  public enum InboundMode {
    /** mTLS only: a caller without a certificate from the trust domain is refused. */
    STRICT,
    /** mTLS and plaintext both accepted (namespace label {@code weft.dev/mtls=permissive}). */
    PERMISSIVE
  }

  public static final String TRANSPORT_SOCKET = "envoy.transport_sockets.tls";
  public static final String TLS_INSPECTOR = "envoy.filters.listener.tls_inspector";
  /** The trust domain of the SPIFFE IDs unless the deployment names another. */
  public static final String DEFAULT_TRUST_DOMAIN = "cluster.local";

  private MutualTls() {}

  /** The SPIFFE ID of a ServiceAccount: {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}. */
  public static String spiffeId(String trustDomain, String namespace, String serviceAccount) {
    return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  /**
   * The transport socket of an outbound cluster to peers whose SPIFFE IDs are {@code peerIds};
   * the identity and bundle come from the SDS files in {@code sdsDirectory}.
   */
  public static TransportSocket upstream(String sdsDirectory, Collection<String> peerIds) {
    return upstream(sdsDirectory, peerIds, List.of());
  }

  /**
   * The same, offering the application protocols {@code alpn} in the handshake (a gRPC server such as
   * the xds-server wants {@code h2}).
   */
  public static TransportSocket upstream(String sdsDirectory, Collection<String> peerIds, List<String> alpn) {
    if (peerIds.isEmpty()) {
      throw new IllegalArgumentException("an mTLS cluster needs at least one SPIFFE ID to accept");
    }
    CertificateValidationContext.Builder sans = CertificateValidationContext.newBuilder();
    for (String id : new TreeSet<>(peerIds)) {
      sans.addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
          .setSanType(SubjectAltNameMatcher.SanType.URI)
          .setMatcher(StringMatcher.newBuilder().setExact(id)));
    }
    UpstreamTlsContext context = UpstreamTlsContext.newBuilder()
        .setCommonTlsContext(common(sdsDirectory, sans.build()).toBuilder().addAllAlpnProtocols(alpn))
        .build();
    return TransportSocket.newBuilder().setName(TRANSPORT_SOCKET).setTypedConfig(Any.pack(context)).build();
  }

  /**
   * The transport socket of an inbound filter chain: the sidecar's certificate, and a client
   * certificate required, chaining to the bundle and from {@code trustDomain}.
   */
  public static TransportSocket downstream(String sdsDirectory, String trustDomain) {
    CertificateValidationContext domain = CertificateValidationContext.newBuilder()
        .addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
            .setSanType(SubjectAltNameMatcher.SanType.URI)
            .setMatcher(StringMatcher.newBuilder().setPrefix("spiffe://" + trustDomain + "/")))
        .build();
    DownstreamTlsContext context = DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(common(sdsDirectory, domain))
        .setRequireClientCertificate(BoolValue.of(true))
        .build();
    return TransportSocket.newBuilder().setName(TRANSPORT_SOCKET).setTypedConfig(Any.pack(context)).build();
  }

  /**
   * The inbound filter chains for {@code plaintext} (a chain with the listener's filters and no
   * transport socket): strict, the same filters behind mTLS only; permissive, an mTLS chain for
   * TLS connections and the plaintext chain for the rest (which needs {@link #listenerFilters}).
   */
  public static List<FilterChain> inbound(FilterChain plaintext, InboundMode mode, String sdsDirectory,
      String trustDomain) {
    FilterChain.Builder tls = plaintext.toBuilder()
        .setTransportSocket(downstream(sdsDirectory, trustDomain));
    if (mode == InboundMode.STRICT) {
      return List.of(tls.build());
    }
    tls.setFilterChainMatch(plaintext.getFilterChainMatch().toBuilder().setTransportProtocol("tls"));
    FilterChain raw = plaintext.toBuilder()
        .setName(plaintext.getName().isEmpty() ? "" : plaintext.getName() + "-plaintext")
        .setFilterChainMatch(plaintext.getFilterChainMatch().toBuilder().setTransportProtocol("raw_buffer"))
        .build();
    return List.of(tls.build(), raw);
  }

  /** The listener filters an inbound listener needs in {@code mode}: TLS inspection to tell mTLS from plaintext. */
  public static List<ListenerFilter> listenerFilters(InboundMode mode) {
    if (mode == InboundMode.STRICT) {
      return List.of();
    }
    return List.of(ListenerFilter.newBuilder().setName(TLS_INSPECTOR)
        .setTypedConfig(Any.pack(TlsInspector.getDefaultInstance())).build());
  }

  private static CommonTlsContext common(String sdsDirectory, CertificateValidationContext defaults) {
    return CommonTlsContext.newBuilder()
        .setTlsParams(TlsParameters.newBuilder()
            .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2))
        .addTlsCertificateSdsSecretConfigs(IdentitySds.identity(sdsDirectory))
        .setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
            .setDefaultValidationContext(defaults)
            .setValidationContextSdsSecretConfig(IdentitySds.trust(sdsDirectory)))
        .build();
  }
}
