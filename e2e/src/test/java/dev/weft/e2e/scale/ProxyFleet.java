package dev.weft.e2e.scale;

import dev.weft.e2e.scale.SimulatedProxy.Kind;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * N simulated sidecars spread over 20 namespaces × 5 service accounts (100 proxy groups), their
 * streams multiplexed over a few HTTP/2 connections to the server and served by a small executor;
 * and what they received, summed over all of them.
 */
final class ProxyFleet implements AutoCloseable, SimulatedProxy.Receipts {

  static final int SERVICE_ACCOUNTS = 5;
  private static final int STREAMS_PER_CONNECTION = 250;
  private static final int MAX_INBOUND_BYTES = 256 << 20;

  /** Totals over every proxy at one moment, to subtract. */
  record Totals(long bytes, long resources, long responses) {
    Totals minus(Totals earlier) {
      return new Totals(bytes - earlier.bytes, resources - earlier.resources, responses - earlier.responses);
    }
  }

  private final List<SimulatedProxy> proxies = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final ExecutorService callbacks = Executors.newFixedThreadPool(4, r -> {
    Thread thread = new Thread(r, "proxy-fleet");
    thread.setDaemon(true);
    return thread;
  });
  private final Map<String, String> names = new ConcurrentHashMap<>();
  private final Map<Kind, LongAdder> bytes = new EnumMap<>(Kind.class);
  private final LongAdder resources = new LongAdder();
  private final LongAdder responses = new LongAdder();
  private volatile long lastResponseNanos;
  /** When the first response of any proxy arrived (System.nanoTime), 0 before. */
  private final AtomicLong firstResponseNanos = new AtomicLong();

  /** {@code count} proxies in {@code namespaces}, delta or state-of-the-world, not yet connected. */
  ProxyFleet(int count, List<String> namespaces, boolean delta) {
    for (Kind kind : Kind.values()) {
      bytes.put(kind, new LongAdder());
    }
    for (int i = 0; i < count; i++) {
      String namespace = namespaces.get(i % namespaces.size());
      String serviceAccount = "sa" + (i / namespaces.size()) % SERVICE_ACCOUNTS;
      String pod = "proxy" + i;
      proxies.add(delta
          ? SimulatedProxy.delta(pod, namespace, serviceAccount, this)
          : SimulatedProxy.stateOfTheWorld(pod, namespace, serviceAccount, this));
    }
  }

  /** Opens every proxy's stream, {@value #STREAMS_PER_CONNECTION} streams to a connection. */
  void connect(int port) {
    int connections = Math.max(1, (proxies.size() + STREAMS_PER_CONNECTION - 1) / STREAMS_PER_CONNECTION);
    for (int c = 0; c < connections; c++) {
      channels.add(ManagedChannelBuilder.forAddress("127.0.0.1", port)
          .usePlaintext()
          .executor(callbacks)
          .maxInboundMessageSize(MAX_INBOUND_BYTES)
          .build());
    }
    for (int i = 0; i < proxies.size(); i++) {
      proxies.get(i).start(AggregatedDiscoveryServiceGrpc.newStub(channels.get(i % connections)));
    }
  }

  int size() {
    return proxies.size();
  }

  long syncedCount() {
    return proxies.stream().filter(SimulatedProxy::synced).count();
  }

  /**
   * When each proxy had ACKed every type (the latest of its last ACKs; read right after the sync,
   * before any edit), sorted.
   */
  long[] syncedNanos() {
    return proxies.stream().mapToLong(p -> {
      long latest = 0;
      for (Kind kind : Kind.values()) {
        latest = Math.max(latest, p.lastAckNanos(kind));
      }
      return latest;
    }).sorted().toArray();
  }

  /** Each proxy's last ACK of {@code kind}, sorted (0: none yet). */
  long[] lastAcksNanos(Kind kind) {
    return proxies.stream().mapToLong(p -> p.lastAckNanos(kind)).sorted().toArray();
  }

  /** Proxies that have ACKed {@code kind} after {@code sinceNanos}. */
  long ackedSince(Kind kind, long sinceNanos) {
    return proxies.stream().filter(p -> p.lastAckNanos(kind) > sinceNanos).count();
  }

  /** The latest ACK of {@code kind} among all proxies. */
  long lastAckNanos(Kind kind) {
    return proxies.stream().mapToLong(p -> p.lastAckNanos(kind)).max().orElse(0);
  }

  long lastResponseNanos() {
    return lastResponseNanos;
  }

  /** When the first response of any proxy arrived (System.nanoTime), 0 if none has. */
  long firstResponseNanos() {
    return firstResponseNanos.get();
  }

  /** How many streams ended without us closing them, and the first reason. */
  String failures() {
    List<Throwable> failed = proxies.stream().map(SimulatedProxy::failure).filter(Objects::nonNull).toList();
    return failed.isEmpty() ? "" : failed.size() + " streams ended (" + failed.get(0) + ")";
  }

  Totals totals() {
    long all = bytes.values().stream().mapToLong(LongAdder::sum).sum();
    return new Totals(all, resources.sum(), responses.sum());
  }

  /**
   * Polls {@code done} every 10 ms until it holds, {@code alive} fails or the deadline passes;
   * true when it held.
   */
  static boolean await(BooleanSupplier done, BooleanSupplier alive, long deadlineNanos) throws InterruptedException {
    while (!done.getAsBoolean()) {
      if (!alive.getAsBoolean() || System.nanoTime() > deadlineNanos) {
        return false;
      }
      TimeUnit.MILLISECONDS.sleep(10);
    }
    return true;
  }

  @Override
  public void received(Kind kind, int size, int count) {
    bytes.get(kind).add(size);
    resources.add(count);
    responses.increment();
    long now = System.nanoTime();
    lastResponseNanos = now;
    if (firstResponseNanos.get() == 0) {
      firstResponseNanos.compareAndSet(0, now);
    }
  }

  @Override
  public String intern(String name) {
    return names.computeIfAbsent(name, n -> n);
  }

  @Override
  public void close() throws InterruptedException {
    proxies.forEach(SimulatedProxy::close);
    channels.forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel channel : channels) {
      channel.awaitTermination(10, TimeUnit.SECONDS);
    }
    callbacks.shutdownNow();
  }
}
