package dev.weft.convert;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * The identities behind endpoints: for each meshed pod ({@link MeshedPods}), the ServiceAccount it
 * runs as, looked up by the {@code targetRef} an EndpointSlice endpoint carries. An endpoint without
 * a target, or whose pod is unknown or not meshed, has no identity: callers speak plaintext to it.
 * (A pod is created before its endpoint is listed, so an unknown pod is rare and short-lived: the
 * next rebuild, once the pod is seen, gives the endpoint its identity.)
 */
public final class PodIdentities {

  /** No pod is known: every endpoint is outside the mesh. */
  public static final PodIdentities NONE = new PodIdentities(Map.of());

  private final Map<String, String> serviceAccountByPod;

  private PodIdentities(Map<String, String> serviceAccountByPod) {
    this.serviceAccountByPod = serviceAccountByPod;
  }

  /** The meshed pods among {@code pods}, judged with the labels of {@code namespaces}. */
  public static PodIdentities of(Collection<Pod> pods, Collection<Namespace> namespaces) {
    Map<String, Map<String, String>> labels = new HashMap<>();
    for (Namespace namespace : namespaces) {
      Map<String, String> nsLabels = namespace.getMetadata().getLabels();
      labels.put(namespace.getMetadata().getName(), nsLabels == null ? Map.of() : nsLabels);
    }
    Map<String, String> accounts = new HashMap<>();
    for (Pod pod : pods) {
      String namespace = pod.getMetadata().getNamespace();
      MeshedPods.serviceAccountOf(pod, labels.getOrDefault(namespace, Map.of()))
          .ifPresent(account -> accounts.put(namespace + "/" + pod.getMetadata().getName(), account));
    }
    return new PodIdentities(accounts);
  }

  /** Equal when every meshed pod has the same ServiceAccount in both: they give every endpoint the same identity. */
  @Override
  public boolean equals(Object other) {
    return other instanceof PodIdentities identities && identities.serviceAccountByPod.equals(serviceAccountByPod);
  }

  @Override
  public int hashCode() {
    return serviceAccountByPod.hashCode();
  }

  /** The ServiceAccount of the meshed pod an endpoint in {@code namespace} targets, or "" if there is none. */
  public String serviceAccountOf(String namespace, ObjectReference target) {
    if (target == null || !"Pod".equals(target.getKind()) || target.getName() == null) {
      return "";
    }
    String podNamespace = target.getNamespace() == null || target.getNamespace().isEmpty()
        ? namespace : target.getNamespace();
    return serviceAccountByPod.getOrDefault(podNamespace + "/" + target.getName(), "");
  }
}
