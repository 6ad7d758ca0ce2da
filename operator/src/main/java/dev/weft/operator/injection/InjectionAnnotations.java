package dev.weft.operator.injection;

import dev.weft.convert.MeshedPods;

/** The pod annotations the injector reads (docs/injection.md lists them with examples). */
public final class InjectionAnnotations {

  /** {@code "false"}: this pod gets no sidecar even in a labelled namespace. */
  public static final String INJECT = MeshedPods.INJECT;
  /** Comma-separated TCP ports whose outbound connections bypass the sidecar. */
  public static final String EXCLUDE_OUTBOUND_PORTS = "weft.dev/exclude-outbound-ports";
  /** Comma-separated IPv4 addresses or CIDRs whose outbound connections bypass the sidecar. */
  public static final String EXCLUDE_OUTBOUND_CIDRS = "weft.dev/exclude-outbound-cidrs";
  /** Comma-separated TCP ports whose inbound connections reach the app directly. */
  public static final String EXCLUDE_INBOUND_PORTS = "weft.dev/exclude-inbound-ports";
  /** The sidecar's CPU and memory requests and limits (Kubernetes quantities), over the chart's defaults. */
  public static final String PROXY_CPU = "weft.dev/proxy-cpu";
  public static final String PROXY_MEMORY = "weft.dev/proxy-memory";
  public static final String PROXY_CPU_LIMIT = "weft.dev/proxy-cpu-limit";
  public static final String PROXY_MEMORY_LIMIT = "weft.dev/proxy-memory-limit";
  /** Envoy's log level (trace, debug, info, warning, error, critical, off), over the chart's. */
  public static final String PROXY_LOG_LEVEL = "weft.dev/proxy-log-level";

  /** {@code "false"}: the app's HTTP probes go to the app's port as written (see {@link AppProbes}). */
  public static final String REWRITE_APP_PROBES = "weft.dev/rewrite-app-probes";

  /** Added for Prometheus' usual pod discovery, unless the pod already sets {@code prometheus.io/scrape}. */
  public static final String PROMETHEUS_SCRAPE = "prometheus.io/scrape";
  public static final String PROMETHEUS_PORT = "prometheus.io/port";
  public static final String PROMETHEUS_PATH = "prometheus.io/path";

  private InjectionAnnotations() {}
}
