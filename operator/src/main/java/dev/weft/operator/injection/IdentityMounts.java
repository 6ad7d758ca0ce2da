package dev.weft.operator.injection;

import dev.weft.operator.certificates.WorkloadSecrets;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The validating rule of the injection webhook: a pod may mount only its own ServiceAccount's
 * identity Secret ({@code weft-identity-<serviceAccount>}), directly or in a projected volume, so
 * no pod can borrow another workload's identity by naming its Secret.
 */
public final class IdentityMounts {

  private IdentityMounts() {}

  /** Why {@code pod} is refused, or nothing when it mounts no identity Secret but its own. */
  public static Optional<String> refusal(Pod pod) {
    if (pod.getSpec() == null || pod.getSpec().getVolumes() == null) {
      return Optional.empty();
    }
    String account = SidecarInjector.serviceAccount(pod);
    String own = WorkloadSecrets.name(account);
    List<String> borrowed = new ArrayList<>();
    for (Volume volume : pod.getSpec().getVolumes()) {
      for (String secret : secrets(volume)) {
        if (secret.startsWith(WorkloadSecrets.NAME_PREFIX) && !secret.equals(own)) {
          borrowed.add("volume '" + volume.getName() + "' mounts Secret '" + secret + "'");
        }
      }
    }
    if (borrowed.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of("the pod runs as ServiceAccount '" + account + "' and may mount only its own identity Secret '"
        + own + "', but " + String.join(", ", borrowed) + "; run the pod as that Secret's ServiceAccount "
        + "(spec.serviceAccountName) instead of mounting its certificate");
  }

  private static List<String> secrets(Volume volume) {
    List<String> names = new ArrayList<>();
    if (volume.getSecret() != null && volume.getSecret().getSecretName() != null) {
      names.add(volume.getSecret().getSecretName());
    }
    if (volume.getProjected() != null && volume.getProjected().getSources() != null) {
      for (VolumeProjection source : volume.getProjected().getSources()) {
        if (source.getSecret() != null && source.getSecret().getName() != null) {
          names.add(source.getSecret().getName());
        }
      }
    }
    return names;
  }
}
