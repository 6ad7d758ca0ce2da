package dev.weft.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.demo.LocalPod;
import dev.weft.demo.MeshIdentities;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.PaymentsMesh;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the mesh costs a request: latency and throughput of plain HTTP from a client straight to
 * the app, against the same request through the client's sidecar and the server's sidecar (two real
 * Envoys, as every meshed call goes), in plaintext and with mTLS between the sidecars (the
 * operator's certificates), plus the sidecars' memory. Prints numbers; asserts nothing
 * about time (run with `make bench`). Everything shares 2 cores, so the absolute numbers are
 * pessimistic; the difference is what the two proxies add.
 */
@KubeApiServerTest
class DataPlaneBench {

  static final String NS = "dataplane";
  static final String NS_MTLS = "dataplane-mtls";
  static final int WARM_UP = 500;
  static final int REQUESTS = 5000;
  static final int THREADS = 8;
  static final Duration THROUGHPUT_RUN = Duration.ofSeconds(5);

  @Test
  void directVersusThroughTwoSidecarsPlaintextAndMtls(Kubectl kubectl, KubernetesClient client, @TempDir java.nio.file.Path mounts)
      throws Exception {
    WeftCrds.install(kubectl);
    MeshObjects objects = PaymentsMesh.declare(client, NS);
    MeshObjects mtlsObjects = PaymentsMesh.declare(client, NS_MTLS);
    // The second mesh's sidecars get the operator's certificates: every hop between them is mTLS.
    try (WeftOperator operator = WeftOperator.start(client, new WeftOperator.Config(Set.of(NS_MTLS),
            new InetSocketAddress("127.0.0.1", 0), Optional.empty())
            .withCertificates(Optional.of(CertificateSettings.defaults())));
        XdsServerApp xds = XdsServerApp.start(client,
            new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS, NS_MTLS)));
        PaymentsMesh mesh = PaymentsMesh.start(objects, NS, 13, xds.xdsPort());
        PaymentsMesh mtls = PaymentsMesh.start(mtlsObjects, NS_MTLS, 14, xds.xdsPort(),
            new MeshIdentities(client, mounts))) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpRequest direct = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mesh.v1.appPort() + "/")).build();
      HttpRequest meshed = HttpRequest.newBuilder(
              URI.create("http://" + mesh.web.address() + ":" + LocalPod.OUTBOUND_PORT + "/"))
          .header("Host", "payments-v1").build();
      HttpRequest meshedMtls = HttpRequest.newBuilder(
              URI.create("http://" + mtls.web.address() + ":" + LocalPod.OUTBOUND_PORT + "/"))
          .header("Host", "payments-v1").build();
      List<Path> paths = List.of(new Path("direct to the app", direct), new Path("through 2 sidecars", meshed),
          new Path("2 sidecars, mTLS", meshedMtls));

      System.out.println("data plane, one client, sequential requests (keep-alive, HTTP/1.1):");
      for (Path path : paths) {
        for (int i = 0; i < WARM_UP; i++) {
          send(http, path.request());
        }
        Percentiles latency = new Percentiles();
        for (int i = 0; i < REQUESTS; i++) {
          long start = System.nanoTime();
          send(http, path.request());
          latency.add((System.nanoTime() - start) / 1e6);
        }
        System.out.printf("  %-20s %s%n", path.name(), latency);
      }

      System.out.println("data plane, " + THREADS + " clients for " + THROUGHPUT_RUN.toSeconds() + " s:");
      for (Path path : paths) {
        System.out.printf("  %-20s %,.0f requests/s%n", path.name(), throughput(http, path.request()));
      }
      long handshakes = mtls.clientHandshakes(NS_MTLS);
      System.out.printf("sidecar memory after the runs: client %.1f MB, server %.1f MB; mTLS pair: client %.1f MB, "
          + "server %.1f MB (Envoy heap allocated); mTLS handshakes by the mTLS client sidecar: %d, by the "
          + "plaintext one: %d%n", allocatedMb(mesh.web.sidecar()), allocatedMb(mesh.v1.sidecar()),
          allocatedMb(mtls.web.sidecar()), allocatedMb(mtls.v1.sidecar()), handshakes, mesh.clientHandshakes(NS));
      if (handshakes == 0) {
        throw new IllegalStateException("the mTLS pair made no TLS handshake: it did not measure mTLS");
      }
    }
  }

  /** One way to reach the app. */
  private record Path(String name, HttpRequest request) {}

  private static void send(HttpClient http, HttpRequest request) throws Exception {
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException(request.uri() + " answered " + response.statusCode() + ": " + response.body());
    }
  }

  private static double throughput(HttpClient http, HttpRequest request) throws Exception {
    AtomicLong done = new AtomicLong();
    long deadline = System.nanoTime() + THROUGHPUT_RUN.toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Callable<Void>> clients = new ArrayList<>();
      for (int i = 0; i < THREADS; i++) {
        clients.add(() -> {
          while (System.nanoTime() < deadline) {
            send(http, request);
            done.incrementAndGet();
          }
          return null;
        });
      }
      long start = System.nanoTime();
      for (Future<Void> client : pool.invokeAll(clients)) {
        client.get();
      }
      return done.get() / ((System.nanoTime() - start) / 1e9);
    } finally {
      pool.shutdownNow();
    }
  }

  private static double allocatedMb(EnvoyProcess envoy) throws Exception {
    return new ObjectMapper().readTree(envoy.admin("/memory")).path("allocated").asDouble() / 1e6;
  }
}
