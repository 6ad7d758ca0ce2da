package dev.weft.operator.certificates;

import dev.weft.convert.MeshedPods;
import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertifiedKey;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.net.HttpURLConnection;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one workload certificate Secret per meshed ServiceAccount: informers on Pods, Namespaces
 * and the operator's certificate Secrets feed a pass, on one thread, that loads the CA from its
 * Secret (creating a self-signed root when allowed and missing), plans ({@link CertificatePlan})
 * and applies the plan: issue, renew, rewrite the bundle, delete. A pass runs shortly after any
 * change, at the earliest renewal time, and at least every resync period. Only the leader writes.
 */
public final class WorkloadCertificateController implements CertificateSource {

  private static final Logger LOG = LoggerFactory.getLogger(WorkloadCertificateController.class);
  /** Changes that arrive together (a Deployment's pods) are handled in one pass. */
  private static final Duration COALESCE = Duration.ofMillis(200);
  private static final Duration RETRY = Duration.ofSeconds(5);
  private static final Duration STANDBY_CHECK = Duration.ofSeconds(2);
  /** How long a write of ours is trusted over an informer that has not seen it yet. */
  private static final Duration OVERLAY = Duration.ofSeconds(30);

  private final KubernetesClient client;
  private final CertificateSettings settings;
  private final String caNamespace;
  private final BooleanSupplier leading;
  private final Clock clock;
  private final CertificateMetrics metrics;
  private final SecureRandom random = new SecureRandom();
  private final List<SharedIndexInformer<Pod>> pods = new ArrayList<>();
  private final List<SharedIndexInformer<Secret>> secrets = new ArrayList<>();
  private SharedIndexInformer<Namespace> namespaces;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "weft-certificates");
    t.setDaemon(true);
    return t;
  });
  /** Parsed Secrets by namespace/name and resourceVersion, so a pass does not parse every PEM again. */
  private final Map<String, Parsed> parsed = new HashMap<>();
  /** Our writes the informer may not show yet: the Secret written (null: deleted), when, its resourceVersion. */
  private final Map<String, Written> written = new HashMap<>();
  private ScheduledFuture<?> scheduled;
  private Instant scheduledAt;
  private boolean running;
  private boolean rerun;
  private volatile CertificateSummary report;
  private volatile boolean closed;

  private record Parsed(String resourceVersion, StoredCertificate certificate) {}

  private record Written(Secret secret, Instant at) {}

  private WorkloadCertificateController(KubernetesClient client, CertificateSettings settings, String caNamespace,
      BooleanSupplier leading, Clock clock, CertificateMetrics metrics) {
    this.client = client;
    this.settings = settings;
    this.caNamespace = caNamespace;
    this.leading = leading;
    this.clock = clock;
    this.metrics = metrics;
  }

  /**
   * Starts the informers ({@code namespaces} empty: every namespace) and the first pass. The CA
   * Secret {@code settings.caSecret()} is in {@code caNamespace}, the operator's own.
   */
  public static WorkloadCertificateController start(KubernetesClient client, Set<String> watched,
      CertificateSettings settings, String caNamespace, BooleanSupplier leading, Clock clock) {
    return start(client, watched, settings, caNamespace, leading, clock, CertificateMetrics.NONE);
  }

  /** As above, reporting to {@code metrics}. */
  public static WorkloadCertificateController start(KubernetesClient client, Set<String> watched,
      CertificateSettings settings, String caNamespace, BooleanSupplier leading, Clock clock,
      CertificateMetrics metrics) {
    WorkloadCertificateController controller =
        new WorkloadCertificateController(client, settings, caNamespace, leading, clock, metrics);
    try {
      controller.inform(watched);
    } catch (RuntimeException e) {
      controller.close();
      throw e;
    }
    controller.requestPass(Duration.ZERO);
    return controller;
  }

  private void inform(Set<String> watched) {
    ResourceEventHandler<Object> onChange = new ResourceEventHandler<>() {
      @Override
      public void onAdd(Object obj) {
        requestPass(COALESCE);
      }

      @Override
      public void onUpdate(Object oldObj, Object newObj) {
        requestPass(COALESCE);
      }

      @Override
      public void onDelete(Object obj, boolean deletedFinalStateUnknown) {
        requestPass(COALESCE);
      }
    };
    namespaces = client.namespaces().inform(Informers.handler(onChange));
    if (watched.isEmpty()) {
      pods.add(client.pods().inAnyNamespace().inform(Informers.handler(onChange)));
      secrets.add(client.secrets().inAnyNamespace()
          .withLabel(WorkloadSecrets.LABEL, WorkloadSecrets.LABEL_VALUE).inform(Informers.handler(onChange)));
    } else {
      for (String namespace : new TreeSet<>(watched)) {
        pods.add(client.pods().inNamespace(namespace).inform(Informers.handler(onChange)));
        secrets.add(client.secrets().inNamespace(namespace)
            .withLabel(WorkloadSecrets.LABEL, WorkloadSecrets.LABEL_VALUE).inform(Informers.handler(onChange)));
      }
      if (!settings.xdsServiceAccount().isEmpty() && !watched.contains(caNamespace)) {
        // The xds-server's certificate lives in the operator's own namespace, watched or not.
        secrets.add(client.secrets().inNamespace(caNamespace)
            .withLabel(WorkloadSecrets.LABEL, WorkloadSecrets.LABEL_VALUE).inform(Informers.handler(onChange)));
      }
    }
  }

  @Override
  public Optional<CertificateSummary> report() {
    return Optional.ofNullable(report);
  }

  /** Runs a pass after {@code delay}, unless one is already due sooner; during a pass, once it ends. */
  private synchronized void requestPass(Duration delay) {
    if (closed) {
      return;
    }
    if (running) {
      // What the running pass read may predate this change: look again right after it.
      rerun = true;
      return;
    }
    Instant at = clock.instant().plus(delay);
    if (scheduled != null && !scheduled.isDone() && !scheduledAt.isAfter(at)) {
      return;
    }
    if (scheduled != null) {
      scheduled.cancel(false);
    }
    scheduledAt = at;
    scheduled = thread.schedule(this::pass, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
  }

  private void pass() {
    synchronized (this) {
      running = true;
      rerun = false;
      scheduled = null;
    }
    Duration next = settings.resync();
    try {
      next = passOnce();
    } catch (KubernetesClientException e) {
      LOG.warn("workload certificates: the API refused a call ({}); retrying in {}s", e.getMessage(),
          RETRY.toSeconds());
      next = RETRY;
    } catch (RuntimeException e) {
      LOG.error("workload certificates: pass failed; retrying in {}s", RETRY.toSeconds(), e);
      next = RETRY;
    } finally {
      boolean again;
      synchronized (this) {
        running = false;
        again = rerun;
      }
      requestPass(again && COALESCE.compareTo(next) < 0 ? COALESCE : next);
    }
  }

  /** One pass; returns when the next is due at the latest. */
  private Duration passOnce() {
    if (!leading.getAsBoolean()) {
      report = null;
      // A standby looks again soon, so that a new leader's first pass does not wait for a resync.
      return STANDBY_CHECK;
    }
    Instant now = clock.instant();
    Map<String, Secret> found = currentSecrets(now);
    List<StoredCertificate> stored = found.values().stream().map(this::parse).toList();
    MeshCa ca;
    try {
      ca = loadCa(now, stored);
    } catch (CaUnavailable e) {
      report = CertificateSummary.caUnavailable(e.getMessage(), stored, now);
      metrics.summary(report);
      LOG.warn("workload certificates: {}", e.getMessage());
      return settings.resync();
    }
    CertificatePlan plan = CertificatePlan.plan(meshedAccounts(), dnsNames(), stored, ca.root(),
        ca.bundle().fingerprints(), settings.identity().trustDomain(), now);
    Instant nextRenewal = plan.nextRenewal().orElse(null);
    int failed = 0;
    for (CertificatePlan.Action action : plan.actions()) {
      String key = action.account().namespace() + "/" + action.secret();
      try {
        Instant renewAt = apply(action, ca, found, now);
        if (renewAt != null) {
          nextRenewal = nextRenewal == null || renewAt.isBefore(nextRenewal) ? renewAt : nextRenewal;
        }
      } catch (KubernetesClientException e) {
        // One namespace refusing (RBAC, quota, a namespace being deleted) must not hold the others back.
        failed++;
        LOG.warn("workload certificates: {} {} failed ({}); retrying in {}s", action.kind(), key, e.getMessage(),
            RETRY.toSeconds());
      }
    }
    report = CertificateSummary.of(found.values().stream().map(this::parse).toList(), ca, now);
    metrics.summary(report);
    Duration next = failed > 0 ? RETRY : settings.resync();
    if (nextRenewal != null) {
      Duration untilRenewal = Duration.between(clock.instant(), nextRenewal);
      next = untilRenewal.compareTo(next) < 0 ? untilRenewal : next;
    }
    return next.isNegative() ? Duration.ZERO : next;
  }

  /** Applies one action; returns the renewal time of a certificate it issued, else null. */
  private Instant apply(CertificatePlan.Action action, MeshCa ca, Map<String, Secret> found, Instant now) {
    String key = action.account().namespace() + "/" + action.secret();
    switch (action.kind()) {
      case ISSUE -> {
        CertifiedKey leaf = ca.authority().issue(
            settings.identity().identity(action.account().namespace(), action.account().name()),
            dnsNames().getOrDefault(action.account(), List.of()), settings.identity().keyAlgorithm(), settings.identity().certificateLifetime(), now);
        Secret secret = WorkloadSecrets.build(action.account(), leaf, ca.bundle());
        if (!write(secret, found.containsKey(key), now)) {
          return null;
        }
        found.put(key, secret);
        Instant renewAt = WorkloadSecrets.read(secret).renewAt().orElseThrow();
        metrics.applied(action);
        LOG.info("certificate issued secret={} spiffeId={} notAfter={} renewAt={} cause={} reason=\"{}\"", key,
            leaf.info().spiffeId().orElse(""), leaf.info().notAfter(), renewAt, action.cause().label(),
            action.reason());
        return renewAt;
      }
      case UPDATE_BUNDLE -> {
        Secret secret = new SecretBuilder(found.get(key)).editMetadata().withResourceVersion(null).endMetadata()
            .addToData(WorkloadSecrets.BUNDLE, CaSecrets.base64(ca.bundle().pem())).build();
        if (write(secret, true, now)) {
          found.put(key, secret);
          metrics.applied(action);
          LOG.info("trust bundle updated secret={} roots={}", key, ca.bundle().roots().size());
        }
        return null;
      }
      case DELETE -> {
        client.secrets().inNamespace(action.account().namespace()).withName(action.secret()).delete();
        written.put(key, new Written(null, now));
        found.remove(key);
        metrics.applied(action);
        LOG.info("certificate deleted secret={} reason=\"{}\"", key, action.reason());
        return null;
      }
      default -> throw new IllegalStateException("unknown action " + action.kind());
    }
  }

  /**
   * Creates or replaces {@code secret}. A Secret of that name that is not the operator's (no label)
   * is never overwritten: it is reported and left alone. Returns whether it was written.
   */
  private boolean write(Secret secret, boolean ours, Instant now) {
    var resource = client.secrets().inNamespace(secret.getMetadata().getNamespace())
        .resource(secret);
    String key = secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName();
    Secret result;
    if (ours) {
      result = resource.update();
    } else {
      try {
        result = resource.create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
        Secret existing = client.secrets().inNamespace(secret.getMetadata().getNamespace())
            .withName(secret.getMetadata().getName()).get();
        Map<String, String> labels = existing == null || existing.getMetadata().getLabels() == null ? Map.of()
            : existing.getMetadata().getLabels();
        if (existing != null && !WorkloadSecrets.LABEL_VALUE.equals(labels.get(WorkloadSecrets.LABEL))) {
          LOG.warn("Secret {} exists and is not Weft's (no label {}={}); the workload's certificate cannot be "
              + "written until it is renamed or deleted", key, WorkloadSecrets.LABEL, WorkloadSecrets.LABEL_VALUE);
          return false;
        }
        result = resource.update();
      }
    }
    written.put(key, new Written(result, now));
    return true;
  }

  /** The operator's certificate Secrets: the informers' view, with our own recent writes laid over it. */
  private Map<String, Secret> currentSecrets(Instant now) {
    Map<String, Secret> found = new HashMap<>();
    for (SharedIndexInformer<Secret> informer : secrets) {
      for (Secret secret : informer.getStore().list()) {
        found.put(secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName(), secret);
      }
    }
    written.entrySet().removeIf(entry -> {
      Secret mine = entry.getValue().secret();
      Secret seen = found.get(entry.getKey());
      boolean caughtUp = mine == null ? seen == null
          : seen != null && mine.getMetadata().getResourceVersion() != null
              && mine.getMetadata().getResourceVersion().equals(seen.getMetadata().getResourceVersion());
      return caughtUp || entry.getValue().at().plus(OVERLAY).isBefore(now);
    });
    written.forEach((key, mine) -> {
      if (mine.secret() == null) {
        found.remove(key);
      } else {
        found.put(key, mine.secret());
      }
    });
    parsed.keySet().retainAll(found.keySet());
    return found;
  }

  private StoredCertificate parse(Secret secret) {
    String key = secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName();
    String version = secret.getMetadata().getResourceVersion();
    Parsed cached = parsed.get(key);
    if (cached != null && version != null && version.equals(cached.resourceVersion())) {
      return cached.certificate();
    }
    StoredCertificate certificate = WorkloadSecrets.read(secret);
    if (version != null) {
      parsed.put(key, new Parsed(version, certificate));
    }
    return certificate;
  }

  private Set<ServiceAccountRef> meshedAccounts() {
    return meshedAccounts(namespaces, pods, settings, caNamespace);
  }

  /**
   * The ServiceAccounts that need a certificate: those of the meshed pods the informers hold, and
   * the xds-server's, if it has one.
   */
  static Set<ServiceAccountRef> meshedAccounts(SharedIndexInformer<Namespace> namespaces,
      List<SharedIndexInformer<Pod>> pods, CertificateSettings settings, String caNamespace) {
    Map<String, Map<String, String>> labels = new HashMap<>();
    for (Namespace namespace : namespaces.getStore().list()) {
      labels.put(namespace.getMetadata().getName(), namespace.getMetadata().getLabels() == null ? Map.of()
          : namespace.getMetadata().getLabels());
    }
    Set<ServiceAccountRef> meshed = new TreeSet<>();
    for (SharedIndexInformer<Pod> informer : pods) {
      for (Pod pod : informer.getStore().list()) {
        MeshedPods.serviceAccountOf(pod, labels.getOrDefault(pod.getMetadata().getNamespace(), Map.of()))
            .ifPresent(account -> meshed.add(new ServiceAccountRef(pod.getMetadata().getNamespace(), account)));
      }
    }
    if (!settings.xdsServiceAccount().isEmpty()) {
      meshed.add(new ServiceAccountRef(caNamespace, settings.xdsServiceAccount()));
    }
    return meshed;
  }

  /** The DNS SANs certificates must carry: only the xds-server's, its Service's names. */
  private Map<ServiceAccountRef, List<String>> dnsNames() {
    List<String> names = settings.xdsDnsNames(caNamespace);
    return names.isEmpty() ? Map.of() : Map.of(new ServiceAccountRef(caNamespace, settings.xdsServiceAccount()), names);
  }

    /** The CA Secret could not be used; the message says what to do. */
  static final class CaUnavailable extends Exception {
    CaUnavailable(String message) {
      super(message);
    }
  }

  private MeshCa loadCa(Instant now, List<StoredCertificate> stored) throws CaUnavailable {
    String where = caNamespace + "/" + settings.caSecret();
    Secret secret = client.secrets().inNamespace(caNamespace).withName(settings.caSecret()).get();
    if (secret == null) {
      if (!settings.createCa()) {
        throw new CaUnavailable("the CA Secret " + where + " does not exist; create it with the root's tls.crt and "
            + "tls.key (kubectl create secret tls), or let the operator create a root (ca.create=true)");
      }
      CertificateAuthority fresh = CertificateAuthority.selfSigned(settings.identity(), now, random);
      try {
        secret = client.secrets().inNamespace(caNamespace)
            .resource(CaSecrets.build(caNamespace, settings.caSecret(), fresh)).create();
        LOG.info("created the mesh root CA secret={} subject=\"{}\" notAfter={}", where, fresh.root().info().subject(),
            fresh.root().info().notAfter());
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
        // Another instance created it first: use theirs.
        secret = client.secrets().inNamespace(caNamespace).withName(settings.caSecret()).get();
      }
    }
    try {
      MeshCa ca = CaSecrets.read(secret, random);
      if (settings.createCa()) {
        ca = rotate(secret, ca, stored, now);
      }
      if (ca.root().expiredAt(now)) {
        throw new CaUnavailable("the mesh root in " + where + " expired at " + ca.root().notAfter()
            + "; rotate it (docs/security.md)");
      }
      return ca;
    } catch (IllegalArgumentException e) {
      throw new CaUnavailable(e.getMessage());
    }
  }

  /**
   * One step of the self-signed root's rotation when one is due ({@link RootRotation}); the CA
   * Secret is replaced by its new content (a conflict with a concurrent edit is retried next pass).
   * Returns the CA to issue with.
   */
  private MeshCa rotate(Secret secret, MeshCa ca, List<StoredCertificate> stored, Instant now) {
    boolean fromOtherRoots = stored.stream().anyMatch(s -> s.leaf().map(l -> !l.issuedBy(ca.root())).orElse(false));
    Optional<RootRotation.Step> step = RootRotation.next(secret, ca, fromOtherRoots, settings.identity(),
        settings.rootOverlap(), now, random);
    if (step.isEmpty()) {
      return ca;
    }
    Secret updated = client.secrets().inNamespace(caNamespace).resource(step.get().secret()).update();
    LOG.info("root rotation secret={}/{} phase={}: {}", caNamespace, settings.caSecret(),
        Optional.ofNullable(updated.getMetadata().getAnnotations()).map(a -> a.get(RootRotation.PHASE))
            .orElse("done"), step.get().description());
    return CaSecrets.read(updated, random);
  }

  @Override
  public void close() {
    closed = true;
    thread.shutdownNow();
    pods.forEach(SharedIndexInformer::close);
    secrets.forEach(SharedIndexInformer::close);
    if (namespaces != null) {
      namespaces.close();
    }
  }
}
