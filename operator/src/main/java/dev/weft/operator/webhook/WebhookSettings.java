package dev.weft.operator.webhook;

import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.operator.identity.KeyAlgorithm;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the injection webhook serves and how it is known: its address, the Service the
 * kube-apiserver calls it by (the serving certificate's DNS names), extra IP addresses for the
 * certificate (tests call it by 127.0.0.1), the name of the Mutating- and
 * ValidatingWebhookConfiguration whose {@code caBundle} it keeps, and the mesh CA that signs its
 * certificate (the Secret {@code caSecret} in {@code caNamespace}).
 */
public record WebhookSettings(InetSocketAddress address, String serviceName, String serviceNamespace,
    List<String> ipAddresses, String configurationName, String caNamespace, String caSecret,
    KeyAlgorithm keyAlgorithm, Duration certificateLifetime, Duration refresh) {

  public static final int DEFAULT_PORT = 8443;
  public static final Duration DEFAULT_LIFETIME = Duration.ofDays(7);
  public static final Duration DEFAULT_REFRESH = Duration.ofMinutes(1);

  public WebhookSettings {
    Objects.requireNonNull(address, "address");
    serviceName = serviceName == null ? "" : serviceName;
    serviceNamespace = serviceNamespace == null ? "" : serviceNamespace;
    ipAddresses = List.copyOf(ipAddresses);
    configurationName = configurationName == null ? "" : configurationName;
    Objects.requireNonNull(caNamespace, "caNamespace");
    Objects.requireNonNull(caSecret, "caSecret");
    Objects.requireNonNull(keyAlgorithm, "keyAlgorithm");
    Objects.requireNonNull(certificateLifetime, "certificateLifetime");
    Objects.requireNonNull(refresh, "refresh");
    if (serviceName.isEmpty() && ipAddresses.isEmpty()) {
      throw new IllegalArgumentException("the webhook needs a Service name or an IP address to be called by");
    }
  }

  /** The DNS names the kube-apiserver may use for the Service: short, namespaced and fully qualified. */
  public List<String> dnsNames() {
    if (serviceName.isEmpty()) {
      return List.of();
    }
    if (serviceNamespace.isEmpty()) {
      return List.of(serviceName);
    }
    String svc = serviceName + "." + serviceNamespace + ".svc";
    return List.of(serviceName, serviceName + "." + serviceNamespace, svc, svc + ".cluster.local");
  }

  public WebhookSettings withRefresh(Duration newRefresh) {
    return new WebhookSettings(address, serviceName, serviceNamespace, ipAddresses, configurationName, caNamespace,
        caSecret, keyAlgorithm, certificateLifetime, newRefresh);
  }

  /**
   * From the chart's environment; empty when {@code WEFT_WEBHOOK_SERVICE} is unset (no webhook).
   * {@code WEFT_WEBHOOK_PORT} (default 8443), {@code WEFT_BIND_ADDRESS}, {@code WEFT_POD_NAMESPACE}
   * (the Service's and the CA's namespace), {@code WEFT_WEBHOOK_CONFIGURATION} (the configurations'
   * name), {@code WEFT_WEBHOOK_IP_ADDRESSES} (comma-separated), and the CA Secret and key type of
   * {@code certificates}.
   */
  public static Optional<WebhookSettings> fromEnvironment(Map<String, String> env, CertificateSettings certificates) {
    String service = env.getOrDefault("WEFT_WEBHOOK_SERVICE", "").strip();
    if (service.isEmpty()) {
      return Optional.empty();
    }
    String port = env.getOrDefault("WEFT_WEBHOOK_PORT", String.valueOf(DEFAULT_PORT)).strip();
    InetSocketAddress address;
    try {
      address = new InetSocketAddress(env.getOrDefault("WEFT_BIND_ADDRESS", "0.0.0.0"), Integer.parseInt(port));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("WEFT_WEBHOOK_PORT must be a port number, not '" + port + "'", e);
    }
    String namespace = env.getOrDefault("WEFT_POD_NAMESPACE", "").strip();
    if (namespace.isEmpty()) {
      throw new IllegalArgumentException("WEFT_POD_NAMESPACE must be set for the webhook (its Service and CA live there)");
    }
    List<String> ips = Arrays.stream(env.getOrDefault("WEFT_WEBHOOK_IP_ADDRESSES", "").split(","))
        .map(String::strip).filter(s -> !s.isEmpty()).toList();
    return Optional.of(new WebhookSettings(address, service, namespace, ips,
        env.getOrDefault("WEFT_WEBHOOK_CONFIGURATION", "").strip(), namespace, certificates.caSecret(),
        certificates.identity().keyAlgorithm(), DEFAULT_LIFETIME, DEFAULT_REFRESH));
  }
}
