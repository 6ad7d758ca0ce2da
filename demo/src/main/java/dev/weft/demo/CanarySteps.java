package dev.weft.demo;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.testsupport.Kubectl;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;

/** The canary as both demos show it: apply the 90/10 split, judge the measured split, show the mesh's status. */
final class CanarySteps {

  private CanarySteps() {}

  /** Applies the 90/10 TrafficSplit with kubectl, printing it, and waits for Programmed within {@code bound}. */
  static void applyCanary(DemoConsole console, Kubectl kubectl, KubernetesClient client, Duration bound) {
    String yaml = WeftDemo.canaryYaml();
    console.step("$ kubectl apply -f - <<EOF");
    console.block(yaml + "EOF");
    kubectl.apply(yaml).requireSuccess();
    long appliedAt = System.nanoTime();
    Condition programmed = MeshChecks.awaitProgrammed(client, WeftDemo.NAMESPACE, WeftDemo.SPLIT, bound);
    console.step("Programmed after " + Duration.ofNanos(System.nanoTime() - appliedAt).toMillis() + " ms: "
        + programmed.getMessage());
  }

  /** Prints the measured split under {@code heading} and whether it matches 90/10 within the tolerance. */
  static boolean judgeSplit(DemoConsole console, String heading, Traffic.Tally tally) {
    boolean matches = SplitReport.matches(tally, WeftDemo.CANARY, WeftDemo.TOLERANCE);
    console.step(heading);
    console.block(SplitReport.render(tally));
    console.step(matches
        ? "the split matches 90/10 within ±" + (int) WeftDemo.TOLERANCE + " points"
        : "FAILED: the split does not match 90/10 within ±" + (int) WeftDemo.TOLERANCE + " points");
    return matches;
  }

  /**
   * Waits up to {@code bound} for MeshStatus to show {@code proxies} proxies synced, then prints
   * {@code kubectl get meshstatus} and the demo's TrafficSplits; true when they were synced.
   */
  static boolean showStatus(DemoConsole console, Kubectl kubectl, KubernetesClient client, int proxies,
      Duration bound) {
    boolean synced = MeshChecks.awaitEveryProxySynced(client, proxies, bound);
    console.step("$ kubectl get meshstatus");
    console.block(kubectl.run("get", "meshstatus").requireSuccess().stdout());
    console.step("$ kubectl get trafficsplits -n " + WeftDemo.NAMESPACE);
    console.block(kubectl.run("get", "trafficsplits", "-n", WeftDemo.NAMESPACE).requireSuccess().stdout());
    if (!synced) {
      console.step("FAILED: MeshStatus does not show every proxy synced after " + bound.toSeconds() + " s");
    }
    return synced;
  }
}
