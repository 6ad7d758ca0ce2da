package dev.weft.operator.webhook;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS edge the kube-apiserver calls: POSTs to {@link PodAdmission}'s paths, answered with
 * what it says. TLS 1.2+ with the current {@link ServingKeys}; bodies over 4 MiB are refused.
 */
public final class WebhookServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(WebhookServer.class);
  /** Far above any pod (the apiserver's own request limit is 3 MiB). */
  private static final int MAX_BODY = 4 << 20;

  private final HttpsServer server;
  private final ExecutorService executor;

  private WebhookServer(HttpsServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  static WebhookServer start(InetSocketAddress address, ServingKeys keys, PodAdmission admission) throws IOException {
    SSLContext tls;
    try {
      tls = SSLContext.getInstance("TLS");
      tls.init(new KeyManager[] {keys}, null, null);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no TLS for the webhook", e);
    }
    HttpsServer server = HttpsServer.create(address, 64);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "weft-webhook");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", exchange -> answer(exchange, admission));
    server.start();
    return new WebhookServer(server, executor);
  }

  private static void answer(HttpExchange exchange, PodAdmission admission) throws IOException {
    try (exchange) {
      PodAdmission.Answer answer;
      if (!"POST".equals(exchange.getRequestMethod())) {
        answer = new PodAdmission.Answer(405, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
            + "\"code\":405,\"message\":\"admission reviews are POSTed\"}");
      } else {
        byte[] body = read(exchange.getRequestBody());
        answer = body == null
            ? new PodAdmission.Answer(413, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                + "\"code\":413,\"message\":\"the body is larger than " + MAX_BODY + " bytes\"}")
            : admission.handle(exchange.getRequestURI().getPath(), body);
      }
      byte[] bytes = answer.json().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(answer.status(), bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("webhook request {} failed: {}", exchange.getRequestURI(), e.toString());
      throw e;
    }
  }

  private static byte[] read(InputStream in) throws IOException {
    byte[] body = in.readNBytes(MAX_BODY + 1);
    return body.length > MAX_BODY ? null : body;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
