package dev.weft.operator.certificates;

import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.TrustBundle;
import io.fabric8.certmanager.api.model.v1.Certificate;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.net.HttpURLConnection;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the workload certificates through a cert-manager issuer: for every meshed ServiceAccount a
 * {@code Certificate} ({@link CertManagerCertificates#desired}), and the workload Secret
 * {@code weft-identity-<sa>} copied from the Secret cert-manager writes once it checks out; both
 * deleted, with cert-manager's Secret, when no meshed pod runs as the ServiceAccount any more.
 * cert-manager does the issuing and renewing; this controller only says what is wanted and passes
 * the result on. Informers on Pods, Namespaces and both kinds of Secret trigger a pass (one
 * thread, changes coalesced); a pass also runs every resync period. Only the leader writes.
 */
public final class CertManagerCertificateController implements CertificateSource {

  private static final Logger LOG = LoggerFactory.getLogger(CertManagerCertificateController.class);
  private static final Duration COALESCE = Duration.ofMillis(200);
  private static final Duration RETRY = Duration.ofSeconds(5);
  private static final Duration STANDBY_CHECK = Duration.ofSeconds(2);

  private final KubernetesClient client;
  private final CertificateSettings settings;
  private final CertManagerIssuer issuer;
  private final String caNamespace;
  private final BooleanSupplier leading;
  private final Clock clock;
  private final CertificateMetrics metrics;
  private final Set<String> certificateNamespaces = new TreeSet<>();
  private final List<SharedIndexInformer<Pod>> pods = new ArrayList<>();
  private final List<SharedIndexInformer<Secret>> workloadSecrets = new ArrayList<>();
  private final List<SharedIndexInformer<Secret>> issuedSecrets = new ArrayList<>();
  private SharedIndexInformer<Namespace> namespaces;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "weft-cert-manager");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean soon = new AtomicBoolean();
  private boolean caSecretChecked;
  /** The next periodic pass; only the controller's thread touches it. */
  private ScheduledFuture<?> periodic;
  private volatile CertificateSummary report;
  private volatile boolean closed;

  private CertManagerCertificateController(KubernetesClient client, CertificateSettings settings, String caNamespace,
      BooleanSupplier leading, Clock clock, CertificateMetrics metrics) {
    this.client = client;
    this.settings = settings;
    this.issuer = settings.certManager().orElseThrow(() -> new IllegalArgumentException("no cert-manager issuer"));
    this.caNamespace = caNamespace;
    this.leading = leading;
    this.clock = clock;
    this.metrics = metrics;
  }

  /** Starts the informers ({@code watched} empty: every namespace) and the first pass. */
  public static CertManagerCertificateController start(KubernetesClient client, Set<String> watched,
      CertificateSettings settings, String caNamespace, BooleanSupplier leading, Clock clock,
      CertificateMetrics metrics) {
    CertManagerCertificateController controller =
        new CertManagerCertificateController(client, settings, caNamespace, leading, clock, metrics);
    try {
      controller.inform(watched);
    } catch (RuntimeException e) {
      controller.close();
      throw e;
    }
    controller.thread.execute(controller::pass);
    LOG.info("workload certificates are issued by cert-manager {}", controller.issuer.describe());
    return controller;
  }

  private void inform(Set<String> watched) {
    ResourceEventHandler<Object> onChange = new ResourceEventHandler<>() {
      @Override
      public void onAdd(Object obj) {
        passSoon();
      }

      @Override
      public void onUpdate(Object oldObj, Object newObj) {
        passSoon();
      }

      @Override
      public void onDelete(Object obj, boolean deletedFinalStateUnknown) {
        passSoon();
      }
    };
    namespaces = client.namespaces().inform(Informers.handler(onChange));
    if (watched.isEmpty()) {
      pods.add(client.pods().inAnyNamespace().inform(Informers.handler(onChange)));
      workloadSecrets.add(client.secrets().inAnyNamespace()
          .withLabel(WorkloadSecrets.LABEL, WorkloadSecrets.LABEL_VALUE).inform(Informers.handler(onChange)));
      issuedSecrets.add(client.secrets().inAnyNamespace()
          .withLabel(WorkloadSecrets.LABEL, CertManagerCertificates.ISSUED_LABEL_VALUE).inform(Informers.handler(onChange)));
      return;
    }
    Set<String> secretNamespaces = new TreeSet<>(watched);
    if (!settings.xdsServiceAccount().isEmpty()) {
      // The xds-server's certificate lives in the operator's own namespace, watched or not.
      secretNamespaces.add(caNamespace);
    }
    certificateNamespaces.addAll(secretNamespaces);
    for (String namespace : new TreeSet<>(watched)) {
      pods.add(client.pods().inNamespace(namespace).inform(Informers.handler(onChange)));
    }
    for (String namespace : secretNamespaces) {
      workloadSecrets.add(client.secrets().inNamespace(namespace)
          .withLabel(WorkloadSecrets.LABEL, WorkloadSecrets.LABEL_VALUE).inform(Informers.handler(onChange)));
      issuedSecrets.add(client.secrets().inNamespace(namespace)
          .withLabel(WorkloadSecrets.LABEL, CertManagerCertificates.ISSUED_LABEL_VALUE).inform(Informers.handler(onChange)));
    }
  }

  @Override
  public Optional<CertificateSummary> report() {
    return Optional.ofNullable(report);
  }

  /** A pass shortly, once: changes that arrive together (a Deployment's pods) make one pass. */
  private void passSoon() {
    if (!closed && soon.compareAndSet(false, true)) {
      thread.schedule(this::pass, COALESCE.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void pass() {
    soon.set(false);
    Duration next;
    try {
      next = passOnce();
    } catch (KubernetesClientException e) {
      LOG.warn("workload certificates (cert-manager): the API refused a call ({}); retrying in {}s", e.getMessage(),
          RETRY.toSeconds());
      next = RETRY;
    } catch (RuntimeException e) {
      LOG.error("workload certificates (cert-manager): pass failed; retrying in {}s", RETRY.toSeconds(), e);
      next = RETRY;
    }
    if (!closed) {
      // One periodic pass at a time: whichever pass ran last sets the next (changes that come in
      // meanwhile add their own one-off pass through passSoon).
      if (periodic != null) {
        periodic.cancel(false);
      }
      periodic = thread.schedule(this::pass, next.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private Duration passOnce() {
    if (!leading.getAsBoolean()) {
      report = null;
      return STANDBY_CHECK;
    }
    Instant now = clock.instant();
    if (settings.createCa() && !caSecretChecked) {
      ensureWebhookCa(now);
    }
    Set<ServiceAccountRef> meshed =
        WorkloadCertificateController.meshedAccounts(namespaces, pods, settings, caNamespace);
    Map<String, Secret> stored = byKey(workloadSecrets);
    Map<String, Secret> issued = byKey(issuedSecrets);
    Map<String, Certificate> certificates;
    try {
      certificates = certificates();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
        throw e;
      }
      String problem = "cert-manager's Certificate resource (certificates.cert-manager.io/v1) is not installed; "
          + "install cert-manager, or unset identity.certManager.issuerRef to use the operator's own CA";
      report = CertificateSummary.caUnavailable(problem, read(stored.values()), now);
      metrics.summary(report);
      LOG.warn("workload certificates: {}", problem);
      return settings.resync();
    }
    int failed = 0;
    List<String> waiting = new ArrayList<>();
    for (ServiceAccountRef account : meshed) {
      try {
        keep(account, certificates, issued, stored, now).ifPresent(waiting::add);
      } catch (KubernetesClientException e) {
        failed++;
        LOG.warn("workload certificates: keeping {}/{} failed ({}); retrying in {}s", account.namespace(),
            CertManagerCertificates.certificateName(account.name()), e.getMessage(), RETRY.toSeconds());
      }
    }
    failed += collect(meshed, certificates, issued, stored);
    List<StoredCertificate> found = read(stored.values());
    report = summary(found, issued.values(), waiting, now);
    metrics.summary(report);
    return failed > 0 ? RETRY : settings.resync();
  }

  /**
   * Creates the operator's own root Secret when missing, as the built-in CA would: workload
   * certificates no longer come from it, but the injection webhook's serving certificate still
   * does (the apiserver trusts it through the caBundle the operator keeps in the webhook
   * configurations). A conflict means another replica created it first.
   */
  private void ensureWebhookCa(Instant now) {
    if (client.secrets().inNamespace(caNamespace).withName(settings.caSecret()).get() == null) {
      CertificateAuthority fresh = CertificateAuthority.selfSigned(settings.identity(), now, new SecureRandom());
      try {
        client.secrets().inNamespace(caNamespace).resource(CaSecrets.build(caNamespace, settings.caSecret(), fresh))
            .create();
        LOG.info("created the operator's root CA secret={}/{} (for the injection webhook's serving certificate; "
            + "workload certificates come from cert-manager {})", caNamespace, settings.caSecret(), issuer.describe());
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
      }
    }
    caSecretChecked = true;
  }

  /**
   * Makes sure {@code account}'s Certificate says what it should and its workload Secret holds
   * what cert-manager issued last; returns why the workload Secret is not up to date, if it is not.
   */
  private Optional<String> keep(ServiceAccountRef account, Map<String, Certificate> certificates,
      Map<String, Secret> issued, Map<String, Secret> stored, Instant now) {
    String certificateName = CertManagerCertificates.certificateName(account.name());
    String key = account.namespace() + "/" + certificateName;
    Certificate desired = CertManagerCertificates.desired(account,
        settings.xdsServiceAccount().equals(account.name()) && caNamespace.equals(account.namespace())
            ? settings.xdsDnsNames(caNamespace) : List.of(),
        settings.identity(), issuer);
    Certificate found = certificates.get(key);
    if (found == null) {
      client.resources(Certificate.class).inNamespace(account.namespace()).resource(desired).create();
      LOG.info("certificate requested from cert-manager certificate={} issuer={} spiffeId={}", key,
          issuer.describe(), desired.getSpec().getUris().get(0));
    } else if (!CertManagerCertificates.sameSpec(found, desired)) {
      found.setSpec(desired.getSpec());
      client.resources(Certificate.class).inNamespace(account.namespace()).resource(found).update();
      LOG.info("certificate spec updated certificate={} issuer={}", key, issuer.describe());
    }
    Secret fromCertManager = issued.get(account.namespace() + "/" + CertManagerCertificates.issuedSecretName(
        account.name()));
    if (fromCertManager == null) {
      return Optional.of(key + ": cert-manager has not written " + CertManagerCertificates.issuedSecretName(
          account.name()) + " yet");
    }
    CertManagerCertificates.Consumed consumed = CertManagerCertificates.consume(account,
        settings.identity().identity(account.namespace(), account.name()), fromCertManager,
        settings.identity().certificateLifetime().dividedBy(3), now);
    if (consumed instanceof CertManagerCertificates.Consumed.Unusable unusable) {
      return Optional.of(key + ": cert-manager's Secret is not usable yet: " + unusable.reason());
    }
    CertManagerCertificates.Consumed.Usable usable = (CertManagerCertificates.Consumed.Usable) consumed;
    String workloadKey = account.namespace() + "/" + WorkloadSecrets.name(account.name());
    Secret current = stored.get(workloadKey);
    if (CertManagerCertificates.sameContent(current, usable.secret())) {
      return Optional.empty();
    }
    Secret written;
    if (current == null) {
      try {
        written = client.secrets().inNamespace(account.namespace()).resource(usable.secret()).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
        return Optional.of("Secret " + workloadKey + " exists and is not Weft's (no label " + WorkloadSecrets.LABEL
            + "=" + WorkloadSecrets.LABEL_VALUE + "); rename or delete it");
      }
    } else {
      written = client.secrets().inNamespace(account.namespace()).resource(usable.secret()).update();
    }
    stored.put(workloadKey, written);
    metrics.applied(new CertificatePlan.Action(CertificatePlan.Kind.ISSUE, account, WorkloadSecrets.name(account.name()),
        current == null ? CertificatePlan.Cause.NEW : CertificatePlan.Cause.RENEWAL, "issued by cert-manager"));
    CertificateInfo leaf = usable.leaf();
    LOG.info("certificate issued secret={} spiffeId={} notAfter={} by=cert-manager issuer={} from={}", workloadKey,
        leaf.spiffeId().orElse(""), leaf.notAfter(), issuer.describe(),
        CertManagerCertificates.issuedSecretName(account.name()));
    return Optional.empty();
  }

  /**
   * Deletes the Certificates, cert-manager's Secrets and the workload Secrets of ServiceAccounts
   * that no meshed pod runs as; returns how many deletions failed.
   */
  private int collect(Set<ServiceAccountRef> meshed, Map<String, Certificate> certificates,
      Map<String, Secret> issued, Map<String, Secret> stored) {
    Set<ServiceAccountRef> gone = new TreeSet<>();
    certificates.values().forEach(c -> account(c.getMetadata().getNamespace(), c.getMetadata().getAnnotations())
        .ifPresent(gone::add));
    issued.values().forEach(s -> account(s.getMetadata().getNamespace(), s.getMetadata().getAnnotations())
        .ifPresent(gone::add));
    stored.values().forEach(s -> account(s.getMetadata().getNamespace(), s.getMetadata().getAnnotations())
        .ifPresent(gone::add));
    gone.removeAll(meshed);
    int failed = 0;
    for (ServiceAccountRef account : gone) {
      String namespace = account.namespace();
      try {
        String certificate = CertManagerCertificates.certificateName(account.name());
        if (certificates.remove(namespace + "/" + certificate) != null) {
          client.resources(Certificate.class).inNamespace(namespace).withName(certificate).delete();
        }
        String issuedName = CertManagerCertificates.issuedSecretName(account.name());
        if (issued.remove(namespace + "/" + issuedName) != null) {
          client.secrets().inNamespace(namespace).withName(issuedName).delete();
        }
        String workload = WorkloadSecrets.name(account.name());
        if (stored.remove(namespace + "/" + workload) != null) {
          client.secrets().inNamespace(namespace).withName(workload).delete();
        }
        metrics.applied(new CertificatePlan.Action(CertificatePlan.Kind.DELETE, account, workload,
            CertificatePlan.Cause.UNUSED, "no meshed pod"));
        LOG.info("certificate deleted certificate={}/{} secrets={},{} reason=\"no meshed pod runs as ServiceAccount "
            + "{} any more\"", namespace, certificate, issuedName, workload, account.name());
      } catch (KubernetesClientException e) {
        failed++;
        LOG.warn("workload certificates: deleting the certificate of {}/{} failed ({}); retrying in {}s", namespace,
            account.name(), e.getMessage(), RETRY.toSeconds());
      }
    }
    return failed;
  }

  private static Optional<ServiceAccountRef> account(String namespace, Map<String, String> annotations) {
    return Optional.ofNullable(annotations).map(a -> a.get(WorkloadSecrets.SERVICE_ACCOUNT))
        .map(sa -> new ServiceAccountRef(namespace, sa));
  }

  /** The operator's Certificates (labelled as its workload Secrets are), by namespace/name. */
  private Map<String, Certificate> certificates() {
    List<Certificate> items = new ArrayList<>();
    if (certificateNamespaces.isEmpty()) {
      items.addAll(client.resources(Certificate.class).inAnyNamespace()
          .withLabel(WorkloadSecrets.LABEL, WorkloadSecrets.LABEL_VALUE).list().getItems());
    } else {
      for (String namespace : certificateNamespaces) {
        items.addAll(client.resources(Certificate.class).inNamespace(namespace)
            .withLabel(WorkloadSecrets.LABEL, WorkloadSecrets.LABEL_VALUE).list().getItems());
      }
    }
    Map<String, Certificate> found = new HashMap<>();
    items.forEach(c -> found.put(c.getMetadata().getNamespace() + "/" + c.getMetadata().getName(), c));
    return found;
  }

  private static Map<String, Secret> byKey(List<SharedIndexInformer<Secret>> informers) {
    Map<String, Secret> found = new HashMap<>();
    for (SharedIndexInformer<Secret> informer : informers) {
      for (Secret secret : informer.getStore().list()) {
        found.put(secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName(), secret);
      }
    }
    return found;
  }

  private static List<StoredCertificate> read(java.util.Collection<Secret> secrets) {
    return secrets.stream().map(WorkloadSecrets::read).toList();
  }

  /**
   * What MeshStatus is told: the workload Secrets' certificates, and as "root" the issuer's CA as
   * its Secrets publish it (the earliest-expiring root in their {@code ca.crt}).
   */
  private CertificateSummary summary(List<StoredCertificate> found, java.util.Collection<Secret> issued,
      List<String> waiting, Instant now) {
    CertificateSummary counted = CertificateSummary.of(found, null, now);
    X509Certificate root = null;
    for (Secret secret : issued) {
      String bundle = secret.getData() == null ? null : secret.getData().get(WorkloadSecrets.BUNDLE);
      if (bundle == null || bundle.isEmpty()) {
        continue;
      }
      try {
        for (X509Certificate candidate : TrustBundle.fromPem(CaSecrets.decode(bundle)).roots()) {
          if (root == null || candidate.getNotAfter().before(root.getNotAfter())) {
            root = candidate;
          }
        }
      } catch (IllegalArgumentException e) {
        // An unreadable bundle is reported through its workload Secret not being written.
      }
    }
    if (!waiting.isEmpty()) {
      LOG.info("workload certificates: waiting for cert-manager: {}", String.join("; ", waiting));
    }
    Optional<X509Certificate> ca = Optional.ofNullable(root);
    return new CertificateSummary(counted.issued(), counted.expiring(), counted.nextExpiry(), Optional.empty(),
        ca.map(r -> issuer.describe() + " (" + r.getSubjectX500Principal().getName() + ")"),
        ca.map(r -> r.getNotAfter().toInstant()));
  }

  @Override
  public void close() {
    closed = true;
    thread.shutdownNow();
    pods.forEach(SharedIndexInformer::close);
    workloadSecrets.forEach(SharedIndexInformer::close);
    issuedSecrets.forEach(SharedIndexInformer::close);
    if (namespaces != null) {
      namespaces.close();
    }
  }
}
