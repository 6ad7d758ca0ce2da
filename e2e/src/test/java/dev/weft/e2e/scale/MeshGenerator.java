package dev.weft.e2e.scale;

import dev.weft.api.v1alpha1.PathMatch;
import dev.weft.api.v1alpha1.RouteBackend;
import dev.weft.api.v1alpha1.RouteMatch;
import dev.weft.api.v1alpha1.RouteRule;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import dev.weft.api.v1alpha1.TrafficSplitSpec;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.api.v1alpha1.VirtualServiceSpec;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

/**
 * Writes a synthetic mesh into the apiserver, as the Service and EndpointSlice controllers and a
 * user would: {@code services} Services with 2 HTTP ports and 10 endpoints each, in 20 namespaces
 * (contiguous blocks, so that every 5th Service can split to its two neighbours in the same
 * namespace), a TrafficSplit on every 5th Service and one VirtualService; then the edits the
 * benchmark times; optionally each namespace scoped to itself and the next few
 * ({@code weft.dev/outbound-namespaces}). Endpoint addresses are 198.18.x.y literals; nothing is ever sent to them.
 */
public final class MeshGenerator {

  static final int NAMESPACES = 20;
  static final int ENDPOINTS = 10;
  static final int SPLIT_EVERY = 5;
  private static final int PARALLEL_WRITES = 16;
  private static final Duration WRITE_TIMEOUT = Duration.ofMinutes(10);
  static final String SERVICE_NAME = "kubernetes.io/service-name";

  /** Which objects the edits touch: the split on Service 0, a VirtualService and endpoints of Service 3. */
  private static final int SPLIT_ROOT = 0;
  private static final int ROUTED = 3;

  private final KubernetesClient client;
  private final int services;
  private int outboundNamespaces;
  private final String prefix;
  // Edits alternate from the mesh's current state, which outlives one row of the table: counting
  // here (not per row) makes every edit a change.
  private int splitEdits;
  private int routeEdits;
  private int endpointEdits;

  /** A mesh whose namespaces' sidecars route to every Service. */
  public MeshGenerator(KubernetesClient client, int services) {
    this(client, services, -1);
  }

  /**
   * A mesh whose namespaces are annotated {@code weft.dev/outbound-namespaces} with the next
   * {@code outboundNamespaces} namespaces (wrapping around), so that each one's sidecars get the
   * Services of 1 + that many namespaces; negative: no annotation, the whole mesh.
   */
  public MeshGenerator(KubernetesClient client, int services, int outboundNamespaces) {
    this.outboundNamespaces = checkedScope(outboundNamespaces);
    if (services % (NAMESPACES * SPLIT_EVERY) != 0) {
      throw new IllegalArgumentException("services must be a multiple of " + NAMESPACES * SPLIT_EVERY + ": " + services);
    }
    this.client = client;
    this.services = services;
    this.prefix = "s" + services + "-";
  }

  public List<String> namespaces() {
    return IntStream.range(0, NAMESPACES).mapToObj(this::namespace).toList();
  }

  String namespace(int index) {
    return prefix + "ns" + index;
  }

