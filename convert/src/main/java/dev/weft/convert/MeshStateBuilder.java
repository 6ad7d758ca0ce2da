package dev.weft.convert;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.api.v1alpha1.WeftApi;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.SameObjects;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.TrafficSplitRule;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

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
  /**
   * The namespace annotation that scopes its sidecars' outbound side: a comma-separated list of the
   * namespaces whose Services they route to (their own is always in), or {@code *} for the whole
   * mesh, as when it is absent.
   */
  public static final String OUTBOUND_NAMESPACES_ANNOTATION = "weft.dev/outbound-namespaces";
  private static final Pattern NAMESPACE_NAME = Pattern.compile(WeftApi.DNS_LABEL_PATTERN);
  private static final int NAMESPACE_NAME_MAX = 63;

  /**
   * A Service's conversion and the very objects it was converted from; valid again while the
   * informer cache holds the same Service object and the same slice objects (the cache replaces an
   * object on every update, so an unchanged object is the same instance) under the same identities.
   */
  private record Converted(Service service, List<EndpointSlice> slices, MeshService meshService) {}

  /** The last build's conversions, by Service; only successful ones (a failure is reported again each build). */
  private Map<ServiceKey, Converted> converted = Map.of();
  private final Map<TrafficSplit, TrafficSplitRule> splitRules = new IdentityHashMap<>();
  private final Map<VirtualService, HttpRouting> routings = new IdentityHashMap<>();
  private List<Pod> lastPods = List.of();
  private List<Namespace> lastNamespaces = List.of();
  private PodIdentities lastIdentities;

  /**
   * A builder that remembers its last build's conversions, for a caller that builds a new state
   * on every change of an informer cache (the xds-server): {@link #next} converts only the
   * objects that changed since, and an unchanged Service keeps its very {@link MeshService}
   * instance, so everything downstream that compares or memoizes Services finds it at once.
   */
  public MeshStateBuilder() {}

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
    return new MeshStateBuilder().next(services, slices, pods, namespaces, splits, virtualServices, problems);
  }

  /**
   * The mesh state of these objects, equal to what {@link #build(Collection, Collection, Collection,
   * Collection, Collection, Collection, Consumer)} gives for them, reusing the last call's
   * conversion of every Service whose Service object and EndpointSlice objects are the very ones
   * it converted, while the pods' identities are unchanged, and of every TrafficSplit and
   * VirtualService object it converted. The conversions are pure functions of those objects, so
   * the result is the same; a change costs the objects it replaced, not the whole cache.
   */
  public synchronized MeshState next(Collection<Service> services, Collection<EndpointSlice> slices,
      Collection<Pod> pods, Collection<Namespace> namespaces, Collection<TrafficSplit> splits,
      Collection<VirtualService> virtualServices, Consumer<String> problems) {
    boolean identitiesKept = lastIdentities != null && SameObjects.anyOrder(lastPods, pods)
        && SameObjects.anyOrder(lastNamespaces, namespaces);
    PodIdentities identities = identitiesKept ? lastIdentities : PodIdentities.of(pods, namespaces);
    // Pods come and go more often than their identities change: compare what was derived.
    boolean reuseServices = identitiesKept || identities.equals(lastIdentities);
    lastPods = List.copyOf(pods);
    lastNamespaces = List.copyOf(namespaces);
    lastIdentities = identities;
    Set<String> permissive = new HashSet<>();
    Map<String, Set<String>> outboundScopes = new HashMap<>();
    for (Namespace namespace : namespaces) {
      Map<String, String> labels = namespace.getMetadata().getLabels();
      if (labels != null && MTLS_PERMISSIVE.equals(labels.get(MTLS_LABEL))) {
        permissive.add(namespace.getMetadata().getName());
      }
      outboundScope(namespace, problems).ifPresent(scope -> outboundScopes.put(namespace.getMetadata().getName(), scope));
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
    Map<ServiceKey, Converted> nowConverted = new HashMap<>();
    Set<ServiceKey> aliases = new HashSet<>();
    for (Service service : services) {
      ServiceKey key = ServiceConverter.keyOf(service);
      if (ServiceConverter.isAlias(service)) {
        aliases.add(key);
      }
      if (!ServiceConverter.isMeshed(service)) {
        continue;
      }
      List<EndpointSlice> itsSlices = slicesByService.getOrDefault(key, List.of());
      Converted known = reuseServices ? converted.get(key) : null;
      if (known != null && known.service() == service && SameObjects.inOrder(known.slices(), itsSlices)) {
        meshServices.put(key, known.meshService());
        nowConverted.put(key, known);
        continue;
      }
      convert(service, s -> ServiceConverter.toMeshService(s, itsSlices, identities), problems)
          .forEach(meshService -> {
            meshServices.put(key, meshService);
            nowConverted.put(key, new Converted(service, List.copyOf(itsSlices), meshService));
          });
    }
    converted = nowConverted;
    List<TrafficSplitRule> rules = new ArrayList<>();
    Map<TrafficSplit, TrafficSplitRule> keptRules = new IdentityHashMap<>();
    for (TrafficSplit split : splits) {
      rules.addAll(convertOnce(split, splitRules, keptRules, TrafficSplitConverter::toRule, problems));
    }
    splitRules.clear();
    splitRules.putAll(keptRules);
    // Oldest first: where two resources claim one Service, the translators let the first one win.
    rules.sort(Comparator.comparing(TrafficSplitRule::source));
    List<HttpRouting> httpRoutings = new ArrayList<>();
    Map<VirtualService, HttpRouting> keptRoutings = new IdentityHashMap<>();
    for (VirtualService vs : virtualServices) {
      httpRoutings.addAll(convertOnce(vs, routings, keptRoutings, VirtualServiceConverter::toRouting, problems));
    }
    routings.clear();
    routings.putAll(keptRoutings);
    httpRoutings.sort(Comparator.comparing(HttpRouting::source));
    return new MeshState(meshServices, rules, httpRoutings, aliases, permissive, outboundScopes);
  }

  /**
   * The namespaces a namespace's {@value #OUTBOUND_NAMESPACES_ANNOTATION} annotation names; empty
   * when it has none, says {@code *}, or names something that cannot be a namespace (reported to
   * {@code problems}): a typo must not cut a namespace's sidecars off from Services they call.
   */
  static Optional<Set<String>> outboundScope(Namespace namespace, Consumer<String> problems) {
    Map<String, String> annotations = namespace.getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(OUTBOUND_NAMESPACES_ANNOTATION);
    if (value == null) {
      return Optional.empty();
    }
    Set<String> scope = new TreeSet<>();
    for (String entry : value.split(",", -1)) {
      String name = entry.trim();
      if (name.equals("*")) {
        return Optional.empty();
      }
      if (name.isEmpty()) {
        continue;
      }
      if (name.length() > NAMESPACE_NAME_MAX || !NAMESPACE_NAME.matcher(name).matches()) {
        problems.accept("Namespace " + namespace.getMetadata().getName() + ": annotation "
            + OUTBOUND_NAMESPACES_ANNOTATION + " names \"" + name + "\", which is not a namespace name; its sidecars "
            + "route to the whole mesh until the annotation is a comma-separated list of namespace names (or *)");
        return Optional.empty();
      }
      scope.add(name);
    }
    return Optional.of(scope);
  }

  /** The last build's conversion of this very object, else a new one; what converted goes into {@code kept}. */
  private static <T extends HasMetadata, R> List<R> convertOnce(T resource, Map<T, R> last, Map<T, R> kept,
      Function<T, R> converter, Consumer<String> problems) {
    R known = last.get(resource);
    List<R> result = known != null ? List.of(known) : convert(resource, converter, problems);
    result.forEach(r -> kept.put(resource, r));
    return result;
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
