package dev.weft.operator.certificates;

import dev.weft.convert.MeshedPods;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MeshedPodsTest {

  static final Map<String, String> LABELLED = Map.of("weft.dev/inject", "enabled");

  static PodBuilder pod(String namespace, String name, String serviceAccount) {
    return new PodBuilder().withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
        .withNewSpec().withServiceAccountName(serviceAccount).addNewContainer().withName("app").endContainer()
        .endSpec();
  }

  @Test
  void aPodInALabelledNamespaceIsMeshedAsItsServiceAccount() {
    assertThat(MeshedPods.serviceAccountOf(pod("shop", "web-1", "web").build(), LABELLED))
        .contains("web");
  }

  @Test
  void aPodWithoutAServiceAccountNameRunsAsDefault() {
    assertThat(MeshedPods.serviceAccountOf(pod("shop", "web-1", null).build(), LABELLED))
        .contains("default");
  }

  @Test
  void aPodInAnUnlabelledNamespaceIsNotMeshed() {
    assertThat(MeshedPods.serviceAccountOf(pod("shop", "web-1", "web").build(), Map.of())).isEmpty();
    assertThat(MeshedPods.serviceAccountOf(pod("shop", "web-1", "web").build(),
        Map.of("weft.dev/inject", "disabled"))).isEmpty();
  }

  @Test
  void aPodThatOptsOutIsNotMeshed() {
    Pod optedOut = pod("shop", "batch-1", "batch").editMetadata()
        .addToAnnotations("weft.dev/inject", "false").endMetadata().build();

    assertThat(MeshedPods.serviceAccountOf(optedOut, LABELLED)).isEmpty();
  }

  @Test
  void aPodCarryingTheWeftSidecarIsMeshedInAnyNamespace() {
    Pod withSidecar = pod("legacy", "web-1", "web").editSpec()
        .addNewContainer().withName("weft-proxy").endContainer().endSpec().build();
    Pod nativeSidecar = pod("legacy", "web-2", "web").editSpec()
        .addNewInitContainer().withName("weft-proxy").withRestartPolicy("Always").endInitContainer().endSpec().build();

    assertThat(MeshedPods.serviceAccountOf(withSidecar, Map.of())).contains("web");
    assertThat(MeshedPods.serviceAccountOf(nativeSidecar, Map.of())).contains("web");
  }

  @Test
  void aFinishedPodNeedsNoCertificate() {
    Pod done = pod("shop", "job-1", "job").withNewStatus().withPhase("Succeeded").endStatus().build();
    Pod failed = pod("shop", "job-2", "job").withNewStatus().withPhase("Failed").endStatus().build();
    Pod running = pod("shop", "job-3", "job").withNewStatus().withPhase("Running").endStatus().build();

    assertThat(MeshedPods.serviceAccountOf(done, LABELLED)).isEmpty();
    assertThat(MeshedPods.serviceAccountOf(failed, LABELLED)).isEmpty();
    assertThat(MeshedPods.serviceAccountOf(running, LABELLED)).isPresent();
  }

  @Test
  void aTrimmedPodIsMeshedExactlyAsThePodAndKeepsNothingElse() {
    Pod optedOut = pod("shop", "batch-1", "batch").editMetadata()
        .addToAnnotations("weft.dev/inject", "false").addToAnnotations("big", "x".repeat(1000))
        .addToLabels("app", "batch").endMetadata().build();
    Pod withSidecar = pod("legacy", "web-1", "web").editSpec()
        .addNewContainer().withName("weft-proxy").withImage("envoy").endContainer().endSpec().build();
    Pod finished = pod("shop", "job-1", "job").withNewStatus().withPhase("Succeeded").endStatus().build();
    Pod plain = pod("shop", "web-2", null).build();

    for (Pod pod : java.util.List.of(optedOut, withSidecar, finished, plain)) {
      for (Map<String, String> labels : java.util.List.of(LABELLED, Map.<String, String>of())) {
        assertThat(MeshedPods.serviceAccountOf(MeshedPods.trimmed(pod), labels))
            .as(pod.getMetadata().getName() + " " + labels)
            .isEqualTo(MeshedPods.serviceAccountOf(pod, labels));
      }
    }
    Pod trimmed = MeshedPods.trimmed(withSidecar);
    assertThat(trimmed.getSpec().getContainers()).singleElement()
        .satisfies(c -> assertThat(c.getImage()).isNull());
    assertThat(MeshedPods.trimmed(optedOut).getMetadata().getAnnotations()).containsOnlyKeys("weft.dev/inject");
    assertThat(MeshedPods.trimmed(optedOut).getMetadata().getLabels()).isNullOrEmpty();
  }
}
