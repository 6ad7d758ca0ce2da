package dev.weft.operator.injection;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the injector adds to a pod, as the helm chart's {@code injection:} values set it: the images,
 * where the xds-server is (and its SPIFFE ID when the sidecars reach it over mTLS), the mesh's own
 * namespace (never injected), the sidecar's default resources and log level, how long it drains,
 * and the capture exclusions that apply to every pod (annotations add to them).
 */
public record InjectionSettings(String proxyImage, String initImage, String imagePullPolicy, String xdsHost,
    int xdsPort, String xdsServerId, String meshNamespace, ProxyResources proxyResources, String logLevel,
    int concurrency, int drainSeconds, CaptureRules.Exclusions exclusions) {

  /** Requests and limits of a container, as Kubernetes quantities; an empty limit means none. */
  public record ProxyResources(String cpuRequest, String memoryRequest, String cpuLimit, String memoryLimit) {

    public ProxyResources {
      Objects.requireNonNull(cpuRequest, "cpuRequest");
      Objects.requireNonNull(memoryRequest, "memoryRequest");
      cpuLimit = cpuLimit == null ? "" : cpuLimit;
      memoryLimit = memoryLimit == null ? "" : memoryLimit;
    }

    public static ProxyResources defaults() {
      return new ProxyResources("50m", "64Mi", "", "256Mi");
    }
  }

  public static final String DEFAULT_PROXY_IMAGE = "weft.local/envoy:latest";
  public static final String DEFAULT_INIT_IMAGE = "weft.local/iptables:latest";
  public static final int DEFAULT_XDS_PORT = 18000;

  public InjectionSettings {
    requireText(proxyImage, "proxyImage");
    requireText(initImage, "initImage");
    imagePullPolicy = imagePullPolicy == null ? "" : imagePullPolicy;
    requireText(xdsHost, "xdsHost");
    if (xdsPort < 1 || xdsPort > 65535) {
      throw new IllegalArgumentException("the xds port must be 1-65535, not " + xdsPort);
    }
    xdsServerId = xdsServerId == null ? "" : xdsServerId;
    meshNamespace = meshNamespace == null ? "" : meshNamespace;
    Objects.requireNonNull(proxyResources, "proxyResources");
    logLevel = logLevel == null || logLevel.isBlank() ? "warning" : logLevel;
    if (concurrency < 1) {
      throw new IllegalArgumentException("the proxy's concurrency must be at least 1, not " + concurrency);
    }
    if (drainSeconds < 0) {
      throw new IllegalArgumentException("the drain time must not be negative, not " + drainSeconds);
    }
    Objects.requireNonNull(exclusions, "exclusions");
  }

  /** Settings for tests and a laptop: the locally built images, plaintext xDS at {@code xdsHost:xdsPort}. */
  public static InjectionSettings of(String xdsHost, int xdsPort, String meshNamespace) {
    return new InjectionSettings(DEFAULT_PROXY_IMAGE, DEFAULT_INIT_IMAGE, "IfNotPresent", xdsHost, xdsPort, "",
        meshNamespace, ProxyResources.defaults(), "warning", 2, 5, CaptureRules.Exclusions.NONE);
  }

  public InjectionSettings withXdsServerId(String id) {
    return new InjectionSettings(proxyImage, initImage, imagePullPolicy, xdsHost, xdsPort, id, meshNamespace,
        proxyResources, logLevel, concurrency, drainSeconds, exclusions);
  }

  public InjectionSettings withImages(String proxy, String init) {
    return new InjectionSettings(proxy, init, imagePullPolicy, xdsHost, xdsPort, xdsServerId, meshNamespace,
        proxyResources, logLevel, concurrency, drainSeconds, exclusions);
  }

  public InjectionSettings withExclusions(CaptureRules.Exclusions newExclusions) {
    return new InjectionSettings(proxyImage, initImage, imagePullPolicy, xdsHost, xdsPort, xdsServerId,
        meshNamespace, proxyResources, logLevel, concurrency, drainSeconds, newExclusions);
  }

  /**
   * The settings from the environment the chart gives the operator; empty when
   * {@code WEFT_INJECTION_PROXY_IMAGE} is unset (injection off). {@code WEFT_INJECTION_INIT_IMAGE},
   * {@code WEFT_INJECTION_IMAGE_PULL_POLICY}, {@code WEFT_INJECTION_XDS_ADDRESS} ({@code host:port}),
   * {@code WEFT_INJECTION_XDS_SERVER_ID} (set: mTLS to the xds-server), {@code WEFT_POD_NAMESPACE}
   * (the mesh's namespace), {@code WEFT_INJECTION_PROXY_CPU}, {@code _MEMORY}, {@code _CPU_LIMIT},
   * {@code _MEMORY_LIMIT}, {@code WEFT_INJECTION_PROXY_LOG_LEVEL}, {@code _CONCURRENCY},
   * {@code WEFT_INJECTION_DRAIN_SECONDS}, and the exclusions {@code WEFT_INJECTION_EXCLUDE_OUTBOUND_PORTS},
   * {@code _OUTBOUND_CIDRS}, {@code _INBOUND_PORTS} (comma-separated).
   */
  public static Optional<InjectionSettings> fromEnvironment(Map<String, String> env) {
    String proxy = value(env, "WEFT_INJECTION_PROXY_IMAGE", "");
    if (proxy.isEmpty()) {
      return Optional.empty();
    }
    String address = value(env, "WEFT_INJECTION_XDS_ADDRESS", "");
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("WEFT_INJECTION_XDS_ADDRESS must be host:port, not '" + address + "'");
    }
    ProxyResources defaults = ProxyResources.defaults();
    ProxyResources resources = new ProxyResources(value(env, "WEFT_INJECTION_PROXY_CPU", defaults.cpuRequest()),
        value(env, "WEFT_INJECTION_PROXY_MEMORY", defaults.memoryRequest()),
        value(env, "WEFT_INJECTION_PROXY_CPU_LIMIT", defaults.cpuLimit()),
        value(env, "WEFT_INJECTION_PROXY_MEMORY_LIMIT", defaults.memoryLimit()));
    CaptureRules.Exclusions exclusions = CaptureRules.Exclusions.parse(
        value(env, "WEFT_INJECTION_EXCLUDE_OUTBOUND_PORTS", ""), value(env, "WEFT_INJECTION_EXCLUDE_OUTBOUND_CIDRS", ""),
        value(env, "WEFT_INJECTION_EXCLUDE_INBOUND_PORTS", ""), "WEFT_INJECTION_EXCLUDE_*");
    return Optional.of(new InjectionSettings(proxy, value(env, "WEFT_INJECTION_INIT_IMAGE", DEFAULT_INIT_IMAGE),
        value(env, "WEFT_INJECTION_IMAGE_PULL_POLICY", "IfNotPresent"), address.substring(0, colon),
        number(address.substring(colon + 1), "WEFT_INJECTION_XDS_ADDRESS"), value(env, "WEFT_INJECTION_XDS_SERVER_ID", ""),
        value(env, "WEFT_POD_NAMESPACE", ""), resources, value(env, "WEFT_INJECTION_PROXY_LOG_LEVEL", "warning"),
        number(value(env, "WEFT_INJECTION_PROXY_CONCURRENCY", "2"), "WEFT_INJECTION_PROXY_CONCURRENCY"),
        number(value(env, "WEFT_INJECTION_DRAIN_SECONDS", "5"), "WEFT_INJECTION_DRAIN_SECONDS"), exclusions));
  }

  private static String value(Map<String, String> env, String key, String fallback) {
    String value = env.get(key);
    return value == null || value.isBlank() ? fallback : value.strip();
  }

  private static int number(String text, String key) {
    try {
      return Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, not '" + text + "'", e);
    }
  }

  private static void requireText(String value, String what) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(what + " must be set");
    }
  }

  /** One log line: images, where the xds-server is and how, exclusions. */
  @Override
  public String toString() {
    return "InjectionSettings[proxyImage=" + proxyImage + ", initImage=" + initImage + ", xds=" + xdsHost + ":"
        + xdsPort + (xdsServerId.isEmpty() ? " plaintext" : " mTLS " + xdsServerId) + ", meshNamespace="
        + meshNamespace + ", exclusions=" + exclusions + "]";
  }
}
