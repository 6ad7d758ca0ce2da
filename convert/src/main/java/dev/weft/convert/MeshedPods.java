package dev.weft.convert;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Which pods are in the mesh, and so which ServiceAccounts need a certificate. A pod is meshed when
 * it carries a Weft sidecar (a container or init container named {@value #SIDECAR_CONTAINER}, the
 * name the injector gives it and the one to use when adding the sidecar by hand), or when its
 * namespace is labelled {@code weft.dev/inject=enabled} and the pod does not opt out with the
 * annotation {@code weft.dev/inject: "false"}. A pod that has finished (Succeeded, Failed) no longer
 * needs one. The namespace label alone is enough so that the certificate exists before the
 * injected pod's sidecar starts and mounts it.
 *
 * <p>One rule for both processes: the operator issues certificates to the ServiceAccounts of meshed
 * pods, and the xds-server has callers speak mTLS to exactly those pods.
 */
public final class MeshedPods {

  public static final String INJECT = "weft.dev/inject";
  public static final String INJECT_ENABLED = "enabled";
  public static final String SIDECAR_CONTAINER = "weft-proxy";

  private MeshedPods() {}

  /** The ServiceAccount the pod runs as, if the pod is meshed; {@code namespaceLabels} are its namespace's. */
  public static Optional<String> serviceAccountOf(Pod pod, Map<String, String> namespaceLabels) {
    if (pod.getSpec() == null || finished(pod)) {
      return Optional.empty();
    }
    boolean labelled = INJECT_ENABLED.equals(namespaceLabels == null ? null : namespaceLabels.get(INJECT));
    boolean optedOut = "false".equalsIgnoreCase(annotation(pod, INJECT));
    if (!hasSidecar(pod) && !(labelled && !optedOut)) {
      return Optional.empty();
    }
    String account = pod.getSpec().getServiceAccountName();
    return Optional.of(account == null || account.isBlank() ? "default" : account);
  }

  public static boolean hasSidecar(Pod pod) {
    return Stream.concat(containers(pod.getSpec().getContainers()), containers(pod.getSpec().getInitContainers()))
        .anyMatch(c -> SIDECAR_CONTAINER.equals(c.getName()));
  }

  /**
   * The parts of {@code pod} this class reads, and nothing else: name, namespace, uid, resource
   * version, the opt-out annotation, the ServiceAccount, the sidecar container (by name) and the
   * phase. An informer caches this rather than the whole pod: a pod spec is several KB, and the
   * xds-server watches every pod of the mesh. {@link #serviceAccountOf} gives the same answer for
   * the trimmed pod as for the pod.
   */
  public static Pod trimmed(Pod pod) {
    ObjectMeta metadata = pod.getMetadata();
    ObjectMetaBuilder meta = new ObjectMetaBuilder()
        .withName(metadata.getName())
        .withNamespace(metadata.getNamespace())
        .withUid(metadata.getUid())
        .withResourceVersion(metadata.getResourceVersion());
    String optOut = annotation(pod, INJECT);
    if (optOut != null) {
      meta.withAnnotations(Map.of(INJECT, optOut));
    }
    PodBuilder trimmed = new PodBuilder().withMetadata(meta.build());
    if (pod.getSpec() != null) {
      PodSpec spec = pod.getSpec();
      trimmed.withNewSpec()
          .withServiceAccountName(spec.getServiceAccountName())
          .withContainers(sidecarsIn(spec.getContainers()))
          .withInitContainers(sidecarsIn(spec.getInitContainers()))
          .endSpec();
    }
    if (pod.getStatus() != null) {
      trimmed.withNewStatus().withPhase(pod.getStatus().getPhase()).endStatus();
    }
    return trimmed.build();
  }

  private static List<Container> sidecarsIn(List<Container> containers) {
    return containers(containers).filter(c -> SIDECAR_CONTAINER.equals(c.getName()))
        .map(c -> new ContainerBuilder().withName(c.getName()).build())
        .toList();
  }

  private static Stream<Container> containers(List<Container> containers) {
    return containers == null ? Stream.empty() : containers.stream();
  }

  private static boolean finished(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  private static String annotation(Pod pod, String key) {
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }
}
