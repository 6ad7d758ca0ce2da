package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.HttpBackend;
import dev.weft.testsupport.ProcessLogsOnFailure;
import dev.weft.testsupport.WeftTools;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A real Envoy from a static bootstrap proxies HTTP to a backend on its own loopback address. */
@ExtendWith(ProcessLogsOnFailure.class)
class EnvoyProxyTest {

  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private HttpBackend backend;
  private EnvoyProcess envoy;

  @BeforeAll
  static void printEnvoyVersion() {
    WeftTools tools = WeftTools.locate();
    System.out.println("Envoy under test: " + EnvoyProcess.binaryVersion(tools)
        + " (pinned " + tools.version("envoy").orElse("?") + ")");
  }

  @BeforeEach
  void startBackendAndEnvoy() {
    backend = HttpBackend.start("payments-v1");
    envoy = EnvoyProcess.builder("static-proxy")
        .bootstrapResource("/envoy/static-proxy.yaml")
        .port("LISTENER_PORT")
        .variable("BACKEND_HOST", backend.host())
        .variable("BACKEND_PORT", backend.port())
        .start();
  }

  @AfterEach
  void stop() {
    if (envoy != null) {
      envoy.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  @Test
  void proxiesARequestToTheStaticBackend() throws Exception {
    URI url = URI.create("http://127.0.0.1:" + envoy.port("LISTENER_PORT") + "/pay");

    HttpResponse<String> response = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("payments-v1");
    assertThat(response.headers().firstValue(HttpBackend.BACKEND_HEADER)).hasValue("payments-v1");
    assertThat(backend.requestCount()).isEqualTo(1);
    assertThat(backend.lastRequest()).hasValueSatisfying(request -> {
      assertThat(request.path()).isEqualTo("/pay");
      // Envoy adds this to every request it routes: proof the request came through the proxy.
      assertThat(request.header("x-envoy-expected-rq-timeout-ms")).isPresent();
    });
    assertThat(envoy.counter("cluster.backend.upstream_rq_200")).isEqualTo(1);
  }

  @Test
  void exposesTheAdminApi() {
    assertThat(envoy.isLive()).isTrue();
    assertThat(envoy.configDump()).contains("\"ingress\"").contains(backend.host());
    assertThat(envoy.stats()).containsKey("server.live");
    assertThat(envoy.serverInfo()).contains("\"state\": \"LIVE\"");
  }

  @Test
  void aRejectedBootstrapFailsAtOnceWithEnvoysReason() {
    long started = System.nanoTime();

    assertThatThrownBy(() -> EnvoyProcess.builder("rejected")
        .bootstrap("static_resources: { clusters: [ { name: broken, type: NO_SUCH_TYPE } ] }\n")
        .start())
        .hasMessageContaining("exited with code")
        .hasMessageContaining("NO_SUCH_TYPE");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
  }
}
