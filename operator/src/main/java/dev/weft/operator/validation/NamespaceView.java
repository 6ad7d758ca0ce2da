package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.VirtualService;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything in one namespace that validation looks at besides the resource itself: the Services
 * by name and the TrafficSplits and VirtualServices (references are namespace-local, so nothing
 * outside the namespace matters). The resource being validated may or may not be in the lists;
 * validators go by its name and use the copy they are given.
 */
public record NamespaceView(String namespace, Map<String, ServiceView> services, List<TrafficSplit> splits,
    List<VirtualService> virtualServices) {

  public NamespaceView {
    Objects.requireNonNull(namespace, "namespace");
    services = Map.copyOf(services);
    splits = List.copyOf(splits);
    virtualServices = List.copyOf(virtualServices);
  }

  public Optional<ServiceView> service(String name) {
    return Optional.ofNullable(name == null ? null : services.get(name));
  }

  /** The TrafficSplits whose root is {@code service}. */
  public List<TrafficSplit> splitsFor(String service) {
    return splits.stream().filter(s -> s.getSpec() != null && Objects.equals(s.getSpec().getService(), service))
        .toList();
  }

  /** The VirtualServices that route {@code service}. */
  public List<VirtualService> virtualServicesFor(String service) {
    return virtualServices.stream()
        .filter(v -> v.getSpec() != null && Objects.equals(v.getSpec().getService(), service)).toList();
  }

  /** {@code namespace/name}, as messages name Services. */
  public String qualified(String name) {
    return namespace + "/" + name;
  }

  /** Why a named Service cannot be used, and the fix: create (or replace) it, or {@code otherFix}. */
  String unresolved(String service, String otherFix) {
    return service != null && services.containsKey(service)
        ? "Service " + qualified(service) + " is of type ExternalName, a DNS alias the mesh does not route; "
            + "make it a Service with endpoints or " + otherFix
        : "Service " + qualified(service) + " does not exist; create it or " + otherFix;
  }
}
