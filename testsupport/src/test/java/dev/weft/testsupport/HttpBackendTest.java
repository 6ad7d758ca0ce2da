package dev.weft.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class HttpBackendTest {

  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2))
      .build();

  @Test
  void answersEveryRequestWithItsNameAndCountsThem() throws Exception {
    try (HttpBackend backend = HttpBackend.start("payments-v2")) {
      HttpResponse<String> first = get(backend, "/");
      HttpResponse<String> second = get(backend, "/anything/else?x=1");

      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.body()).isEqualTo("payments-v2");
      assertThat(second.body()).isEqualTo("payments-v2");
      assertThat(first.headers().firstValue(HttpBackend.BACKEND_HEADER)).hasValue("payments-v2");
      assertThat(backend.requestCount()).isEqualTo(2);
    }
  }

  @Test
  void recordsWhatItWasSent() throws Exception {
    try (HttpBackend backend = HttpBackend.start("recorder")) {
      http.send(HttpRequest.newBuilder(backend.url().resolve("/orders/7"))
          .header("X-Request-Id", "abc").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
          HttpResponse.BodyHandlers.ofString());

      assertThat(backend.lastRequest()).hasValueSatisfying(request -> {
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.path()).isEqualTo("/orders/7");
        assertThat(request.header("x-request-id")).hasValue("abc");
      });
    }
  }

  @Test
  void listensOnALoopbackAddressOfItsOwn() {
    try (HttpBackend first = HttpBackend.start("a"); HttpBackend second = HttpBackend.start("b")) {
      assertThat(first.host()).startsWith("127.0.0.").isNotEqualTo("127.0.0.1");
      assertThat(second.host()).startsWith("127.0.0.").isNotEqualTo(first.host());
      assertThat(first.port()).isPositive();
    }
  }

  @Test
  void stopsAnsweringWhenClosed() throws Exception {
    HttpBackend backend = HttpBackend.start("short-lived");
    get(backend, "/");
    backend.close();

    assertThatThrownBy(() -> get(backend, "/")).isInstanceOf(IOException.class);
  }

  private HttpResponse<String> get(HttpBackend backend, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(backend.url().resolve(path)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
