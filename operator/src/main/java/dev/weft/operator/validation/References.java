package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.AccessPolicy;
import dev.weft.api.v1alpha1.RouteBackend;
import dev.weft.api.v1alpha1.RouteRule;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import dev.weft.api.v1alpha1.VirtualService;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/** The Services a resource names, in its own namespace: whose changes must re-check the resource. */
public final class References {

  private References() {}

  public static Set<String> servicesNamedBy(TrafficSplit split) {
    Set<String> names = new LinkedHashSet<>();
    if (split.getSpec() != null) {
      names.add(split.getSpec().getService());
      split.getSpec().getBackends().stream().map(TrafficSplitBackend::getService).forEach(names::add);
    }
    names.removeIf(Objects::isNull);
    return names;
  }

  public static Set<String> servicesNamedBy(VirtualService vs) {
    Set<String> names = new LinkedHashSet<>();
    if (vs.getSpec() != null) {
      names.add(vs.getSpec().getService());
      for (RouteRule rule : vs.getSpec().getRules()) {
        rule.getBackends().stream().map(RouteBackend::getService).forEach(names::add);
      }
    }
    names.removeIf(Objects::isNull);
    return names;
  }

  public static Set<String> servicesNamedBy(AccessPolicy policy) {
    Set<String> names = new LinkedHashSet<>();
    if (policy.getSpec() != null && policy.getSpec().getService() != null) {
      names.add(policy.getSpec().getService());
    }
    return names;
  }
}
