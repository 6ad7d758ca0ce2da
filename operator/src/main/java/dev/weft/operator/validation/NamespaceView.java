package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.convert.MeshStateBuilder;
import dev.weft.mesh.MeshState;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything in one namespace that validation looks at besides the resource itself: the Services,
 * TrafficSplits and VirtualServices (references are namespace-local, so nothing outside the
 * namespace matters). The resource being validated may or may not be in the lists, possibly in an
 * older version; {@link #state} puts in the copy it is given.
 */
public record NamespaceView(String namespace, List<Service> services, List<TrafficSplit> splits,
    List<VirtualService> virtualServices) {

  public NamespaceView {
    Objects.requireNonNull(namespace, "namespace");
    services = List.copyOf(services);
    splits = List.copyOf(splits);
    virtualServices = List.copyOf(virtualServices);
  }

  /**
   * The namespace as the xds-server turns it into the core's records, with {@code self} as given:
   * what the translation would get if the proxies were configured now. Another object that cannot
   * be converted is left out, as the xds-server leaves it out; its own status reports why.
   */
  public MeshState state(HasMetadata self) {
    List<TrafficSplit> splitList = self instanceof TrafficSplit split ? replace(splits, split) : splits;
    List<VirtualService> vsList = self instanceof VirtualService vs ? replace(virtualServices, vs) : virtualServices;
    return MeshStateBuilder.build(services, List.of(), splitList, vsList, problem -> {});
  }

  private static <T extends HasMetadata> List<T> replace(List<T> resources, T self) {
    List<T> replaced = new ArrayList<>();
    for (T resource : resources) {
      if (!Objects.equals(resource.getMetadata().getName(), self.getMetadata().getName())) {
        replaced.add(resource);
      }
    }
    replaced.add(self);
    return replaced;
  }
}