  /** Creates every object, {@value #PARALLEL_WRITES} writes at a time; returns how long it took. */
  public Duration create() throws Exception {
    long start = System.nanoTime();
    applyNamespaces();
    ExecutorService pool = Executors.newFixedThreadPool(PARALLEL_WRITES);
    try {
      List<Future<?>> writes = new ArrayList<>();
      for (int i = 0; i < services; i++) {
        int index = i;
        writes.add(pool.submit(() -> {
          client.services().resource(new ServiceBuilder()
              .withNewMetadata().withName(serviceName(index)).withNamespace(namespaceOf(index)).endMetadata()
              .withNewSpec()
              .addNewPort().withName("http").withPort(80).withNewTargetPort(8080).withProtocol("TCP").endPort()
              .addNewPort().withName("http-alt").withPort(8080).withNewTargetPort(9090).withProtocol("TCP").endPort()
              .withSelector(Map.of("app", serviceName(index)))
              .endSpec().build()).serverSideApply();
          client.discovery().v1().endpointSlices().resource(slice(index, ENDPOINTS)).serverSideApply();
          if (index % SPLIT_EVERY == 0) {
            client.resource(split(index, 90)).serverSideApply();
          }
        }));
      }
      long deadline = System.nanoTime() + WRITE_TIMEOUT.toNanos();
      for (Future<?> write : writes) {
        write.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
    } catch (TimeoutException e) {
      throw new IllegalStateException("writing the mesh took longer than " + WRITE_TIMEOUT, e);
    } finally {
      pool.shutdownNow();
    }
    client.resource(virtualService("5s")).serverSideApply();
    return Duration.ofNanos(System.nanoTime() - start);
  }

  /** How many other namespaces each namespace reaches; negative: no scope, the whole mesh. */
  int outboundNamespaces() {
    return outboundNamespaces;
  }

  /** Scopes every namespace to itself and the next {@code outboundNamespaces} (negative: the whole mesh again). */
  void scopeTo(int outboundNamespaces) {
    this.outboundNamespaces = checkedScope(outboundNamespaces);
    applyNamespaces();
  }

  private static int checkedScope(int outboundNamespaces) {
    if (outboundNamespaces >= NAMESPACES) {
      throw new IllegalArgumentException("a namespace can reach at most the " + (NAMESPACES - 1) + " others");
    }
    return outboundNamespaces;
  }

  /** The namespaces, annotated with their scope (server-side apply drops an annotation no longer given). */
  private void applyNamespaces() {
    for (int n = 0; n < NAMESPACES; n++) {
      NamespaceBuilder namespace = new NamespaceBuilder().withNewMetadata().withName(namespace(n)).endMetadata();
      if (outboundNamespaces >= 0) {
        int from = n;
        String reached = String.join(",", IntStream.rangeClosed(1, outboundNamespaces)
            .mapToObj(k -> namespace((from + k) % NAMESPACES)).toList());
        namespace.editMetadata().addToAnnotations("weft.dev/outbound-namespaces", reached).endMetadata();
      }
      client.namespaces().resource(namespace.build()).serverSideApply();
    }
  }

  /** Moves the split of Service 0 between 90/10 and 50/50. */
  void editSplit() {
    int primary = splitEdits++ % 2 == 0 ? 50 : 90;
    client.resources(TrafficSplit.class).inNamespace(namespaceOf(SPLIT_ROOT)).withName(serviceName(SPLIT_ROOT))
        .edit(ts -> {
          ts.getSpec().setBackends(split(SPLIT_ROOT, primary).getSpec().getBackends());
          return ts;
        });
  }

  /** Changes the timeout of the VirtualService's one rule. */
  void editVirtualService() {
    String timeout = (6 + routeEdits++ % 2) + "s";
    client.resources(VirtualService.class).inNamespace(namespaceOf(ROUTED)).withName(serviceName(ROUTED))
        .edit(vs -> {
          vs.getSpec().getRules().get(0).setTimeout(timeout);
          return vs;
        });
  }

  /** Removes the last endpoint of Service 3's slice (even rounds) or puts it back (odd rounds). */
  void editEndpoints() {
    int endpoints = endpointEdits++ % 2 == 0 ? ENDPOINTS - 1 : ENDPOINTS;
    client.discovery().v1().endpointSlices().resource(slice(ROUTED, endpoints)).serverSideApply();
  }

  private String serviceName(int index) {
    return "svc" + index;
  }

  private String namespaceOf(int index) {
    return namespace(index / (services / NAMESPACES));
  }

  private EndpointSlice slice(int index, int endpoints) {
    EndpointSliceBuilder slice = new EndpointSliceBuilder()
        .withNewMetadata()
        .withName(serviceName(index))
        .withNamespace(namespaceOf(index))
        .addToLabels(SERVICE_NAME, serviceName(index))
        .addToLabels("endpointslice.kubernetes.io/managed-by", "weft-scale-bench")
        .endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort()
        .addNewPort().withName("http-alt").withPort(9090).withProtocol("TCP").endPort();
    for (int e = 0; e < endpoints; e++) {
      int address = index * ENDPOINTS + e + 1;
      slice.addToEndpoints(new EndpointBuilder()
          .withAddresses("198.18." + (address >> 8 & 0xff) + "." + (address & 0xff))
          .withNewConditions().withReady(true).withServing(true).withTerminating(false).endConditions()
          .build());
    }
    return slice.build();
  }

  /** The root Service {@code index} split between its next two neighbours (same namespace). */
  private TrafficSplit split(int index, int primary) {
    TrafficSplit split = new TrafficSplit();
    split.getMetadata().setName(serviceName(index));
    split.getMetadata().setNamespace(namespaceOf(index));
    split.setSpec(new TrafficSplitSpec(serviceName(index), List.of(
        new TrafficSplitBackend(serviceName(index + 1), primary),
        new TrafficSplitBackend(serviceName(index + 2), 100 - primary))));
    return split;
  }

  private VirtualService virtualService(String timeout) {
    RouteRule rule = new RouteRule();
    rule.setName("all");
    RouteMatch match = new RouteMatch();
    match.setPath(new PathMatch(PathMatch.Type.PathPrefix, "/"));
    rule.setMatches(List.of(match));
    rule.setBackends(List.of(new RouteBackend(serviceName(ROUTED), null, 100)));
    rule.setTimeout(timeout);
    VirtualServiceSpec spec = new VirtualServiceSpec();
    spec.setService(serviceName(ROUTED));
    spec.setRules(List.of(rule));
    VirtualService vs = new VirtualService();
    vs.getMetadata().setName(serviceName(ROUTED));
    vs.getMetadata().setNamespace(namespaceOf(ROUTED));
    vs.setSpec(spec);
    return vs;
  }
}
