package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The translation's share of a TrafficSplit weight edit, in process: ScaleBench's mesh shape
 * (Services × 2 HTTP ports × 10 endpoints in 20 namespaces, a split on every 5th Service) and its
 * 100 capture-mode groups (20 namespaces × 5 ServiceAccounts), translated as the xds-server does
 * (`IncrementalTranslator` over `MeshTranslator`), one weight edit after another; prints the CPU
 * time of the translating thread per edit. Not a unit test (its name keeps it out of `mvn test`):
 * {@code mvn -o -q test -pl core -Dtest=TranslationEditBench -Dweft.bench.services=1000}.
 */
class TranslationEditBench {

  @Test
  void weightEdits() {
    int count = Integer.getInteger("weft.bench.services", 1000);
    int edits = Integer.getInteger("weft.bench.edits", 60);
    List<ServicePort> ports = List.of(new ServicePort("http", 80, Protocol.HTTP),
        new ServicePort("http-alt", 8080, Protocol.HTTP));
    Map<ServiceKey, MeshService> services = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      ServiceKey key = new ServiceKey("ns-" + (i % 20), "svc-" + i);
      List<Endpoint> endpoints = new ArrayList<>();
      for (ServicePort port : ports) {
        for (int e = 1; e <= 10; e++) {
          endpoints.add(new Endpoint("10." + (i / 250) + "." + (i % 250) + "." + e, port.port() + 1000, port.name(),
              Endpoint.Readiness.READY, "", "sa-" + (i % 5)));
        }
      }
      services.put(key, new MeshService(key, "10.96." + (i / 250) + "." + (i % 250 + 1), ports, endpoints));
    }
    List<ServiceKey> keys = List.copyOf(services.keySet());
    List<TrafficSplitRule> splits = new ArrayList<>();
    for (int i = 0; i + 20 < count; i += 5) {
      // The backend 20 Services on is in the same namespace.
      splits.add(split(keys.get(i), keys.get(i + 20), 90));
    }
    List<ProxyGroup> groups = new ArrayList<>();
    for (int n = 0; n < 20; n++) {
      for (int a = 0; a < 5; a++) {
        groups.add(new ProxyGroup(ProxyGroup.Kind.SIDECAR, "ns-" + n, "sa-" + a, "0.0.0.0", List.of(8080)));
      }
    }
    Translator translator = new IncrementalTranslator(new MeshTranslator());
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    MeshState state = new MeshState(services, splits, List.of());
    translator.translate(state, groups);
    long[] cpu = new long[edits];
    Translation last = null;
    for (int e = 0; e < edits; e++) {
      int which = e % splits.size();
      TrafficSplitRule edited = splits.get(which);
      splits.set(which, split(edited.root(), keys.get(keys.indexOf(edited.root()) + 20), 10 + e % 80));
      state = new MeshState(services, splits, List.of());
      long start = threads.getCurrentThreadCpuTime();
      last = translator.translate(state, groups);
      cpu[e] = threads.getCurrentThreadCpuTime() - start;
    }
    // The second half: the JIT has settled.
    long[] settled = Arrays.copyOfRange(cpu, edits / 2, edits);
    Arrays.sort(settled);
    System.out.printf("TranslationEditBench: %d Services, %d groups, weight edit: translation CPU ms p50 %.1f, "
        + "min %.1f, max %.1f (last %d of %d edits)%n", count, groups.size(), settled[settled.length / 2] / 1e6,
        settled[0] / 1e6, settled[settled.length - 1] / 1e6, settled.length, edits);
    assertThat(last).isEqualTo(new MeshTranslator().translate(state, groups));
  }

  private static TrafficSplitRule split(ServiceKey root, ServiceKey other, int rootWeight) {
    return new TrafficSplitRule(new SourceRef("TrafficSplit", root.namespace(), "split-" + root.name(), 1,
        "2026-01-01T00:00:00Z"), root, List.of(new WeightedService(root.name(), 0, rootWeight),
        new WeightedService(other.name(), 0, 100 - rootWeight)));
  }
}
