package dev.weft.operator.webhook;

import dev.weft.operator.certificates.CaSecrets;
import dev.weft.operator.certificates.MeshCa;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.injection.InjectionSettings;
import dev.weft.operator.injection.SidecarInjector;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar-injection webhook as the operator runs it, on every replica (the Service spreads
 * the kube-apiserver's calls): the {@link WebhookServer} with {@link PodAdmission}, namespaces'
 * labels from an informer, and a serving certificate signed by the mesh CA, renewed at two thirds
 * of its life or when the CA's root changes. It also keeps the {@code caBundle} of the
 * Mutating- and ValidatingWebhookConfiguration named in the settings equal to the CA's trust
 * bundle (patching them by name, only when they differ), so the kube-apiserver trusts the
 * certificate through a root rotation.
 */
public final class InjectionWebhook implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(InjectionWebhook.class);
  private static final Duration RETRY = Duration.ofSeconds(2);

  private final KubernetesClient client;
  private final WebhookSettings settings;
  private final Clock clock;
  private final ServingKeys keys = new ServingKeys();
  private final SecureRandom random = new SecureRandom();
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "weft-webhook-certificate");
    t.setDaemon(true);
    return t;
  });
  private SharedIndexInformer<Namespace> namespaces;
  private WebhookServer server;
  private volatile String servingRoot = "";

  private InjectionWebhook(KubernetesClient client, WebhookSettings settings, Clock clock) {
    this.client = client;
    this.settings = settings;
    this.clock = clock;
  }

  /** Starts informing on namespaces, serving, and the first certificate round. The client stays the caller's. */
  public static InjectionWebhook start(KubernetesClient client, WebhookSettings settings, InjectionSettings injection,
      Clock clock) throws IOException {
    InjectionWebhook webhook = new InjectionWebhook(client, settings, clock);
    try {
      webhook.namespaces = client.namespaces().inform();
      PodAdmission admission = new PodAdmission(new SidecarInjector(injection), webhook::labelsOf);
      webhook.server = WebhookServer.start(settings.address(), webhook.keys, admission);
      webhook.thread.execute(webhook::round);
    } catch (IOException | RuntimeException e) {
      webhook.close();
      throw e;
    }
    LOG.info("injection webhook serving port={} names={} {} configuration={} {}", webhook.port(),
        settings.dnsNames(), settings.ipAddresses(), settings.configurationName(), injection);
    return webhook;
  }

  public int port() {
    return server.port();
  }

  /** Why the webhook cannot answer yet (no serving certificate), or nothing. */
  public Optional<String> notReadyBecause() {
    return keys.current().isPresent() ? Optional.empty()
        : Optional.of("the webhook has no serving certificate yet (waiting for the mesh CA Secret "
            + settings.caNamespace() + "/" + settings.caSecret() + ")");
  }

  private Map<String, String> labelsOf(String namespace) {
    Namespace known = namespaces.getStore().getByKey(namespace);
    if (known == null) {
      // Created a moment ago and not in the cache yet: ask.
      known = client.namespaces().withName(namespace).get();
    }
    return known == null || known.getMetadata().getLabels() == null ? Map.of() : known.getMetadata().getLabels();
  }

  private void round() {
    Duration next = settings.refresh();
    try {
      if (!refresh()) {
        next = RETRY;
      }
    } catch (KubernetesClientException e) {
      LOG.warn("webhook certificate: the API refused a call ({}); retrying in {}s", e.getMessage(), RETRY.toSeconds());
      next = RETRY;
    } catch (RuntimeException e) {
      LOG.error("webhook certificate: round failed; retrying in {}s", RETRY.toSeconds(), e);
      next = RETRY;
    }
    if (!thread.isShutdown()) {
      thread.schedule(this::round, next.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** One round: a certificate when due, the configurations' caBundle when stale. False: the CA is not there yet. */
  private boolean refresh() {
    Secret secret = client.secrets().inNamespace(settings.caNamespace()).withName(settings.caSecret()).get();
    if (secret == null) {
      LOG.info("webhook certificate: waiting for the mesh CA Secret {}/{}", settings.caNamespace(), settings.caSecret());
      return false;
    }
    MeshCa ca = CaSecrets.read(secret, random);
    Instant now = clock.instant();
    String root = ca.root().fingerprint();
    Optional<CertifiedKey> current = keys.current();
    if (current.isEmpty() || !root.equals(servingRoot) || due(current.get(), now)) {
      CertifiedKey issued = ca.authority().issueServer("weft-webhook", settings.dnsNames(), settings.ipAddresses(),
          settings.keyAlgorithm(), settings.certificateLifetime(), now);
      keys.set(issued);
      servingRoot = root;
      LOG.info("webhook certificate issued names={} {} notAfter={}", settings.dnsNames(), settings.ipAddresses(),
          issued.info().notAfter());
    }
    if (!settings.configurationName().isEmpty()) {
      keepCaBundle(Base64.getEncoder().encodeToString(ca.bundle().pem().getBytes(StandardCharsets.UTF_8)));
    }
    return true;
  }

  private static boolean due(CertifiedKey key, Instant now) {
    Instant from = key.certificate().getNotBefore().toInstant();
    Instant to = key.certificate().getNotAfter().toInstant();
    return !now.isBefore(from.plus(Duration.between(from, to).multipliedBy(2).dividedBy(3)));
  }

  private void keepCaBundle(String bundle) {
    String name = settings.configurationName();
    var mutating = client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(name);
    MutatingWebhookConfiguration m = mutating.get();
    if (m != null && m.getWebhooks().stream().anyMatch(w -> !bundle.equals(w.getClientConfig().getCaBundle()))) {
      mutating.edit(c -> {
        c.getWebhooks().forEach(w -> w.getClientConfig().setCaBundle(bundle));
        return c;
      });
      LOG.info("caBundle updated mutatingwebhookconfiguration={}", name);
    }
    var validating = client.admissionRegistration().v1().validatingWebhookConfigurations().withName(name);
    ValidatingWebhookConfiguration v = validating.get();
    if (v != null && v.getWebhooks().stream().anyMatch(w -> !bundle.equals(w.getClientConfig().getCaBundle()))) {
      validating.edit(c -> {
        c.getWebhooks().forEach(w -> w.getClientConfig().setCaBundle(bundle));
        return c;
      });
      LOG.info("caBundle updated validatingwebhookconfiguration={}", name);
    }
    if (m == null && v == null) {
      LOG.debug("no webhook configuration named {} to keep", name);
    }
  }

  @Override
  public void close() {
    thread.shutdownNow();
    if (server != null) {
      server.close();
    }
    if (namespaces != null) {
      namespaces.close();
    }
  }
}
