package dev.weft.convert;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import dev.weft.api.v1alpha1.TrafficSplitSpec;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import java.util.ArrayList;
import java.util.List;

/** Turns a TrafficSplit into the core's {@link TrafficSplitRule}. */
public final class TrafficSplitConverter {

  private TrafficSplitConverter() {}

  /**
   * The split the TrafficSplit asks for; backends keep their declared order.
   *
   * @throws InvalidFieldException naming the field, when a required field is missing (possible
   *     only where the CRD's validation did not run)
   */
  public static TrafficSplitRule toRule(TrafficSplit split) {
    TrafficSplitSpec spec = split.getSpec();
    if (spec == null || spec.getService() == null) {
      throw new InvalidFieldException("spec.service", "required");
    }
    List<WeightedService> backends = new ArrayList<>();
    for (int i = 0; i < spec.getBackends().size(); i++) {
      TrafficSplitBackend backend = spec.getBackends().get(i);
      if (backend.getService() == null || backend.getWeight() == null) {
        throw new InvalidFieldException("spec.backends[" + i + "]", "needs both service and weight");
      }
      backends.add(new WeightedService(backend.getService(), backend.getWeight()));
    }
    ServiceKey root = new ServiceKey(split.getMetadata().getNamespace(), spec.getService());
    return new TrafficSplitRule(SourceRefs.of(split), root, backends);
  }
}
