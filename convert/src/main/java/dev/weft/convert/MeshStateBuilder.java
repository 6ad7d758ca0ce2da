package dev.weft.convert;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.TrafficSplitRule;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Builds the immutable {@link MeshState} from Kubernetes objects: a pure function of its inputs, so
 * the same objects in any order give an equal state. The xds-server builds what it translates with
 * it, and the operator what it validates (without EndpointSlices, which validation does not read).
 */
public final class MeshStateBuilder {

  /** The label by which the EndpointSlice controller ties a slice to its Service. */
  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  /** The namespace label that chooses how its sidecars treat plaintext callers. */
  public static final String MTLS_LABEL = "weft.dev/mtls";
  /** Its value for migration: plaintext is accepted next to mTLS. Any other value, or none: mTLS only. */
  public static final String MTLS_PERMISSIVE = "permissive";

  private MeshStateBuilder() {}

  /**
   * The mesh state of these objects. EndpointSlices join the Service named by their
   * {@value #SERVICE_NAME_LABEL} label in their namespace; slices of unknown Services are ignored.
   * ExternalName Services are left out, and named among the state's aliases.
   * An object that cannot be converted is left out, and a sentence naming it, the field and the
   * reason goes to {@code problems}; the rest of the state is unaffected.
   */
  public static MeshState build(Collection<Service> services, Collection<EndpointSlice> slices,
      Collection<TrafficSplit> splits, Collection<VirtualService> virtualServices, Consumer<String> problems) {
    return build(services, slices, List.of(), List.of(), splits, virtualServices, problems);
  }

  /**
   * The mesh state of these objects, with identities: each endpoint whose {@code targetRef} is a
   * meshed pod among {@code pods} carries that pod's ServiceAccount ({@link PodIdentities}), and
   * the namespaces labelled {@value #MTLS_LABEL}={@value #MTLS_PERMISSIVE} among {@code namespaces}
   * are permissive. The rest as {@link #build(Collection, Collection, Collection, Collection, Consumer)}.
   */
  public static MeshState build(Collection<Service> services, Collection<EndpointSlice> slices,
      Collection<Pod> pods, Collection<Namespace> namespaces, Collection<TrafficSplit> splits,
      Collection<VirtualService> virtualServices, Consumer<String> problems) {
    PodIdentities identities = PodIdentities.of(pods, namespaces);
    Set<String> permissive = new HashSet<>();
    for (Namespace namespace : namespaces) {
      Map<String, String> labels = namespace.getMetadata().getLabels();
      if (labels != null && MTLS_PERMISSIVE.equals(labels.get(MTLS_LABEL))) {
        permissive.add(namespace.getMetadata().getName());
      }
    }
    Map<ServiceKey, List<EndpointSlice>> slicesByService = new HashMap<>();
    for (EndpointSlice slice : slices) {
      Map<String, String> labels = slice.getMetadata().getLabels();
      String serviceName = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
      if (serviceName != null) {
        slicesByService.computeIfAbsent(new ServiceKey(slice.getMetadata().getNamespace(), serviceName),
            k -> new ArrayList<>()).add(slice);
      }
    }
    Map<ServiceKey, MeshService> meshServices = new HashMap<>();
    Set<ServiceKey> aliases = new HashSet<>();
    for (Service service : services) {
      ServiceKey key = ServiceConverter.keyOf(service);
      if (ServiceConverter.isAlias(service)) {
        aliases.add(key);
      }
      if (!ServiceConverter.isMeshed(service)) {
        continue;
      }
      convert(service, s -> ServiceConverter.toMeshService(s, slicesByService.getOrDefault(key, List.of()),
          identities), problems)
          .forEach(meshService -> meshServices.put(key, meshService));
    }
    List<TrafficSplitRule> splitRules = new ArrayList<>();
    for (TrafficSplit split : splits) {
      splitRules.addAll(convert(split, TrafficSplitConverter::toRule, problems));
    }
    // Oldest first: where two resources claim one Service, the translators let the first one win.
    splitRules.sort(Comparator.comparing(TrafficSplitRule::source));
    List<HttpRouting> routings = new ArrayList<>();
    for (VirtualService vs : virtualServices) {
      routings.addAll(convert(vs, VirtualServiceConverter::toRouting, problems));
    }
    routings.sort(Comparator.comparing(HttpRouting::source));
    return new MeshState(meshServices, splitRules, routings, aliases, permissive);
  }

  /** The resource as the core names it, for rejections and the oldest-wins rule. */
  private static <T extends HasMetadata, R> List<R> convert(T resource, Function<T, R> converter,
      Consumer<String> problems) {
    try {
      return List.of(converter.apply(resource));
    } catch (RuntimeException e) {
      // One broken object must not take the whole mesh down; everything else still converts.
      ObjectMeta meta = resource.getMetadata();
      problems.accept(resource.getKind() + " " + meta.getNamespace() + "/" + meta.getName()
          + " (resourceVersion " + meta.getResourceVersion() + ") is left out of the mesh: " + e.getMessage());
      return List.of();
    }
  }
}
