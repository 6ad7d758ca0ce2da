package dev.weft.mesh;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Everything the translation needs, frozen: Services with their endpoints, TrafficSplits and
 * VirtualServices. Built by the Kubernetes adapter, read by the translators; never changed in place.
 */
public record MeshState(Map<ServiceKey, MeshService> services, List<TrafficSplitRule> splits,
    List<HttpRouting> routings) {

  public static final MeshState EMPTY = new MeshState(Map.of(), List.of(), List.of());

  public MeshState {
    // Sorted, so that everything derived from the state comes out in a stable order.
    services = java.util.Collections.unmodifiableMap(new TreeMap<>(services));
    splits = List.copyOf(splits);
    routings = List.copyOf(routings);
  }

  public Optional<MeshService> service(ServiceKey key) {
    return Optional.ofNullable(services.get(key));
  }
}
