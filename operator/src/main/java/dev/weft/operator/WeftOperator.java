package dev.weft.operator;

import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.operator.certificates.CertManagerCertificateController;
import dev.weft.operator.certificates.CertificateSource;
import dev.weft.operator.certificates.WorkloadCertificateController;
import dev.weft.operator.injection.InjectionSettings;
import dev.weft.operator.reconcile.AccessPolicyReconciler;
import dev.weft.operator.reconcile.EventRecorder;
import dev.weft.operator.reconcile.TrafficSplitReconciler;
import dev.weft.operator.reconcile.VirtualServiceReconciler;
import dev.weft.operator.sync.MeshStatusAggregator;
import dev.weft.operator.sync.MeshStatusKeeper;
import dev.weft.operator.webhook.InjectionWebhook;
import dev.weft.operator.webhook.WebhookSettings;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.RuntimeInfo;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator process: java-operator-sdk reconcilers that validate TrafficSplits, VirtualServices
 * and AccessPolicies and write their status (Programmed from the xds-server's sync reports), the
 * mesh CA and the workload certificates, and the keeper of MeshStatus; leader-elected through a Lease so that one instance
 * reconciles while the others stand by with warm caches, and an HTTP endpoint for probes and metrics.
 */
public final class WeftOperator implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(WeftOperator.class);

  /** Who takes part in leader election, on which Lease, and how fast a dead leader is replaced. */
  public record LeaderElection(String leaseName, String leaseNamespace, String identity, Duration leaseDuration,
      Duration renewDeadline, Duration retryPeriod) {

    public static final String DEFAULT_LEASE_NAME = "weft-operator";

    public LeaderElection {
      Objects.requireNonNull(leaseName, "leaseName");
      Objects.requireNonNull(identity, "identity");
      if (renewDeadline.compareTo(leaseDuration) >= 0) {
        throw new IllegalArgumentException("the renew deadline must be shorter than the lease duration");
      }
    }

    /** The Lease {@value #DEFAULT_LEASE_NAME} with JOSDK's timings (15s lease, 10s renew deadline, 2s retry). */
    public static LeaderElection of(String leaseNamespace, String identity) {
      return of(DEFAULT_LEASE_NAME, leaseNamespace, identity);
    }

    /** The Lease {@code leaseName} with JOSDK's timings. */
    public static LeaderElection of(String leaseName, String leaseNamespace, String identity) {
      return new LeaderElection(leaseName, leaseNamespace, identity,
          LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
          LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
          LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE);
    }

    public LeaderElection withTimings(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
      return new LeaderElection(leaseName, leaseNamespace, identity, leaseDuration, renewDeadline, retryPeriod);
    }
  }

  /**
   * What to watch and where to serve. An empty {@code namespaces} means every namespace; without
   * {@code leaderElection} this instance reconciles on its own (a laptop, a demo).
   * {@code xdsNamespaces} are where the xds-server replicas keep their sync reports; empty means
   * the operator's own namespace (the Lease's, else the client's). {@code certificates} runs the
   * mesh CA and the workload certificates (its CA Secret is in the operator's own namespace); empty
   * turns them off.
   */
  public record Config(Set<String> namespaces, InetSocketAddress httpAddress, Optional<LeaderElection> leaderElection,
      Set<String> xdsNamespaces, Optional<CertificateSettings> certificates) {

    public Config {
      namespaces = Set.copyOf(namespaces);
      Objects.requireNonNull(httpAddress, "httpAddress");
      Objects.requireNonNull(leaderElection, "leaderElection");
      xdsNamespaces = Set.copyOf(xdsNamespaces);
      Objects.requireNonNull(certificates, "certificates");
    }

    /** Certificates with the defaults (a self-signed root in the Secret weft-ca). */
    public Config(Set<String> namespaces, InetSocketAddress httpAddress, Optional<LeaderElection> leaderElection,
        Set<String> xdsNamespaces) {
      this(namespaces, httpAddress, leaderElection, xdsNamespaces, Optional.of(CertificateSettings.defaults()));
    }

    /** Sync reports read from the operator's own namespace. */
    public Config(Set<String> namespaces, InetSocketAddress httpAddress, Optional<LeaderElection> leaderElection) {
      this(namespaces, httpAddress, leaderElection, Set.of());
    }

    public Config withXdsNamespaces(Set<String> newXdsNamespaces) {
      return new Config(namespaces, httpAddress, leaderElection, newXdsNamespaces, certificates);
    }

    public Config withCertificates(Optional<CertificateSettings> newCertificates) {
      return new Config(namespaces, httpAddress, leaderElection, xdsNamespaces, newCertificates);
    }

    /**
     * Settings from the environment, as the helm chart sets them: {@code WEFT_WATCH_NAMESPACES}
     * (comma-separated; unset or empty: all), {@code WEFT_OPERATOR_HTTP_PORT} (default 8080),
     * {@code WEFT_BIND_ADDRESS} (default 0.0.0.0), {@code WEFT_LEADER_ELECTION} ({@code false}
     * turns it off), {@code WEFT_LEASE_NAME} (the Lease; unset: {@value LeaderElection#DEFAULT_LEASE_NAME};
     * the chart names it after the release), {@code WEFT_POD_NAMESPACE} (the Lease's namespace; unset:
     * the client's namespace), {@code WEFT_POD_NAME} (the identity; unset: HOSTNAME, then the host name) and
     * {@code WEFT_XDS_NAMESPACE} (comma-separated namespaces of the xds-server's sync reports;
     * unset: WEFT_POD_NAMESPACE, then the client's namespace), and the certificate settings
     * ({@link CertificateSettings#fromEnvironment}).
     */
    public static Config fromEnvironment(Map<String, String> env) {
      Set<String> namespaces = list(env.getOrDefault("WEFT_WATCH_NAMESPACES", ""));
      Set<String> xdsNamespaces = list(env.getOrDefault("WEFT_XDS_NAMESPACE",
          env.getOrDefault("WEFT_POD_NAMESPACE", "")));
      String port = env.getOrDefault("WEFT_OPERATOR_HTTP_PORT", String.valueOf(OperatorEndpoint.DEFAULT_PORT));
      InetSocketAddress address;
      try {
        address = new InetSocketAddress(env.getOrDefault("WEFT_BIND_ADDRESS", "0.0.0.0"),
            Integer.parseInt(port.strip()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("WEFT_OPERATOR_HTTP_PORT must be a port number, not '" + port + "'", e);
      }
      Optional<LeaderElection> election = Optional.empty();
      if (!"false".equalsIgnoreCase(env.getOrDefault("WEFT_LEADER_ELECTION", "true").strip())) {
        String leaseName = env.getOrDefault("WEFT_LEASE_NAME", "").strip();
        election = Optional.of(LeaderElection.of(leaseName.isEmpty() ? LeaderElection.DEFAULT_LEASE_NAME : leaseName,
            env.get("WEFT_POD_NAMESPACE"), identity(env)));
      }
      return new Config(namespaces, address, election, xdsNamespaces, CertificateSettings.fromEnvironment(env));
    }

    private static Set<String> list(String commaSeparated) {
      return Arrays.stream(commaSeparated.split(",")).map(String::strip).filter(s -> !s.isEmpty())
          .collect(Collectors.toSet());
    }

    private static String identity(Map<String, String> env) {
      for (String key : new String[] {"WEFT_POD_NAME", "HOSTNAME"}) {
        String value = env.get(key);
        if (value != null && !value.isBlank()) {
          return value.strip();
        }
      }
      try {
        return InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        throw new IllegalStateException("no identity for leader election: set WEFT_POD_NAME", e);
      }
    }
  }

  private final KubernetesClient client;
  private final Config config;
  private final OperatorMetrics metrics;
  private final CountDownLatch lostLease = new CountDownLatch(1);
  private volatile Operator operator;
  private volatile OperatorEndpoint endpoint;
  private volatile MeshStatusKeeper meshStatus;
  private volatile CertificateSource certificates;
  private volatile boolean leading;
  private volatile boolean started;
  /** More reasons not to be ready, from parts that run beside the reconcilers (the injection webhook). */
  private final List<Supplier<Optional<String>>> readinessChecks = new CopyOnWriteArrayList<>();
  private volatile boolean closing;
  private boolean closed;

  private WeftOperator(KubernetesClient client, Config config, OperatorMetrics metrics) {
    this.client = client;
    this.config = config;
    this.metrics = metrics;
  }

  /**
   * Starts the endpoint, then the operator; returns once the informers are synced. A standby
   * returns too and starts reconciling when it gets the Lease. The client stays the caller's.
   */
  public static WeftOperator start(KubernetesClient client, Config config) throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    WeftOperator self = new WeftOperator(client, config, new OperatorMetrics(registry));
    self.endpoint = OperatorEndpoint.start(config.httpAddress(), self::notReadyBecause, registry);
    try {
      self.operator = self.buildOperator();
      self.operator.start();
    } catch (RuntimeException e) {
      self.close();
      throw e;
    }
    self.started = true;
    if (config.leaderElection().isEmpty()) {
      self.leading = true;
      self.metrics.leader(true);
    }
    try {
      config.certificates().ifPresent(settings -> self.certificates = settings.certManager().isPresent()
          ? CertManagerCertificateController.start(client, config.namespaces(), settings, self.ownNamespace(),
              () -> self.leading, Clock.systemUTC(), self.metrics)
          : WorkloadCertificateController.start(client, config.namespaces(), settings, self.ownNamespace(),
              () -> self.leading, Clock.systemUTC(), self.metrics));
    } catch (RuntimeException e) {
      self.close();
      throw e;
    }
    self.meshStatus = MeshStatusKeeper.start(client, self.xdsNamespaces(), () -> self.leading, Clock.systemUTC(),
        () -> MeshStatusAggregator.Certificates.of(config.certificates().isPresent(),
            self.certificates == null ? Optional.empty() : self.certificates.report()));
    LOG.info("operator started namespaces={} leaderElection={} httpPort={}",
        config.namespaces().isEmpty() ? "all" : config.namespaces(),
        config.leaderElection().map(l -> l.leaseNamespace() + "/" + l.leaseName() + " as " + l.identity())
            .orElse("off"),
        self.endpoint.port());
    return self;
  }

  private Operator buildOperator() {
    Operator built = new Operator(o -> {
      o.withKubernetesClient(client).withMetrics(metrics).withCloseClientOnStop(false);
      config.leaderElection().ifPresent(l -> o.withLeaderElectionConfiguration(leaderElectionConfiguration(l)));
    });
    Clock clock = Clock.systemUTC();
    EventRecorder events = new EventRecorder(client,
        config.leaderElection().map(LeaderElection::identity).orElse(EventRecorder.COMPONENT), clock);
    Set<String> xds = xdsNamespaces();
    built.register(new TrafficSplitReconciler(events, metrics, clock, xds),
        o -> watch(o, TrafficSplitReconciler.NAME));
    built.register(new VirtualServiceReconciler(events, metrics, clock, xds),
        o -> watch(o, VirtualServiceReconciler.NAME));
    built.register(new AccessPolicyReconciler(events, metrics, clock), o -> watch(o, AccessPolicyReconciler.NAME));
    return built;
  }

  /** Where the sync reports are: as configured, else the operator's own namespace. */
  private Set<String> xdsNamespaces() {
    if (!config.xdsNamespaces().isEmpty()) {
      return config.xdsNamespaces();
    }
    return Set.of(ownNamespace());
  }

  /** The operator's own namespace (its Lease's, else the client's, else default): where the CA Secret is. */
  private String ownNamespace() {
    String own = config.leaderElection().map(LeaderElection::leaseNamespace).orElse(null);
    own = own != null ? own : client.getNamespace();
    return own != null ? own : "default";
  }

  private <P extends HasMetadata> void watch(ControllerConfigurationOverrider<P> overrider, String name) {
    overrider.withName(name);
    if (config.namespaces().isEmpty()) {
      overrider.watchingAllNamespaces();
    } else {
      overrider.settingNamespaces(config.namespaces());
    }
  }

  private LeaderElectionConfiguration leaderElectionConfiguration(LeaderElection election) {
    LeaderCallbacks callbacks = new LeaderCallbacks(
        () -> {
          leading = true;
          metrics.leader(true);
          LOG.info("leading identity={} lease={}/{}; reconciling", election.identity(), election.leaseNamespace(),
              election.leaseName());
        },
        this::stoppedLeading,
        leader -> LOG.info("leader identity={} lease={}/{}", leader == null ? "none (released)" : leader,
            election.leaseNamespace(), election.leaseName()));
    LeaderElectionConfigurationBuilder builder = LeaderElectionConfigurationBuilder
        .aLeaderElectionConfiguration(election.leaseName())
        .withIdentity(election.identity())
        .withLeaseDuration(election.leaseDuration())
        .withRenewDeadline(election.renewDeadline())
        .withRetryPeriod(election.retryPeriod())
        .withLeaderCallbacks(callbacks)
        // JOSDK would System.exit from inside the elector; stoppedLeading decides instead.
        .withExitOnStopLeading(false);
    if (election.leaseNamespace() != null) {
      builder.withLeaseNamespace(election.leaseNamespace());
    }
    return builder.build();
  }

  /**
   * Called when this instance stops leading: expected while closing; otherwise the Lease was lost
   * (renewals failed), and JOSDK would go on reconciling next to the new leader, so this instance
   * stops. It runs inside the elector's lock, hence the stop on a thread of its own.
   */
  private void stoppedLeading() {
    leading = false;
    metrics.leader(false);
    if (closing) {
      return;
    }
    LOG.error("lost the Lease; stopping so that two leaders never write status at once");
    lostLease.countDown();
    Thread stopper = new Thread(this::close, "weft-lost-lease");
    stopper.start();
  }

  /**
   * Makes {@code /readyz} also wait for {@code check} (a reason, or nothing when ready): the
   * injection webhook reports itself not ready until it has a serving certificate, so the
   * webhook Service sends the kube-apiserver only to replicas that can answer.
   */
  public void addReadinessCheck(Supplier<Optional<String>> check) {
    readinessChecks.add(check);
  }

  /** Why the operator is not ready, or nothing once it is. */
  private Optional<String> notReadyBecause() {
    for (Supplier<Optional<String>> check : readinessChecks) {
      Optional<String> reason = check.get();
      if (reason.isPresent()) {
        return reason;
      }
    }
    Operator current = operator;
    if (!started || current == null) {
      return Optional.of("starting: informers not synced yet");
    }
    RuntimeInfo runtime = current.getRuntimeInfo();
    if (!runtime.isStarted()) {
      return Optional.of("stopped");
    }
    if (!runtime.allEventSourcesAreHealthy()) {
      return Optional.of("unhealthy informers " + runtime.unhealthyEventSources());
    }
    return Optional.empty();
  }

  public int httpPort() {
    return endpoint.port();
  }

  /** Blocks until this instance loses its Lease (it then stops itself). */
  public void awaitLostLease() throws InterruptedException {
    lostLease.await();
  }

  /**
   * Stops reconciling (in-flight reconciliations finish), hands the Lease over so that a standby
   * takes over at its next retry rather than after the lease expires, then stops the endpoint.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closing = true;
    leading = false;
    if (meshStatus != null) {
      meshStatus.close();
    }
    if (certificates != null) {
      certificates.close();
    }
    try {
      if (operator != null) {
        operator.stop();
      }
    } catch (RuntimeException e) {
      LOG.warn("operator did not stop cleanly: {}", e.toString());
    } finally {
      config.leaderElection().ifPresent(this::releaseLease);
      metrics.leader(false);
      if (endpoint != null) {
        endpoint.close();
      }
      closed = true;
      LOG.info("operator stopped");
    }
  }

  /**
   * What fabric8's elector does on release (JOSDK does not ask it to): clear the holder if it is
   * still this instance. A conflict means someone else already holds it, which is fine.
   */
  private void releaseLease(LeaderElection election) {
    String namespace = election.leaseNamespace() != null ? election.leaseNamespace() : client.getNamespace();
    if (namespace == null) {
      return;
    }
    try {
      Lease lease = client.resources(Lease.class).inNamespace(namespace).withName(election.leaseName()).get();
      if (lease == null || lease.getSpec() == null
          || !election.identity().equals(lease.getSpec().getHolderIdentity())) {
        return;
      }
      ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
      lease.getSpec().setHolderIdentity(null);
      lease.getSpec().setLeaseDurationSeconds(1);
      lease.getSpec().setAcquireTime(now);
      lease.getSpec().setRenewTime(now);
      client.resource(lease).update();
      LOG.info("released lease={}/{} identity={}", namespace, election.leaseName(), election.identity());
    } catch (KubernetesClientException e) {
      LOG.warn("could not release lease={}/{} ({}); a standby takes over when it expires", namespace,
          election.leaseName(), e.getMessage());
    }
  }

  /** Runs the operator until SIGTERM (a graceful stop) or until it loses its Lease (exit 1, to be restarted). */
  public static void main(String[] args) throws Exception {
    Config config = Config.fromEnvironment(System.getenv());
    KubernetesClient client = new KubernetesClientBuilder().build();
    WeftOperator operator = start(client, config);
    // The injection webhook serves on every replica, leader or not: the Service spreads the calls.
    Optional<InjectionWebhook> webhook = Optional.empty();
    Optional<WebhookSettings> webhookSettings = WebhookSettings.fromEnvironment(System.getenv(),
        config.certificates().orElse(CertificateSettings.defaults()));
    if (webhookSettings.isPresent()) {
      InjectionSettings injection = InjectionSettings.fromEnvironment(System.getenv()).orElseThrow(() ->
          new IllegalArgumentException("WEFT_WEBHOOK_SERVICE is set but WEFT_INJECTION_PROXY_IMAGE is not"));
      webhook = Optional.of(InjectionWebhook.start(client, webhookSettings.get(), injection, Clock.systemUTC()));
      operator.addReadinessCheck(webhook.get()::notReadyBecause);
    }
    Optional<InjectionWebhook> started = webhook;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      started.ifPresent(InjectionWebhook::close);
      operator.close();
      client.close();
    }, "weft-shutdown"));
    operator.awaitLostLease();
    System.exit(1);
  }
}
