package dev.weft.demo;

import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.Kubectl;
import java.time.Duration;

/**
 * Requests sent from inside the client pod, as its own code sends them: {@code wget} to
 * {@code http://<service>:<port>/}, resolved by the cluster's DNS and captured by the pod's
 * iptables into its sidecar. The pod has no idea a mesh exists.
 */
final class PodTraffic {

  /** Each request's own bound; the whole burst gets a minute per thousand on top of that. */
  private static final int REQUEST_TIMEOUT_SECONDS = 5;

  private final Kubectl kubectl;
  private final String namespace;

  PodTraffic(Kubectl kubectl, String namespace) {
    this.kubectl = kubectl;
    this.namespace = namespace;
  }

  /** The command a person types to send one request through the client. */
  static String oneRequestCommand(String namespace, String url) {
    return "kubectl exec -n " + namespace + " deploy/" + NodeApps.WEB + " -c " + NodeApps.WEB_CONTAINER
        + " -- wget -qO- " + url;
  }

  /** {@code count} requests to {@code url} one after another; each answer is a backend's name or a failure. */
  Traffic.Tally send(String url, int count) {
    // `timeout`, not wget's -T, which crashes Debian's static busybox 1.35.
    String loop = "i=0; while [ $i -lt " + count + " ]; do a=$(timeout " + REQUEST_TIMEOUT_SECONDS + " wget -qO- "
        + url + " 2>&1) || a=\"FAILED $a\"; echo \"$a\" | tr '\\n' ' '; echo; i=$((i+1)); done";
    CommandResult burst = kubectl.withTimeout(Duration.ofSeconds(60L + count * 60L / 1000))
        .run("exec", "-n", namespace, "deploy/" + NodeApps.WEB, "-c", NodeApps.WEB_CONTAINER, "--", "sh", "-c", loop);
    Traffic.Tally tally = new Traffic.Tally();
    if (!burst.succeeded()) {
      tally.add("FAILED kubectl exec: " + burst);
      return tally;
    }
    burst.stdout().lines().map(String::strip).filter(line -> !line.isEmpty()).forEach(tally::add);
    return tally;
  }

  /** Lines of the client sidecar's Envoy statistics whose names contain one of {@code filters} (admin on the pod's loopback). */
  String sidecarStats(String... filters) {
    StringBuilder regex = new StringBuilder();
    for (String filter : filters) {
      regex.append(regex.isEmpty() ? "" : "%7C").append(filter); // "|", escaped in the URL
    }
    CommandResult stats = kubectl.run("exec", "-n", namespace, "deploy/" + NodeApps.WEB, "-c", NodeApps.WEB_CONTAINER,
        "--", "timeout", "10", "wget", "-qO-", "http://127.0.0.1:15000/stats?filter=" + regex);
    return stats.succeeded() ? stats.stdout() : "(stats unavailable: " + stats.stderr().strip() + ")";
  }
}
