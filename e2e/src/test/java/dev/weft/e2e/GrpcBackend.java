package dev.weft.e2e;

import io.grpc.InsecureServerCredentials;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gRPC server that answers the unary call {@link #WHO_AM_I} with its own name, as
 * {@code HttpBackend} does for HTTP: what a proxyless gRPC client reaches directly, with no sidecar.
 *
 * <p>The method is declared by hand with a UTF-8 string marshaller, so the test needs no protoc.
 */
final class GrpcBackend implements AutoCloseable {

  static final String SERVICE = "weft.e2e.WhoAmI";
  /** A request {@code "sleep 1500"} is answered 1.5 s late. */
  static final String SLEEP = "sleep ";
  /** The first request {@code "fail-first <key>"} for a key fails with UNAVAILABLE, the next ones succeed. */
  static final String FAIL_FIRST = "fail-first ";
  /** Request: ignored; response: the server's name. */
  static final MethodDescriptor<String, String> WHO_AM_I = MethodDescriptor.<String, String>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Name"))
      .setRequestMarshaller(Utf8Marshaller.INSTANCE)
      .setResponseMarshaller(Utf8Marshaller.INSTANCE)
      .build();

  private final String name;
  private final Server server;
  private final AtomicInteger callCount;

  private GrpcBackend(String name, Server server, AtomicInteger callCount) {
    this.name = name;
    this.server = server;
    this.callCount = callCount;
  }

  /** Starts a server on {@code address}, on a port the kernel picks while binding (so no race). */
  static GrpcBackend start(String name, String address) {
    AtomicInteger calls = new AtomicInteger();
    Set<String> failedOnce = ConcurrentHashMap.newKeySet();
    ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE)
        .addMethod(WHO_AM_I, ServerCalls.asyncUnaryCall((request, response) -> {
          calls.incrementAndGet();
          // "fail-first <key>": the first call with this key fails as an overloaded server would.
          if (request.startsWith(FAIL_FIRST) && failedOnce.add(request)) {
            response.onError(Status.UNAVAILABLE.withDescription("failing the first call of " + request)
                .asRuntimeException());
            return;
          }
          // "sleep <ms>" makes a slow call, for deadlines the xDS config sets.
          if (request.startsWith(SLEEP)) {
            try {
              Thread.sleep(Long.parseLong(request.substring(SLEEP.length())));
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          response.onNext(name);
          response.onCompleted();
        }))
        .build();
    InetSocketAddress bind = new InetSocketAddress(inetAddress(address), 0);
    try {
      Server server = NettyServerBuilder.forAddress(bind, InsecureServerCredentials.create())
          .addService(service)
          .build()
          .start();
      return new GrpcBackend(name, server, calls);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind gRPC backend " + name + " on " + address, e);
    }
  }

  String name() {
    return name;
  }

  /** The address and port it listens on, as an EndpointSlice lists it. */
  InetSocketAddress address() {
    return (InetSocketAddress) server.getListenSockets().get(0);
  }

  /** How many calls it has answered. */
  int callCount() {
    return callCount.get();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdown();
    if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
      server.shutdownNow();
    }
  }

  @Override
  public String toString() {
    return "GrpcBackend[" + name + " at " + address() + "]";
  }

  private static InetAddress inetAddress(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(literal + " is not an IP address", e);
    }
  }

  /** Messages are plain UTF-8 text. */
  private enum Utf8Marshaller implements MethodDescriptor.Marshaller<String> {
    INSTANCE;

    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read a gRPC message", e);
      }
    }
  }
}
