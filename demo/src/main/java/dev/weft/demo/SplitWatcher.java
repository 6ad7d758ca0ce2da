package dev.weft.demo;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * While the demo stays up: notices every TrafficSplit a person applies, patches or deletes in the
 * demo namespace, says what the operator made of it (Accepted, Programmed) and measures the split
 * that the client sidecar now sends for the split's Service.
 */
final class SplitWatcher {

  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration BOUND = Duration.ofSeconds(30);
  private static final Duration DELETE_BOUND = Duration.ofSeconds(5);

  private final KubernetesClient client;
  private final String namespace;
  private final PaymentsMesh mesh;
  private final DemoConsole console;
  private final int requests;

  SplitWatcher(KubernetesClient client, String namespace, PaymentsMesh mesh, DemoConsole console, int requests) {
    this.client = client;
    this.namespace = namespace;
    this.mesh = mesh;
    this.console = console;
    this.requests = requests;
  }

  /**
   * Polls until {@code stop} says so; each change is reported once. A failed poll (the apiserver
   * or a sidecar going away) is reported once and retried, unless the demo is stopping.
   */
  void run(BooleanSupplier stop) throws InterruptedException {
    Map<String, TrafficSplit> seen = null;
    // The client's route config as last seen: a delete is applied once it differs.
    String routes = "";
    String lastFailure = null;
    while (!stop.getAsBoolean()) {
      try {
        if (seen == null) {
          seen = current();
          routes = clientRoutes();
        }
        Thread.sleep(POLL.toMillis());
        Map<String, TrafficSplit> now = current();
        for (TrafficSplit split : now.values()) {
          TrafficSplit before = seen.get(split.getMetadata().getName());
          if (before == null
              || !before.getMetadata().getGeneration().equals(split.getMetadata().getGeneration())) {
            changed(split, stop);
          }
        }
        for (String name : seen.keySet()) {
          if (!now.containsKey(name)) {
            deleted(seen.get(name), routes, stop);
          }
        }
        seen = now;
        routes = clientRoutes();
        lastFailure = null;
      } catch (RuntimeException e) {
        if (stop.getAsBoolean()) {
          return;
        }
        if (!e.toString().equals(lastFailure)) {
          console.step("watching TrafficSplits failed, retrying: " + e);
          lastFailure = e.toString();
        }
        Thread.sleep(POLL.toMillis() * 5);
      }
    }
  }

  private void changed(TrafficSplit split, BooleanSupplier stop) throws InterruptedException {
    String name = split.getMetadata().getName();
    long generation = split.getMetadata().getGeneration();
    console.step("TrafficSplit " + name + " generation " + generation + ": " + describe(split));
    long noticed = System.nanoTime();
    // Programmed leaves Unknown once the operator judged this generation: True when applied,
    // False when invalid (Accepted or ResolvedRefs say why) or rejected by a proxy.
    Optional<TrafficSplit> judged = awaitJudged(name, generation, stop);
    long millis = Duration.ofNanos(System.nanoTime() - noticed).toMillis();
    if (judged.isEmpty()) {
      console.step("generation " + generation + " not judged within " + BOUND.toSeconds() + " s; see the logs");
      return;
    }
    List<Condition> problems = Stream.of("Accepted", "ResolvedRefs")
        .flatMap(type -> judged.get().getStatus().condition(type).stream())
        .filter(c -> c.getStatus() == Condition.Status.False)
        .toList();
    if (!problems.isEmpty()) {
      problems.forEach(c -> console.step(c.getType() + "=False (" + c.getReason() + "): " + c.getMessage()));
      console.block("the last good version keeps serving; fix the TrafficSplit and apply it again");
    } else {
      Condition programmed = judged.get().getStatus().condition("Programmed").orElseThrow();
      console.step("Programmed=" + programmed.getStatus() + " " + millis + " ms after the demo saw the change: "
          + programmed.getMessage());
    }
    measure(service(split));
  }

  private void deleted(TrafficSplit split, String routesBefore, BooleanSupplier stop) throws InterruptedException {
    String service = split.getSpec() == null ? "its Service" : split.getSpec().getService();
    console.step("TrafficSplit " + split.getMetadata().getName() + " deleted: " + service
        + " goes back to its own endpoints");
    if (split.getSpec() == null) {
      return;
    }
    // A split that was never applied (rejected from the start) changes nothing: wait a little only.
    long deadline = System.nanoTime() + DELETE_BOUND.toNanos();
    while (clientRoutes().equals(routesBefore) && System.nanoTime() < deadline && !stop.getAsBoolean()) {
      Thread.sleep(POLL.toMillis() / 4);
    }
    measure(service(split));
  }

  private void measure(String service) {
    if (service == null) {
      return;
    }
    Traffic.Tally tally = mesh.traffic.send(service, requests);
    console.step("observed over " + requests + " requests to " + service + " through web's sidecar:");
    console.block(SplitReport.render(tally));
  }

  private Optional<TrafficSplit> awaitJudged(String name, long generation, BooleanSupplier stop)
      throws InterruptedException {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (System.nanoTime() < deadline && !stop.getAsBoolean()) {
      TrafficSplit split = client.resources(TrafficSplit.class).inNamespace(namespace).withName(name).get();
      if (split == null || split.getMetadata().getGeneration() != generation) {
        // Deleted or changed again: the next poll reports the newer state.
        return Optional.empty();
      }
      boolean judged = split.getStatus() != null && split.getStatus().condition("Programmed")
          .filter(c -> c.getObservedGeneration() != null && c.getObservedGeneration() == generation)
          .filter(c -> c.getStatus() != Condition.Status.Unknown)
          .isPresent();
      if (judged) {
        return Optional.of(split);
      }
      Thread.sleep(POLL.toMillis() / 4);
    }
    return Optional.empty();
  }

  private Map<String, TrafficSplit> current() {
    Map<String, TrafficSplit> byName = new HashMap<>();
    client.resources(TrafficSplit.class).inNamespace(namespace).list().getItems()
        .forEach(split -> byName.put(split.getMetadata().getName(), split));
    return byName;
  }

  private String clientRoutes() {
    return mesh.web.sidecar().configDump("dynamic_route_configs");
  }

  private static String service(TrafficSplit split) {
    return split.getSpec() == null ? null : split.getSpec().getService();
  }

  static String describe(TrafficSplit split) {
    if (split.getSpec() == null || split.getSpec().getBackends() == null) {
      return "(no spec)";
    }
    return split.getSpec().getService() + " -> " + split.getSpec().getBackends().stream()
        .map(SplitWatcher::describe)
        .collect(Collectors.joining(", "));
  }

  private static String describe(TrafficSplitBackend backend) {
    return backend.getService() + " " + backend.getWeight();
  }
}
