package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import dev.weft.demo.SecretVolume;
import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.operator.identity.TrustBundle;
import dev.weft.testsupport.Closeables;
import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.FreePort;
import dev.weft.testsupport.HttpBackend;
import dev.weft.xds.tls.IdentitySds;
import dev.weft.xds.tls.MutualTls;
import dev.weft.xds.tls.MutualTls.InboundMode;
import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Mutual TLS between real Envoy sidecars, with certificates from the mesh CA code laid out as the
 * kubelet mounts a Secret and read through file-based SDS ({@link IdentitySds}), and the TLS
 * contexts of {@link MutualTls}. The sidecars' listeners and clusters are static here
 * ({@code MeshMtlsTest} runs the translated config); what is proven is what Envoy does with those pieces: the right
 * SPIFFE SAN gets through, a wrong SAN or another CA's certificate does not, a plaintext client is
 * refused by a strict inbound listener and served by a permissive one, the server learns the
 * caller's SPIFFE ID, and a renewed Secret is picked up without a restart. Loopback only
 * (127.0.14.0/24).
 */
class SidecarMtlsTest {

  static final String TRUST_DOMAIN = "cluster.local";
  static final String CLIENT_ADDRESS = "127.0.14.1";
  static final String SERVER_ADDRESS = "127.0.14.2";
  static final String ROGUE_ADDRESS = "127.0.14.3";
  static final String WEB = "spiffe://cluster.local/ns/shop/sa/web";
  static final String PAYMENTS = "spiffe://cluster.local/ns/shop/sa/payments";
  static final String CHECKOUT = "spiffe://cluster.local/ns/shop/sa/checkout";
  static final java.time.Duration BOUND = java.time.Duration.ofSeconds(20);
  static final TypeRegistry TYPES = TypeRegistry.newBuilder()
      .add(HttpConnectionManager.getDescriptor()).add(Router.getDescriptor())
      .add(UpstreamTlsContext.getDescriptor()).add(DownstreamTlsContext.getDescriptor())
      .add(TlsInspector.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor()).build();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(2)).build();

  static final SecureRandom RANDOM = new SecureRandom();
  static final IdentitySettings SETTINGS = IdentitySettings.defaults();
  static CertificateAuthority mesh;
  static CertificateAuthority other;
  static Path work;
  static HttpBackend app;
  static HttpBackend rogueApp;
  static EnvoyProcess server;
  static EnvoyProcess rogue;
  static EnvoyProcess client;
  static int strictPort;
  static int permissivePort;
  static int roguePort;
  static int outboundPort;

  @BeforeAll
  static void startSidecars() throws Exception {
    Instant now = Instant.now();
    mesh = CertificateAuthority.selfSigned(SETTINGS, now, RANDOM);
    other = CertificateAuthority.selfSigned(SETTINGS, now, RANDOM);
    work = Files.createTempDirectory("weft-mtls");
    app = HttpBackend.start("payments", InetAddress.getByName("127.0.0.1"));
    rogueApp = HttpBackend.start("impostor", InetAddress.getByName("127.0.0.1"));
    strictPort = FreePort.pick(InetAddress.getByName(SERVER_ADDRESS));
    permissivePort = FreePort.pick(InetAddress.getByName(SERVER_ADDRESS));
    roguePort = FreePort.pick(InetAddress.getByName(ROGUE_ADDRESS));
    outboundPort = FreePort.pick(InetAddress.getByName(CLIENT_ADDRESS));

    String serverSds = identity("payments", mesh, PAYMENTS);
    String rogueSds = identity("rogue", other, PAYMENTS);
    String clientSds = identity("web", mesh, WEB);

    server = envoy("payments", Bootstrap.newBuilder()
        .setStaticResources(Bootstrap.StaticResources.newBuilder()
            .addListeners(inbound("inbound-strict", SERVER_ADDRESS, strictPort, InboundMode.STRICT, serverSds))
            .addListeners(inbound("inbound-permissive", SERVER_ADDRESS, permissivePort, InboundMode.PERMISSIVE,
                serverSds))
            .addClusters(cluster("app", "127.0.0.1", app.port(), null)))
        .build());
    rogue = envoy("rogue", Bootstrap.newBuilder()
        .setStaticResources(Bootstrap.StaticResources.newBuilder()
            .addListeners(inbound("inbound-strict", ROGUE_ADDRESS, roguePort, InboundMode.STRICT, rogueSds))
            .addClusters(cluster("app", "127.0.0.1", rogueApp.port(), null)))
        .build());
    client = envoy("web", Bootstrap.newBuilder()
        .setStaticResources(Bootstrap.StaticResources.newBuilder()
            .addListeners(outbound(CLIENT_ADDRESS, outboundPort, Map.of(
                "/payments", "payments", "/wrong-san", "wrong-san", "/rogue", "rogue", "/permissive", "permissive")))
            .addClusters(oneRequestPerConnection(cluster("payments", SERVER_ADDRESS, strictPort,
                MutualTls.upstream(clientSds, List.of(PAYMENTS)))))
            .addClusters(cluster("wrong-san", SERVER_ADDRESS, strictPort,
                MutualTls.upstream(clientSds, List.of(CHECKOUT))))
            .addClusters(cluster("rogue", ROGUE_ADDRESS, roguePort, MutualTls.upstream(clientSds, List.of(PAYMENTS))))
            .addClusters(cluster("permissive", SERVER_ADDRESS, permissivePort,
                MutualTls.upstream(clientSds, List.of(PAYMENTS)))))
        .build());
  }

  @AfterAll
  static void stop() {
    Closeables.closeAll(client, server, rogue, app, rogueApp);
  }

  @Test
  void theRightSpiffeIdGetsThroughAndTheServerLearnsTheCallersIdentity() {
    HttpResponse<String> response = get(CLIENT_ADDRESS, outboundPort, "/payments");

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue(HttpBackend.BACKEND_HEADER)).contains("payments");
    String forwarded = app.requests().get(app.requests().size() - 1).header("x-forwarded-client-cert").orElse("");
    assertThat(forwarded).as("the caller's identity, as the server sidecar verified it").contains("URI=" + WEB);
    assertThat(client.counter("cluster.payments.ssl.handshake")).isPositive();
    System.out.println("mTLS web -> payments: 200, x-forwarded-client-cert: " + forwarded);
  }

  @Test
  void aPeerWithTheWrongSpiffeIdIsRefused() {
    HttpResponse<String> response = get(CLIENT_ADDRESS, outboundPort, "/wrong-san");

    assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
    assertThat(client.counter("cluster.wrong-san.ssl.fail_verify_san")).isPositive();
    System.out.println("expecting " + CHECKOUT + " from payments: " + response.statusCode() + " " + response.body()
        + "; ssl.fail_verify_san=" + client.counter("cluster.wrong-san.ssl.fail_verify_san"));
  }

  @Test
  void aPeerWithACertificateFromAnotherCaIsRefusedEvenWithTheRightSpiffeId() {
    HttpResponse<String> response = get(CLIENT_ADDRESS, outboundPort, "/rogue");

    assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
    assertThat(client.counter("cluster.rogue.ssl.fail_verify_error")).isPositive();
    assertThat(rogueApp.requestCount()).isZero();
    System.out.println("impostor with " + PAYMENTS + " from another CA: " + response.statusCode() + " "
        + response.body() + "; ssl.fail_verify_error=" + client.counter("cluster.rogue.ssl.fail_verify_error"));
  }

  @Test
  void aPlaintextClientIsRefusedByAStrictListenerAndServedByAPermissiveOne() {
    int before = app.requestCount();
    String strict;
    try {
      HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
          URI.create("http://" + SERVER_ADDRESS + ":" + strictPort + "/")).timeout(java.time.Duration.ofSeconds(5))
          .build(), HttpResponse.BodyHandlers.ofString());
      strict = "answered " + response.statusCode();
    } catch (IOException e) {
      strict = "refused: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    assertThat(strict).startsWith("refused");
    assertThat(app.requestCount()).as("nothing reached the app").isEqualTo(before);

    HttpResponse<String> permissive = get(SERVER_ADDRESS, permissivePort, "/");
    assertThat(permissive.statusCode()).isEqualTo(200);
    HttpResponse<String> mtlsToPermissive = get(CLIENT_ADDRESS, outboundPort, "/permissive");
    assertThat(mtlsToPermissive.statusCode()).as("mTLS into a permissive listener").isEqualTo(200);
    System.out.println("plaintext to strict: " + strict + "; plaintext to permissive: " + permissive.statusCode()
        + "; mTLS to permissive: " + mtlsToPermissive.statusCode());
  }

  @Test
  void aRenewedSecretIsPickedUpWithoutARestart() throws Exception {
    BigInteger before = serverSerial();
    long pid = server.pid();
    CertifiedKey renewed = mesh.issue(SETTINGS.identity("shop", "payments"), KeyAlgorithm.ECDSA_P256,
        java.time.Duration.ofHours(24), Instant.now());
    AtomicInteger ok = new AtomicInteger();
    List<String> failures = new ArrayList<>();

    SecretVolume.update(work.resolve("payments/identity"), Map.of("tls.crt", renewed.certificatePem(),
        "tls.key", renewed.privateKeyPem(), "ca.crt", TrustBundle.of(mesh.root().certificate()).pem()));
    // Requests keep flowing while Envoy reloads; bounded in count and time.
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (!serverSerial().equals(renewed.certificate().getSerialNumber()) && System.nanoTime() < deadline
        && ok.get() + failures.size() < 10_000) {
      HttpResponse<String> response = get(CLIENT_ADDRESS, outboundPort, "/payments");
      if (response.statusCode() == 200) {
        ok.incrementAndGet();
      } else {
        failures.add(response.statusCode() + " " + response.body());
      }
    }
    for (int i = 0; i < 50; i++) {
      HttpResponse<String> response = get(CLIENT_ADDRESS, outboundPort, "/payments");
      if (response.statusCode() == 200) {
        ok.incrementAndGet();
      } else {
        failures.add(response.statusCode() + " " + response.body());
      }
    }

    assertThat(serverSerial()).as("the server presents the renewed certificate").isNotEqualTo(before)
        .isEqualTo(renewed.certificate().getSerialNumber());
    assertThat(server.pid()).as("same Envoy process").isEqualTo(pid);
    assertThat(failures).as("requests lost during the reload").isEmpty();
    System.out.println("renewed payments' certificate: serial " + before.toString(16) + " -> "
        + serverSerial().toString(16) + " in the same Envoy (pid " + pid + "); " + ok.get() + " requests during and "
        + "after the reload, " + failures.size() + " failed");
  }

  @Test
  void theRootRotatesInThreeStepsWithoutLosingARequest() throws Exception {
    // docs/security.md, "Rotating the root": trust both roots, sign with the new one, drop the old.
    CertificateAuthority next = CertificateAuthority.selfSigned(SETTINGS, Instant.now(), RANDOM);
    Path serverDir = work.resolve("payments/identity");
    Path clientDir = work.resolve("web/identity");
    String both = TrustBundle.of(mesh.root().certificate(), next.root().certificate()).pem();
    CertifiedKey serverOld = mesh.issue(SETTINGS.identity("shop", "payments"), KeyAlgorithm.ECDSA_P256,
        java.time.Duration.ofHours(24), Instant.now());
    CertifiedKey clientOld = mesh.issue(SETTINGS.identity("shop", "web"), KeyAlgorithm.ECDSA_P256,
        java.time.Duration.ofHours(24), Instant.now());
    CertifiedKey serverNew = next.issue(SETTINGS.identity("shop", "payments"), KeyAlgorithm.ECDSA_P256,
        java.time.Duration.ofHours(24), Instant.now());
    CertifiedKey clientNew = next.issue(SETTINGS.identity("shop", "web"), KeyAlgorithm.ECDSA_P256,
        java.time.Duration.ofHours(24), Instant.now());
    String onlyNew = TrustBundle.of(next.root().certificate()).pem();
    List<Runnable> steps = List.of(
        () -> write(serverDir, serverOld, both),
        () -> write(clientDir, clientOld, both),
        () -> write(serverDir, serverNew, both),
        () -> write(clientDir, clientNew, both),
        () -> write(serverDir, serverNew, onlyNew),
        () -> write(clientDir, clientNew, onlyNew));
    int ok = 0;
    List<String> failures = new ArrayList<>();
    long handshakesBefore = client.counter("cluster.payments.ssl.handshake");
    long started = System.nanoTime();
    for (Runnable step : steps) {
      step.run();
      // Between steps, a bounded burst of requests while the sidecars reload.
      for (int i = 0; i < 100; i++) {
        HttpResponse<String> response = get(CLIENT_ADDRESS, outboundPort, "/payments");
        if (response.statusCode() == 200) {
          ok++;
        } else {
          failures.add(response.statusCode() + " " + response.body());
        }
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;

    await("the server presents the new root's certificate").atMost(BOUND)
        .until(() -> serverSerial().equals(serverNew.certificate().getSerialNumber()));
    assertThat(failures).as("requests lost during the root rotation").isEmpty();
    HttpResponse<String> after = get(CLIENT_ADDRESS, outboundPort, "/payments");
    assertThat(after.statusCode()).isEqualTo(200);
    long handshakes = client.counter("cluster.payments.ssl.handshake") - handshakesBefore;
    assertThat(handshakes).as("a new mTLS handshake per request").isGreaterThanOrEqualTo(ok);
    System.out.printf("root rotation in 3 steps on both sidecars: %d requests in %.1f s (%.0f/s), %d new mTLS "
        + "handshakes, %d failed%n", ok, seconds, ok / seconds, handshakes, failures.size());
  }

  static void write(Path dir, CertifiedKey leaf, String bundle) {
    try {
      SecretVolume.update(dir, Map.of("tls.crt", leaf.certificatePem(), "tls.key", leaf.privateKeyPem(),
          "ca.crt", bundle));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // --- the sidecars ---

  /** Writes {@code name}'s certificate as a mounted Secret and its SDS files; returns the SDS directory. */
  static String identity(String name, CertificateAuthority ca, String spiffeId) throws IOException {
    var parsed = dev.weft.operator.identity.WorkloadIdentity.parse(spiffeId).orElseThrow();
    CertifiedKey leaf = ca.issue(parsed, KeyAlgorithm.ECDSA_P256, java.time.Duration.ofHours(24), Instant.now());
    Path identityDir = work.resolve(name + "/identity");
    Path sdsDir = work.resolve(name + "/sds");
    SecretVolume.update(identityDir, Map.of("tls.crt", leaf.certificatePem(), "tls.key", leaf.privateKeyPem(),
        "ca.crt", TrustBundle.of(ca.root().certificate()).pem()));
    Files.createDirectories(sdsDir);
    for (Map.Entry<String, String> file : IdentitySds.files(identityDir.toString()).entrySet()) {
      Files.writeString(sdsDir.resolve(file.getKey()), file.getValue());
    }
    return sdsDir.toString();
  }

  static EnvoyProcess envoy(String name, Bootstrap bootstrap) {
    // SDS needs a node id and cluster, as every sidecar's bootstrap has.
    Bootstrap withAdmin = bootstrap.toBuilder()
        .setNode(io.envoyproxy.envoy.config.core.v3.Node.newBuilder().setId(name + ".shop").setCluster(name + ".shop"))
        .setAdmin(Admin.newBuilder().setAddress(address("127.0.0.1", 0))).build();
    try {
      return EnvoyProcess.builder("mtls-" + name).bootstrap(JsonFormat.printer().usingTypeRegistry(TYPES)
          .print(withAdmin)).start();
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  static Listener inbound(String name, String host, int port, InboundMode mode, String sds) {
    HttpConnectionManager hcm = hcm(name, RouteConfiguration.newBuilder().setName(name)
        .addVirtualHosts(VirtualHost.newBuilder().setName("app").addDomains("*")
            .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRoute(RouteAction.newBuilder().setCluster("app"))))
        .build())
        // The app learns who called: the SPIFFE ID of the client certificate the sidecar verified.
        .setForwardClientCertDetails(HttpConnectionManager.ForwardClientCertDetails.SANITIZE_SET)
        .setSetCurrentClientCertDetails(HttpConnectionManager.SetCurrentClientCertDetails.newBuilder().setUri(true))
        .build();
    FilterChain plaintext = FilterChain.newBuilder().setName(name)
        .addFilters(Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")
            .setTypedConfig(Any.pack(hcm)))
        .build();
    return Listener.newBuilder().setName(name).setAddress(address(host, port))
        .addAllFilterChains(MutualTls.inbound(plaintext, mode, sds, TRUST_DOMAIN))
        .addAllListenerFilters(MutualTls.listenerFilters(mode))
        .build();
  }

  static Listener outbound(String host, int port, Map<String, String> clustersByPrefix) {
    VirtualHost.Builder routes = VirtualHost.newBuilder().setName("mesh").addDomains("*");
    new LinkedHashMap<>(clustersByPrefix).forEach((prefix, cluster) -> routes.addRoutes(Route.newBuilder()
        .setMatch(RouteMatch.newBuilder().setPrefix(prefix))
        .setRoute(RouteAction.newBuilder().setCluster(cluster).setPrefixRewrite("/"))));
    HttpConnectionManager hcm = hcm("outbound",
        RouteConfiguration.newBuilder().setName("outbound").addVirtualHosts(routes).build()).build();
    return Listener.newBuilder().setName("outbound").setAddress(address(host, port))
        .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
            .setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm))))
        .build();
  }

  static HttpConnectionManager.Builder hcm(String prefix, RouteConfiguration routes) {
    return HttpConnectionManager.newBuilder().setStatPrefix(prefix).setRouteConfig(routes)
        .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router")
            .setTypedConfig(Any.pack(Router.getDefaultInstance())));
  }

  static Cluster cluster(String name, String host, int port, TransportSocket tls) {
    Cluster.Builder cluster = Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(Duration.newBuilder().setSeconds(1))
        .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(name)
            .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(Endpoint.newBuilder().setAddress(address(host, port))))));
    if (tls != null) {
      cluster.setTransportSocket(tls);
    }
    return cluster.build();
  }

  /**
   * Every request on a new connection, so each one is a full mTLS handshake with the certificates
   * and bundles on disk at that moment: a reload or rotation cannot hide behind a kept-alive
   * connection.
   */
  static Cluster oneRequestPerConnection(Cluster cluster) {
    var options = io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder()
        .setCommonHttpProtocolOptions(io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.newBuilder()
            .setMaxRequestsPerConnection(com.google.protobuf.UInt32Value.of(1)))
        .setExplicitHttpConfig(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions
            .ExplicitHttpConfig.newBuilder().setHttpProtocolOptions(
                io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions.getDefaultInstance()))
        .build();
    return cluster.toBuilder().putTypedExtensionProtocolOptions(
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.pack(options)).build();
  }

  static Address address(String host, int port) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port))
        .build();
  }

  static HttpResponse<String> get(String host, int port, String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + path))
          .timeout(java.time.Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The serial of the certificate the server sidecar presents (the cert_chain of its TLS contexts
   * in the admin's /certs, not the ca_cert), or -1 while its contexts disagree mid-reload.
   */
  static BigInteger serverSerial() {
    try {
      var certs = new com.fasterxml.jackson.databind.ObjectMapper().readTree(server.admin("/certs"));
      java.util.Set<BigInteger> serials = new java.util.TreeSet<>();
      for (var context : certs.path("certificates")) {
        for (var cert : context.path("cert_chain")) {
          serials.add(new BigInteger(cert.path("serial_number").asText(), 16));
        }
      }
      assertThat(serials).as("certificates in the server's /certs").isNotEmpty();
      return serials.size() == 1 ? serials.iterator().next() : BigInteger.ONE.negate();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
