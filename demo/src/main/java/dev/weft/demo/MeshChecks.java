package dev.weft.demo;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.MeshStatus;
import dev.weft.api.v1alpha1.MeshStatusStatus;
import dev.weft.api.v1alpha1.TrafficSplit;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/** What both demos wait for in the mesh's own status: a TrafficSplit Programmed, every proxy synced. */
final class MeshChecks {

  private MeshChecks() {}

  /** The TrafficSplit's Programmed=True condition, once the operator has set it; fails after {@code bound}. */
  static Condition awaitProgrammed(KubernetesClient client, String namespace, String split, Duration bound) {
    return await("TrafficSplit " + split + " Programmed", bound, () -> {
      TrafficSplit found = client.resources(TrafficSplit.class).inNamespace(namespace).withName(split).get();
      return found == null || found.getStatus() == null ? null
          : found.getStatus().condition("Programmed").filter(c -> c.getStatus() == Condition.Status.True)
              .orElse(null);
    }, c -> c != null);
  }

  /** Whether MeshStatus shows {@code proxies} proxies connected and synced, none stale or NACKed, within {@code bound}. */
  static boolean awaitEveryProxySynced(KubernetesClient client, int proxies, Duration bound) {
    try {
      await("MeshStatus shows every proxy synced", bound, () -> {
        MeshStatus status = client.resources(MeshStatus.class).withName(MeshStatus.NAME).get();
        return status == null ? null : status.getStatus();
      }, status -> everyProxySynced(status, proxies));
      return true;
    } catch (ConditionTimeoutException e) {
      return false;
    }
  }

  static boolean everyProxySynced(MeshStatusStatus status, int proxies) {
    return status != null && status.getProxies() != null
        && status.getProxies().getConnected() == proxies
        && status.getProxies().getSynced() == proxies
        && status.getProxies().getStale() == 0
        && status.getProxies().getNacked() == 0;
  }

  private static <T> T await(String what, Duration bound, Callable<T> poll, Predicate<T> done) {
    return Awaitility.await(what).atMost(bound).pollInterval(Duration.ofMillis(100)).until(poll, done::test);
  }
}
