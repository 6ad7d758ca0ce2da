package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TrafficPlansTest {

  static final ServiceKey ROOT = new ServiceKey("shop", "payments");
  static final ServiceKey V2 = new ServiceKey("shop", "payments-v2");
  static final List<ServicePort> HTTP = List.of(new ServicePort("http", 80, Protocol.HTTP));
  static final TrafficSplitRule SPLIT = new TrafficSplitRule(
      new SourceRef("TrafficSplit", "shop", "canary", 1, "2026-01-01T00:00:00Z"), ROOT,
      List.of(new WeightedService("payments", 0, 90), new WeightedService("payments-v2", 0, 10)));

  @Test
  void aStateIsPlannedOnceWhileItIsTheLastAskedFor() {
    TrafficPlans plans = new TrafficPlans();
    MeshState state = mesh(HTTP, "10.0.0.1", List.of(SPLIT));

    TrafficPlan first = plans.of(state);

    assertThat(plans.of(state)).isSameAs(first);
  }

  @Test
  void anEndpointChangeKeepsThePlanAndItIsTheNewStatesPlan() {
    TrafficPlans plans = new TrafficPlans();
    List<TrafficSplitRule> splits = List.of(SPLIT);
    TrafficPlan first = plans.of(mesh(HTTP, "10.0.0.1", splits));

    MeshState moved = mesh(HTTP, "10.0.0.2", splits);

    assertThat(plans.of(moved)).as("pods came and went: nothing a plan reads").isSameAs(first);
    TrafficPlan fresh = TrafficPlan.of(moved);
    assertThat(first.defaultDestination(ROOT, HTTP.get(0))).isEqualTo(fresh.defaultDestination(ROOT, HTTP.get(0)));
    assertThat(first.rejections()).isEqualTo(fresh.rejections());
  }

  @Test
  void whatAPlanReadsPlansAgain() {
    List<TrafficSplitRule> splits = List.of(SPLIT);
    MeshState state = mesh(HTTP, "10.0.0.1", splits);
    List<ServicePort> twoPorts = List.of(HTTP.get(0), new ServicePort("admin", 9090, Protocol.HTTP));
    TrafficSplitRule reweighted = new TrafficSplitRule(SPLIT.source(), ROOT,
        List.of(new WeightedService("payments", 0, 50), new WeightedService("payments-v2", 0, 50)));
    Map<ServiceKey, MeshService> withoutV2 = new LinkedHashMap<>(state.services());
    withoutV2.remove(V2);

    for (MeshState changed : List.of(
        mesh(twoPorts, "10.0.0.1", splits),
        mesh(HTTP, "10.0.0.1", List.of(reweighted)),
        mesh(HTTP, "10.0.0.1", List.of(new TrafficSplitRule(SPLIT.source(), SPLIT.root(), SPLIT.backends()))),
        new MeshState(withoutV2, splits, List.of()),
        new MeshState(state.services(), splits, List.of(), Set.of(new ServiceKey("shop", "legacy"))))) {
      TrafficPlans plans = new TrafficPlans();
      TrafficPlan first = plans.of(state);
      assertThat(plans.of(changed)).as("%s", changed).isNotSameAs(first);
    }
  }

  /** The split's root with {@code rootPorts} and one endpoint at {@code ip}, and its backend. */
  private static MeshState mesh(List<ServicePort> rootPorts, String ip, List<TrafficSplitRule> splits) {
    Map<ServiceKey, MeshService> services = new LinkedHashMap<>();
    services.put(ROOT, new MeshService(ROOT, "10.96.0.1", rootPorts,
        List.of(new Endpoint(ip, 8080, "http", Endpoint.Readiness.READY, "", ""))));
    services.put(V2, new MeshService(V2, "10.96.0.2", HTTP,
        List.of(new Endpoint("10.0.1.1", 8080, "http", Endpoint.Readiness.READY, "", ""))));
    return new MeshState(services, splits, List.of());
  }
}
