package dev.weft.xds.server;

import io.envoyproxy.controlplane.server.DefaultExecutorGroup;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.controlplane.server.serializer.CachedProtoResourcesSerializer;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC server proxies talk to: ADS (state of the world and delta on the one service) answered
 * from the {@link SnapshotPublisher}'s cache, every stream kept in {@link ConnectedProxies}, plus the
 * gRPC health service (SERVING once the first snapshot is published) and, if asked, reflection.
 *
 * <p>Connections are kept alive by pings both ways and closed after {@code maxConnectionAge} (with a
 * grace for the ADS stream), so proxies spread over replicas again after a scale-up or a restart.
 * {@link #stop()} drains: no new connections or streams, a GOAWAY on every connection, every ADS
 * stream closed with UNAVAILABLE so its proxy reconnects to another replica at once, then a bounded
 * wait and a forced close.
 */
public final class XdsServer implements AutoCloseable {

  public static final int DEFAULT_PORT = 18000;

  private static final Logger LOG = LoggerFactory.getLogger(XdsServer.class);
  private static final Duration FORCED_CLOSE_WAIT = Duration.ofSeconds(5);

  private final Server server;
  /** Kept: the server stops answering getPort() once terminated, but logs still want it. */
  private final int port;
  private final ConnectedProxies proxies;
  private final HealthStatusManager health;
  private final Duration shutdownGrace;
  private final ScheduledExecutorService stallSweeper;
  private final AtomicBoolean stopped = new AtomicBoolean();

  private XdsServer(Server server, ConnectedProxies proxies, HealthStatusManager health, Duration shutdownGrace,
      ScheduledExecutorService stallSweeper) {
    this.server = server;
    this.port = server.getPort();
    this.proxies = proxies;
    this.health = health;
    this.shutdownGrace = shutdownGrace;
    this.stallSweeper = stallSweeper;
  }

  /**
   * A server for {@code publisher}'s snapshots whose streams go into {@code proxies} (the registry
   * the publisher listens to); adjust, then {@link Builder#start()}.
   */
  public static Builder builder(ConnectedProxies proxies, SnapshotPublisher publisher) {
    return new Builder(proxies, publisher);
  }

  /** The port the server listens on (the real one when it was started on port 0). */
  public int port() {
    return port;
  }

  /** Drains and stops the server; waits at most the shutdown grace plus a few seconds. Idempotent. */
  public void stop() {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    health.enterTerminalState();
    stallSweeper.shutdownNow();
    server.shutdown();
    int drained = proxies.closeAll(
        Status.UNAVAILABLE.withDescription("xDS server shutting down; reconnect to another replica"));
    LOG.info("xDS server on port {} draining: {} ADS streams closed", port, drained);
    try {
      if (!server.awaitTermination(shutdownGrace.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("xDS server did not drain within {}; closing the remaining connections", shutdownGrace);
        server.shutdownNow();
        server.awaitTermination(FORCED_CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop();
  }

  /** Settings of an {@link XdsServer}; the defaults are what a replica in a cluster runs with. */
  public static final class Builder {
    private final ConnectedProxies proxies;
    private final SnapshotPublisher publisher;
    private InetSocketAddress address = new InetSocketAddress(DEFAULT_PORT);
    private ServerCredentials credentials = InsecureServerCredentials.create();
    private boolean reflection;
    private Duration keepAliveTime = Duration.ofSeconds(30);
    private Duration keepAliveTimeout = Duration.ofSeconds(10);
    private Duration permitKeepAliveTime = Duration.ofSeconds(10);
    private Duration maxConnectionAge = Duration.ofMinutes(30);
    private Duration maxConnectionAgeGrace = Duration.ofSeconds(30);
    private Duration shutdownGrace = Duration.ofSeconds(10);
    private Duration stalledStreamTimeout = Duration.ofSeconds(30);

    private Builder(ConnectedProxies proxies, SnapshotPublisher publisher) {
      this.proxies = Objects.requireNonNull(proxies, "proxies");
      this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    /** Listen on every interface at {@code port} (0 picks a free one). */
    public Builder port(int port) {
      this.address = new InetSocketAddress(port);
      return this;
    }

    public Builder address(InetSocketAddress address) {
      this.address = Objects.requireNonNull(address, "address");
      return this;
    }

    /**
     * Transport security; plain text by default. With TLS credentials that require a client
     * certificate from the mesh CA ({@link XdsTls}), each stream's node must claim the namespace
     * and ServiceAccount of its certificate's SPIFFE ID ({@link PeerIdentity}), or it is refused
     * with PERMISSION_DENIED before it gets any config.
     */
    public Builder credentials(ServerCredentials credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /** Serve gRPC reflection too (for grpcurl and friends); off by default. */
    public Builder reflection(boolean reflection) {
      this.reflection = reflection;
      return this;
    }

    /** Server pings after this much silence on a connection, and drops it when unanswered for {@code timeout}. */
    public Builder keepAlive(Duration time, Duration timeout) {
      this.keepAliveTime = time;
      this.keepAliveTimeout = timeout;
      return this;
    }

    /** The most frequent client pings tolerated (with or without open calls) before the connection is closed. */
    public Builder permitKeepAliveTime(Duration time) {
      this.permitKeepAliveTime = time;
      return this;
    }

    /** Connections get a GOAWAY after {@code age} (±10% jitter) and are closed {@code grace} later. */
    public Builder maxConnectionAge(Duration age, Duration grace) {
      this.maxConnectionAge = age;
      this.maxConnectionAgeGrace = grace;
      return this;
    }

    /** How long {@link XdsServer#stop()} waits for connections to go before closing them. */
    public Builder shutdownGrace(Duration grace) {
      this.shutdownGrace = grace;
      return this;
    }

    /**
     * A delta stream whose proxy reads none of what it was sent for this long is closed (the proxy
     * reconnects): it would otherwise keep its share of the server's send budget.
     */
    public Builder stalledStreamTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("the stalled stream timeout must be positive, was " + timeout);
      }
      this.stalledStreamTimeout = timeout;
      return this;
    }

    public XdsServer start() throws IOException {
      // The registry is the only callback; what acts on streams (the publisher computing a new
      // group's snapshot before the cache opens its watch, the sync tracker) listens to it.
      // Every stream that gets a resource gets the same bytes: serialize it once, not once per
      // stream (a weight edit at 1,000 proxies spent two thirds of the server's time in Any.pack).
      V3DiscoveryServer discovery = new V3DiscoveryServer(List.of(proxies), publisher.cache(),
          new DefaultExecutorGroup(), new CachedProtoResourcesSerializer());
      AdsService ads = new AdsService(discovery.getAggregatedDiscoveryServiceImpl(), publisher.deltaStreams(),
          proxies);
      HealthStatusManager health = new HealthStatusManager();
      health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.NOT_SERVING);
      health.setStatus(AggregatedDiscoveryServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);

      NettyServerBuilder builder = NettyServerBuilder.forAddress(address, credentials)
          // Over TLS, the client certificate's SPIFFE ID goes with each ADS call to the registry.
          .addService(ServerInterceptors.intercept(ads.definition(), PeerIdentity.interceptor()))
          .addService(health.getHealthService())
          .keepAliveTime(keepAliveTime.toMillis(), TimeUnit.MILLISECONDS)
          .keepAliveTimeout(keepAliveTimeout.toMillis(), TimeUnit.MILLISECONDS)
          .permitKeepAliveTime(permitKeepAliveTime.toMillis(), TimeUnit.MILLISECONDS)
          .permitKeepAliveWithoutCalls(true)
          .maxConnectionAge(maxConnectionAge.toMillis(), TimeUnit.MILLISECONDS)
          .maxConnectionAgeGrace(maxConnectionAgeGrace.toMillis(), TimeUnit.MILLISECONDS);
      if (reflection) {
        builder.addService(ProtoReflectionServiceV1.newInstance());
      }
      Server server = builder.build().start();
      publisher.whenReady().thenRun(() -> {
        // After stop, enterTerminalState makes these no-ops.
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
        health.setStatus(AggregatedDiscoveryServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      });
      ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "weft-stalled-streams");
        thread.setDaemon(true);
        return thread;
      });
      long every = Math.max(1, stalledStreamTimeout.toMillis() / 3);
      sweeper.scheduleWithFixedDelay(() -> {
        try {
          publisher.deltaStreams().closeStalled(stalledStreamTimeout);
        } catch (RuntimeException e) {
          // A failure must not end the schedule (a scheduled task that throws is never run again).
          LOG.error("checking for stalled delta streams failed", e);
        }
      }, every, every, TimeUnit.MILLISECONDS);
      LOG.info("xDS server listening on port {} (ADS state of the world and delta)", server.getPort());
      return new XdsServer(server, proxies, health, shutdownGrace, sweeper);
    }
  }
}
