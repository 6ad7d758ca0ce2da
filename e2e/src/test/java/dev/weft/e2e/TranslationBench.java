package dev.weft.e2e;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import dev.weft.xds.translate.IncrementalTranslator;
import dev.weft.xds.translate.MeshTranslator;
import dev.weft.xds.translate.Translation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How long the pure core takes to turn a whole mesh into configs for every proxy group, and how
 * big the result is: the work each debounced change costs the xds-server. Prints numbers; asserts
 * nothing about time (run with `make bench`).
 */
class TranslationBench {

  static final int[] SERVICE_COUNTS = {100, 1000, 5000};
  static final int ENDPOINTS_PER_SERVICE = 10;
  static final int NAMESPACES = 20;

  @Test
  void translateWholeMesh() {
    System.out.println("translation of a whole mesh (2 HTTP ports per Service, 10 endpoints each, "
        + "a TrafficSplit on every 5th Service, one proxy group per 10 Services):");
    for (int services : SERVICE_COUNTS) {
      MeshState state = mesh(services);
      List<ProxyGroup> groups = groups(services / 10);
      MeshTranslator translator = new MeshTranslator();
      for (int i = 0; i < 5; i++) {
        translator.translate(state, groups);
      }
      Percentiles times = new Percentiles();
      Translation last = null;
      for (int i = 0; i < 20; i++) {
        long start = System.nanoTime();
        last = translator.translate(state, groups);
        times.add((System.nanoTime() - start) / 1e6);
      }
      long bytes = last.configs().values().stream().distinct()
          .mapToLong(c -> c.clusters().stream().mapToLong(m -> m.getSerializedSize()).sum()
              + c.endpoints().stream().mapToLong(m -> m.getSerializedSize()).sum()
              + c.listeners().stream().mapToLong(m -> m.getSerializedSize()).sum()
              + c.routes().stream().mapToLong(m -> m.getSerializedSize()).sum())
          .sum();
      System.gc();
      Runtime runtime = Runtime.getRuntime();
      long heap = runtime.totalMemory() - runtime.freeMemory();
      System.out.printf("  %5d services, %4d groups: %s; distinct configs %.1f MB serialized; heap after %.0f MB%n",
          services, groups.size(), times, bytes / 1e6, heap / 1e6);
    }
  }

  @Test
  void translateAnEndpointChange() {
    System.out.println("translation after one Service's endpoints changed (the same meshes, IncrementalTranslator):");
    for (int services : SERVICE_COUNTS) {
      MeshState state = mesh(services);
      MeshState scaled = withOneEndpointLess(state);
      List<ProxyGroup> groups = groups(services / 10);
      IncrementalTranslator translator = new IncrementalTranslator(new MeshTranslator());
      for (int i = 0; i < 6; i++) {
        translator.translate(i % 2 == 0 ? state : scaled, groups);
      }
      Percentiles times = new Percentiles();
      for (int i = 0; i < 20; i++) {
        MeshState next = i % 2 == 0 ? state : scaled;
        long start = System.nanoTime();
        translator.translate(next, groups);
        times.add((System.nanoTime() - start) / 1e6);
      }
      System.out.printf("  %5d services, %4d groups: %s%n", services, groups.size(), times);
    }
  }

  /** The same mesh with the first Service's first endpoint gone (a pod scaled away). */
  static MeshState withOneEndpointLess(MeshState state) {
    Map<ServiceKey, MeshService> services = new LinkedHashMap<>(state.services());
    MeshService first = services.values().iterator().next();
    services.put(first.key(), new MeshService(first.key(), first.clusterIp(), first.ports(),
        first.endpoints().subList(1, first.endpoints().size())));
    return new MeshState(services, state.splits(), state.routings());
  }

  static MeshState mesh(int count) {
    Map<ServiceKey, MeshService> services = new LinkedHashMap<>();
    List<TrafficSplitRule> splits = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ServiceKey key = new ServiceKey("ns-" + (i % NAMESPACES), "svc-" + i);
      List<ServicePort> ports = List.of(new ServicePort("http", 80, Protocol.HTTP),
          new ServicePort("http-admin", 8080, Protocol.HTTP));
      List<Endpoint> endpoints = new ArrayList<>();
      for (int e = 0; e < ENDPOINTS_PER_SERVICE; e++) {
        String address = "10." + (i / 250 % 250) + "." + (i % 250) + "." + (e + 1);
        endpoints.add(new Endpoint(address, 8080, "http", Endpoint.Readiness.READY, "zone-" + (e % 3)));
        endpoints.add(new Endpoint(address, 9090, "http-admin", Endpoint.Readiness.READY, "zone-" + (e % 3)));
      }
      services.put(key, new MeshService(key, "10.96." + (i / 250) + "." + (i % 250 + 1), ports, endpoints));
      if (i % 5 == 4) {
        // svc-i splits between itself and the previous Service of its namespace.
        ServiceKey previous = new ServiceKey(key.namespace(), "svc-" + (i - NAMESPACES));
        if (services.containsKey(previous)) {
          splits.add(new TrafficSplitRule(new SourceRef("TrafficSplit", key.namespace(), "split-" + i, 1,
              "2026-01-01T00:00:00Z"), key, List.of(new WeightedService(key.name(), 90),
              new WeightedService(previous.name(), 10))));
        }
      }
    }
    return new MeshState(services, splits, List.of());
  }

  static List<ProxyGroup> groups(int count) {
    List<ProxyGroup> groups = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      groups.add(new ProxyGroup(ProxyGroup.Kind.SIDECAR, "ns-" + (i % NAMESPACES), "sa-" + i, "0.0.0.0",
          List.of(8080, 9090)));
    }
    return groups;
  }
}
