package dev.weft.testsupport;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/** A tiny HTTP server on its own loopback address that answers 200 with its name and counts requests. */
public final class HttpBackend implements AutoCloseable {

  /** Response header that names the backend that answered. */
  public static final String BACKEND_HEADER = "x-backend";

  private static final int FIRST_HOST = 2;
  private static final int LAST_HOST = 254;
  // Start at a random host so that two JVMs running at once rarely pick the same addresses.
  private static final AtomicInteger NEXT_HOST =
      new AtomicInteger(ThreadLocalRandom.current().nextInt(LAST_HOST - FIRST_HOST + 1));
  private static final int KEPT_REQUESTS = 1_000;

  private final String name;
  private final HttpServer server;
  private final ExecutorService executor;
  private final AtomicInteger requestCount = new AtomicInteger();
  private final List<RecordedRequest> requests = new ArrayList<>();

  /** One request as the backend saw it; header names are lower case. */
  public record RecordedRequest(String method, String path, Map<String, List<String>> headers) {

    public RecordedRequest {
      headers = Map.copyOf(headers);
    }

    /** The first value of a header, looked up case-insensitively. */
    public Optional<String> header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }
  }

  private HttpBackend(String name, HttpServer server, ExecutorService executor) {
    this.name = name;
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts a backend on the next address of 127.0.0.2..127.0.0.254 (all of 127/8 is local on Linux),
   * so each backend in a test has an address of its own, as pods do.
   */
  public static HttpBackend start(String name) {
    return start(name, nextLoopbackAddress());
  }

  /** Starts a backend on {@code address}, on a port the kernel picks while binding (so no race). */
  public static HttpBackend start(String name, InetAddress address) {
    return start(name, address, 0);
  }

  /**
   * Starts a backend on {@code address}:{@code port}, for a test that needs a given port (one a
   * mesh Service also uses, say); the address should be the test's own, so the port is free there.
   */
  public static HttpBackend start(String name, InetAddress address, int port) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(address, port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind backend " + name + " on " + address.getHostAddress(), e);
    }
    ExecutorService executor = Executors.newFixedThreadPool(4, runnable -> {
      Thread thread = new Thread(runnable, "backend-" + name);
      thread.setDaemon(true);
      return thread;
    });
    HttpBackend backend = new HttpBackend(name, server, executor);
    server.createContext("/", backend::answer);
    server.setExecutor(executor);
    server.start();
    return backend;
  }

  public String name() {
    return name;
  }

  /** The IP address it listens on, as text, for an Envoy cluster's socket_address. */
  public String host() {
    return server.getAddress().getAddress().getHostAddress();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  public URI url() {
    return URI.create("http://" + host() + ":" + port() + "/");
  }

  /** How many requests it has answered. */
  public int requestCount() {
    return requestCount.get();
  }

  /** The requests it has seen, oldest first (the first thousand). */
  public List<RecordedRequest> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  /** The newest request it has seen, if any. */
  public Optional<RecordedRequest> lastRequest() {
    synchronized (requests) {
      return requests.isEmpty() ? Optional.empty() : Optional.of(requests.get(requests.size() - 1));
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  @Override
  public String toString() {
    return "HttpBackend[" + name + " at " + host() + ":" + port() + "]";
  }

  private void answer(HttpExchange exchange) throws IOException {
    try (exchange; InputStream body = exchange.getRequestBody()) {
      body.readAllBytes();
      record(exchange);
      byte[] response = name.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add(BACKEND_HEADER, name);
      exchange.getResponseHeaders().add("content-type", "text/plain; charset=utf-8");
      boolean head = "HEAD".equalsIgnoreCase(exchange.getRequestMethod());
      exchange.sendResponseHeaders(200, head ? -1 : response.length);
      if (!head) {
        exchange.getResponseBody().write(response);
      }
    }
  }

  private void record(HttpExchange exchange) {
    Map<String, List<String>> headers = new TreeMap<>();
    exchange.getRequestHeaders().forEach((key, values) ->
        headers.put(key.toLowerCase(Locale.ROOT), List.copyOf(values)));
    RecordedRequest request = new RecordedRequest(exchange.getRequestMethod(),
        exchange.getRequestURI().toString(), headers);
    synchronized (requests) {
      if (requests.size() < KEPT_REQUESTS) {
        requests.add(request);
      }
    }
    // Counted last, so a test that sees the count also sees the request.
    requestCount.incrementAndGet();
  }

  private static InetAddress nextLoopbackAddress() {
    int span = LAST_HOST - FIRST_HOST + 1;
    int host = FIRST_HOST + Math.floorMod(NEXT_HOST.getAndIncrement(), span);
    try {
      return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) host});
    } catch (UnknownHostException e) {
      throw new IllegalStateException("127.0.0." + host + " is not a valid address", e);
    }
  }
}
