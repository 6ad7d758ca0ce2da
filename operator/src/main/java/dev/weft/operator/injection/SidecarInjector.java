package dev.weft.operator.injection;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.convert.MeshedPods;
import dev.weft.operator.certificates.WorkloadSecrets;
import dev.weft.xds.bootstrap.SidecarBootstrap;
import dev.weft.xds.tls.IdentitySds;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Adds the Weft sidecar to a pod, or says why not. Pure: the pod, its namespace's labels and the
 * {@link InjectionSettings} in, a new pod out. What it adds (docs/injection.md):
 * <ul>
 *   <li>the init container {@value #INIT_CONTAINER} (root, NET_ADMIN and NET_RAW only), which writes
 *       the SDS files into the {@value #SDS_VOLUME} emptyDir and installs {@link CaptureRules};</li>
 *   <li>Envoy as the native sidecar {@value MeshedPods#SIDECAR_CONTAINER} (an init container with
 *       {@code restartPolicy: Always}, before the app's own init containers): started, and ready
 *       through its startup probe, before the app starts, stopped after the app; uid
 *       {@value CaptureRules#PROXY_UID}, read-only root, no privilege escalation;</li>
 *   <li>the ServiceAccount's certificate Secret, mounted read-only for file-based SDS, and the
 *       Prometheus scrape annotations for port {@value SidecarBootstrap#STATS_PORT};</li>
 *   <li>the app's HTTP probes pointed at the sidecar ({@link AppProbes}).</li>
 * </ul>
 * Pods from a Deployment have no name at admission, so the bootstrap's node id is
 * {@code $(WEFT_POD_NAME).<namespace>}: the kubelet expands the downward-API variable in Envoy's
 * arguments. The bootstrap itself travels inline ({@code --config-yaml}).
 */
public final class SidecarInjector {

  public static final String INIT_CONTAINER = "weft-init";
  public static final String IDENTITY_VOLUME = "weft-identity";
  public static final String SDS_VOLUME = "weft-sds";
  public static final String POD_NAME_VARIABLE = "WEFT_POD_NAME";
  public static final String SYSTEM_NAMESPACE = "kube-system";
  /** The pod's terminationGracePeriodSeconds when it sets none (Kubernetes' default). */
  static final long DEFAULT_GRACE_SECONDS = 30;

  private final InjectionSettings settings;

  public SidecarInjector(InjectionSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** What happened to a pod: the pod to store, and why it was left alone, if it was. */
  public record Outcome(Pod pod, Optional<SkipReason> skipped) {

    public boolean injected() {
      return skipped.isEmpty();
    }
  }

  /**
   * The pod as it should be stored: injected, or unchanged with the reason. A pod whose annotations
   * the injector cannot read is an {@link IllegalArgumentException} naming the annotation.
   */
  public Outcome admit(Pod pod, String namespace, Map<String, String> namespaceLabels) {
    Optional<SkipReason> skip = skipReason(pod, namespace, namespaceLabels);
    return skip.isPresent() ? new Outcome(pod, skip) : new Outcome(inject(pod, namespace), Optional.empty());
  }

  /** Why {@code pod} in {@code namespace} (labelled {@code namespaceLabels}) gets no sidecar, if it gets none. */
  public Optional<SkipReason> skipReason(Pod pod, String namespace, Map<String, String> namespaceLabels) {
    if (SYSTEM_NAMESPACE.equals(namespace)) {
      return Optional.of(SkipReason.SYSTEM_NAMESPACE);
    }
    if (!settings.meshNamespace().isEmpty() && settings.meshNamespace().equals(namespace)) {
      return Optional.of(SkipReason.MESH_NAMESPACE);
    }
    if (pod.getSpec() != null && MeshedPods.hasSidecar(pod)) {
      return Optional.of(SkipReason.ALREADY_INJECTED);
    }
    if ("false".equalsIgnoreCase(annotation(pod, InjectionAnnotations.INJECT).strip())) {
      return Optional.of(SkipReason.OPTED_OUT);
    }
    if (pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork())) {
      return Optional.of(SkipReason.HOST_NETWORK);
    }
    Map<String, String> labels = namespaceLabels == null ? Map.of() : namespaceLabels;
    if (!MeshedPods.INJECT_ENABLED.equals(labels.get(MeshedPods.INJECT))) {
      return Optional.of(SkipReason.NAMESPACE_NOT_LABELLED);
    }
    return Optional.empty();
  }

  /** {@code pod} with the sidecar, whatever the selection rules say. */
  public Pod inject(Pod pod, String namespace) {
    String serviceAccount = serviceAccount(pod);
    CaptureRules.Exclusions exclusions = settings.exclusions().plus(CaptureRules.Exclusions.parse(
        annotation(pod, InjectionAnnotations.EXCLUDE_OUTBOUND_PORTS),
        annotation(pod, InjectionAnnotations.EXCLUDE_OUTBOUND_CIDRS),
        annotation(pod, InjectionAnnotations.EXCLUDE_INBOUND_PORTS), "annotations weft.dev/exclude-*"));
    List<AppProbes.Rewrite> probes = "false".equalsIgnoreCase(
        annotation(pod, InjectionAnnotations.REWRITE_APP_PROBES).strip()) ? List.of() : AppProbes.of(pod);
    List<Container> initContainers = new ArrayList<>();
    initContainers.add(initContainer(exclusions));
    initContainers.add(proxy(pod, namespace, serviceAccount, probes));
    if (pod.getSpec().getInitContainers() != null) {
      initContainers.addAll(pod.getSpec().getInitContainers());
    }
    List<Volume> volumes = new ArrayList<>();
    if (pod.getSpec().getVolumes() != null) {
      volumes.addAll(pod.getSpec().getVolumes());
    }
    volumes.add(new VolumeBuilder().withName(IDENTITY_VOLUME)
        .withNewSecret().withSecretName(WorkloadSecrets.name(serviceAccount)).withOptional(false).endSecret()
        .build());
    volumes.add(new VolumeBuilder().withName(SDS_VOLUME)
        .withNewEmptyDir().withMedium("Memory").withSizeLimit(new Quantity("1Mi")).endEmptyDir().build());
    Map<String, String> annotations = new LinkedHashMap<>();
    if (pod.getMetadata().getAnnotations() != null) {
      annotations.putAll(pod.getMetadata().getAnnotations());
    }
    if (!annotations.containsKey(InjectionAnnotations.PROMETHEUS_SCRAPE)) {
      annotations.put(InjectionAnnotations.PROMETHEUS_SCRAPE, "true");
      annotations.put(InjectionAnnotations.PROMETHEUS_PORT, String.valueOf(SidecarBootstrap.STATS_PORT));
      annotations.put(InjectionAnnotations.PROMETHEUS_PATH, "/stats/prometheus");
    }
    List<Container> containers = pod.getSpec().getContainers().stream()
        .map(c -> AppProbes.rewritten(c, probes)).toList();
    return new PodBuilder(pod)
        .editMetadata().withAnnotations(annotations).endMetadata()
        .editSpec().withInitContainers(initContainers).withContainers(containers).withVolumes(volumes).endSpec()
        .build();
  }

  private Container initContainer(CaptureRules.Exclusions exclusions) {
    StringBuilder script = new StringBuilder();
    // The SDS files only name the mounted Secret's files, so they are the same for every pod and a
    // renewed Secret (the kubelet swaps its ..data link) is read without touching them.
    script.append("mkdir -p ").append(IdentitySds.POD_SDS_DIRECTORY).append('\n');
    SidecarBootstrap.sdsFiles(IdentitySds.POD_IDENTITY_DIRECTORY).forEach((file, json) ->
        script.append("printf '%s\\n' ").append(quote(json)).append(" > ")
            .append(IdentitySds.POD_SDS_DIRECTORY).append('/').append(file).append('\n'));
    script.append(CaptureRules.script(exclusions));
    return new ContainerBuilder()
        .withName(INIT_CONTAINER)
        .withImage(settings.initImage())
        .withImagePullPolicy(pullPolicy())
        .withCommand("sh", "-c", script.toString())
        .withNewSecurityContext()
          .withRunAsUser(0L).withRunAsGroup(0L).withRunAsNonRoot(false).withPrivileged(false)
          .withAllowPrivilegeEscalation(false)
          .withNewCapabilities().withAdd("NET_ADMIN", "NET_RAW").withDrop("ALL").endCapabilities()
        .endSecurityContext()
        .withNewResources()
          .addToRequests("cpu", new Quantity("10m")).addToRequests("memory", new Quantity("16Mi"))
          .addToLimits("memory", new Quantity("64Mi"))
        .endResources()
        .addNewVolumeMount().withName(SDS_VOLUME).withMountPath(IdentitySds.POD_SDS_DIRECTORY).endVolumeMount()
        .build();
  }

  private Container proxy(Pod pod, String namespace, String serviceAccount, List<AppProbes.Rewrite> probes) {
    List<Integer> appPorts = appPorts(pod);
    SidecarBootstrap.Workload workload =
        SidecarBootstrap.Workload.inPod("$(" + POD_NAME_VARIABLE + ")", namespace, serviceAccount, appPorts);
    String bootstrap = SidecarBootstrap.json(withLabels(AppProbes.withProbes(SidecarBootstrap.build(workload,
        settings.xdsHost(), settings.xdsPort(), SidecarBootstrap.Transport.DELTA, settings.xdsServerId()), probes),
        pod.getMetadata().getLabels()));
    String logLevel = annotation(pod, InjectionAnnotations.PROXY_LOG_LEVEL).isBlank()
        ? settings.logLevel() : annotation(pod, InjectionAnnotations.PROXY_LOG_LEVEL).strip();
    if (!List.of("trace", "debug", "info", "warning", "warn", "error", "critical", "off").contains(logLevel)) {
      throw new IllegalArgumentException(InjectionAnnotations.PROXY_LOG_LEVEL + ": '" + logLevel
          + "' is not an Envoy log level; use one of trace, debug, info, warning, error, critical, off");
    }
    ContainerBuilder proxy = new ContainerBuilder()
        .withName(MeshedPods.SIDECAR_CONTAINER)
        .withImage(settings.proxyImage())
        .withImagePullPolicy(pullPolicy())
        // Native sidecar: the kubelet starts it before the app and stops it after.
        .withRestartPolicy("Always")
        .withArgs("--config-yaml", bootstrap, "--disable-hot-restart",
            "--concurrency", String.valueOf(settings.concurrency()),
            "--drain-time-s", String.valueOf(settings.drainSeconds()), "--drain-strategy", "immediate",
            "-l", logLevel)
        .withEnv(new EnvVarBuilder().withName(POD_NAME_VARIABLE)
                .withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name").endFieldRef().endValueFrom()
                .build(),
            new EnvVarBuilder().withName("WEFT_POD_NAMESPACE")
                .withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace").endFieldRef().endValueFrom()
                .build())
        .addNewPort().withName("weft-metrics").withContainerPort(SidecarBootstrap.STATS_PORT)
          .withProtocol("TCP").endPort()
        // The admin's /ready through the stats port: 200 once Envoy applied its first config. As the
        // startup probe it holds the app back until then; as the readiness probe it keeps it honest.
        .withNewStartupProbe()
          .withNewHttpGet().withPath(SidecarBootstrap.READY_PATH)
            .withNewPort(SidecarBootstrap.STATS_PORT).endHttpGet()
          .withPeriodSeconds(1).withFailureThreshold(300).withTimeoutSeconds(2)
        .endStartupProbe()
        .withNewReadinessProbe()
          .withNewHttpGet().withPath(SidecarBootstrap.READY_PATH)
            .withNewPort(SidecarBootstrap.STATS_PORT).endHttpGet()
          .withPeriodSeconds(5).withFailureThreshold(3).withTimeoutSeconds(2)
        .endReadinessProbe()
        .withResources(resources(pod))
        .withNewSecurityContext()
          .withRunAsUser((long) CaptureRules.PROXY_UID).withRunAsGroup((long) CaptureRules.PROXY_UID)
          .withRunAsNonRoot(true).withReadOnlyRootFilesystem(true).withAllowPrivilegeEscalation(false)
          .withPrivileged(false)
          .withNewCapabilities().withDrop("ALL").endCapabilities()
        .endSecurityContext()
        .addNewVolumeMount().withName(IDENTITY_VOLUME).withMountPath(IdentitySds.POD_IDENTITY_DIRECTORY)
          .withReadOnly(true).endVolumeMount()
        .addNewVolumeMount().withName(SDS_VOLUME).withMountPath(IdentitySds.POD_SDS_DIRECTORY)
          .withReadOnly(true).endVolumeMount();
    long pause = drainPause(pod);
    if (pause > 0) {
      // The image has no shell and the admin's drain needs a POST, which a kubelet hook cannot
      // send: the pause lets peers see the endpoint leave and in-flight requests finish before
      // SIGTERM closes the listeners. The kubelet runs it after the app has stopped.
      proxy.withNewLifecycle().withNewPreStop().withNewSleep(pause).endPreStop().endLifecycle();
    }
    return proxy.build();
  }

  /**
   * The sidecar's preStop pause: the drain setting, but shorter than the pod's grace period (the
   * apiserver refuses a sleep that is not, and the pod would not be created), none when the grace
   * period leaves no room.
   */
  private long drainPause(Pod pod) {
    Long grace = pod.getSpec().getTerminationGracePeriodSeconds();
    long limit = (grace == null ? DEFAULT_GRACE_SECONDS : grace) - 1;
    return Math.max(0, Math.min(settings.drainSeconds(), limit));
  }

  /** {@code bootstrap} with the pod's labels in its node metadata ({@value SidecarBootstrap#META_LABELS}). */
  private static Bootstrap withLabels(Bootstrap bootstrap, Map<String, String> labels) {
    if (labels == null || labels.isEmpty()) {
      return bootstrap;
    }
    Struct.Builder struct = Struct.newBuilder();
    new TreeMap<>(labels).forEach((k, v) -> struct.putFields(k, Value.newBuilder().setStringValue(v).build()));
    Bootstrap.Builder builder = bootstrap.toBuilder();
    builder.getNodeBuilder().getMetadataBuilder().putFields(SidecarBootstrap.META_LABELS,
        Value.newBuilder().setStructValue(struct).build());
    return builder.build();
  }

  private ResourceRequirements resources(Pod pod) {
    InjectionSettings.ProxyResources defaults = settings.proxyResources();
    Map<String, Quantity> requests = new LinkedHashMap<>();
    Map<String, Quantity> limits = new LinkedHashMap<>();
    put(requests, "cpu", quantity(pod, InjectionAnnotations.PROXY_CPU, defaults.cpuRequest()));
    put(requests, "memory", quantity(pod, InjectionAnnotations.PROXY_MEMORY, defaults.memoryRequest()));
    put(limits, "cpu", quantity(pod, InjectionAnnotations.PROXY_CPU_LIMIT, defaults.cpuLimit()));
    put(limits, "memory", quantity(pod, InjectionAnnotations.PROXY_MEMORY_LIMIT, defaults.memoryLimit()));
    ResourceRequirements resources = new ResourceRequirements();
    resources.setRequests(requests);
    if (!limits.isEmpty()) {
      resources.setLimits(limits);
    }
    return resources;
  }

  private static void put(Map<String, Quantity> map, String key, String value) {
    if (!value.isEmpty()) {
      map.put(key, new Quantity(value));
    }
  }

  private static String quantity(Pod pod, String annotation, String fallback) {
    String value = annotation(pod, annotation).strip();
    if (value.isEmpty()) {
      return fallback;
    }
    try {
      Quantity.getAmountInBytes(Quantity.parse(value));
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IllegalArgumentException(annotation + ": '" + value
          + "' is not a Kubernetes quantity; write e.g. \"100m\" for CPU or \"128Mi\" for memory");
    }
    return value;
  }

  private String pullPolicy() {
    return settings.imagePullPolicy().isEmpty() ? null : settings.imagePullPolicy();
  }

  /** The TCP ports the app's containers declare: the inbound side the xds-server programs. */
  private static List<Integer> appPorts(Pod pod) {
    TreeSet<Integer> ports = new TreeSet<>();
    for (Container container : pod.getSpec().getContainers() == null ? List.<Container>of()
        : pod.getSpec().getContainers()) {
      for (ContainerPort port : container.getPorts() == null ? List.<ContainerPort>of() : container.getPorts()) {
        if (port.getContainerPort() != null && (port.getProtocol() == null || "TCP".equals(port.getProtocol()))) {
          ports.add(port.getContainerPort());
        }
      }
    }
    return List.copyOf(ports);
  }

  static String serviceAccount(Pod pod) {
    String account = pod.getSpec() == null ? null : pod.getSpec().getServiceAccountName();
    if (account == null || account.isBlank()) {
      account = pod.getSpec() == null ? null : pod.getSpec().getServiceAccount();
    }
    return account == null || account.isBlank() ? "default" : account;
  }

  private static String annotation(Pod pod, String key) {
    Map<String, String> annotations = pod.getMetadata() == null ? null : pod.getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(key);
    return value == null ? "" : value;
  }

  /** {@code text} as one single-quoted sh word. */
  static String quote(String text) {
    return "'" + text.replace("'", "'\\''") + "'";
  }
}
