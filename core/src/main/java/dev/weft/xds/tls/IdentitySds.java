package dev.weft.xds.tls;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.PathConfigSource;
import io.envoyproxy.envoy.config.core.v3.WatchedDirectory;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a sidecar reads its identity: file-based SDS. The workload's certificate Secret
 * ({@code tls.crt}, {@code tls.key}, {@code ca.crt}) is mounted in an identity directory; two SDS
 * files in an SDS directory name those files and watch that directory, so when the kubelet swaps in
 * a renewed Secret (an atomic move of {@code ..data}) Envoy reloads the certificate, key and bundle
 * without a restart. Clusters and listeners refer to the two secrets by name, through
 * {@link #identity(String)} and {@link #trust(String)}. Keys never pass through the xDS server.
 */
public final class IdentitySds {

  /** The secret holding the sidecar's own certificate and key. */
  public static final String IDENTITY_SECRET = "weft-identity";
  /** The secret holding the roots that peers' certificates must chain to. */
  public static final String TRUST_SECRET = "weft-trust";
  public static final String IDENTITY_FILE = "identity.json";
  public static final String TRUST_FILE = "trust.json";
  /** Where a pod mounts its certificate Secret, and where the SDS files are. */
  public static final String POD_IDENTITY_DIRECTORY = "/var/run/weft/identity";
  public static final String POD_SDS_DIRECTORY = "/var/run/weft/sds";

  private static final TypeRegistry TYPES = TypeRegistry.newBuilder().add(Secret.getDescriptor()).build();

  private IdentitySds() {}

  /** The SDS files to write into the SDS directory, by file name, for a Secret mounted at {@code identityDirectory}. */
  public static Map<String, String> files(String identityDirectory) {
    String dir = identityDirectory.endsWith("/")
        ? identityDirectory.substring(0, identityDirectory.length() - 1) : identityDirectory;
    WatchedDirectory watched = WatchedDirectory.newBuilder().setPath(dir).build();
    Secret identity = Secret.newBuilder()
        .setName(IDENTITY_SECRET)
        .setTlsCertificate(TlsCertificate.newBuilder()
            .setCertificateChain(DataSource.newBuilder().setFilename(dir + "/tls.crt"))
            .setPrivateKey(DataSource.newBuilder().setFilename(dir + "/tls.key"))
            .setWatchedDirectory(watched))
        .build();
    Secret trust = Secret.newBuilder()
        .setName(TRUST_SECRET)
        .setValidationContext(CertificateValidationContext.newBuilder()
            .setTrustedCa(DataSource.newBuilder().setFilename(dir + "/ca.crt"))
            .setWatchedDirectory(watched))
        .build();
    Map<String, String> files = new LinkedHashMap<>();
    files.put(IDENTITY_FILE, json(identity));
    files.put(TRUST_FILE, json(trust));
    return files;
  }

  /** A reference to the sidecar's own certificate, read from {@code sdsDirectory}. */
  public static SdsSecretConfig identity(String sdsDirectory) {
    return secret(IDENTITY_SECRET, sdsDirectory, IDENTITY_FILE);
  }

  /** A reference to the trust bundle, read from {@code sdsDirectory}. */
  public static SdsSecretConfig trust(String sdsDirectory) {
    return secret(TRUST_SECRET, sdsDirectory, TRUST_FILE);
  }

  private static SdsSecretConfig secret(String name, String sdsDirectory, String file) {
    String dir = sdsDirectory.endsWith("/") ? sdsDirectory.substring(0, sdsDirectory.length() - 1) : sdsDirectory;
    return SdsSecretConfig.newBuilder()
        .setName(name)
        .setSdsConfig(ConfigSource.newBuilder()
            .setResourceApiVersion(ApiVersion.V3)
            .setPathConfigSource(PathConfigSource.newBuilder().setPath(dir + "/" + file)))
        .build();
  }

  private static String json(Secret secret) {
    try {
      return JsonFormat.printer().usingTypeRegistry(TYPES)
          .print(DiscoveryResponse.newBuilder().addResources(Any.pack(secret)).build());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("an SDS file cannot be printed", e);
    }
  }
}
