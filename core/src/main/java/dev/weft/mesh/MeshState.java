package dev.weft.mesh;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Everything the translation needs, frozen: Services with their endpoints, TrafficSplits and
 * VirtualServices. Built by the Kubernetes adapter, read by the translators; never changed in place.
 *
 * <p>{@code aliases} are the Services that exist only as DNS aliases (Kubernetes type
 * ExternalName): the mesh does not route to them, so they are not among {@code services}, but a
 * resource that names one is told what it is rather than that it does not exist.
 *
 * <p>{@code permissiveNamespaces} are the namespaces labelled {@code weft.dev/mtls=permissive}: their
 * sidecars' inbound listeners take plaintext as well as mTLS. Everywhere else inbound is mTLS only.
 *
 * <p>{@code outboundScopes} maps a namespace annotated {@code weft.dev/outbound-namespaces} to the
 * namespaces whose Services its sidecars route to, itself included; a namespace not in the map
 * routes to every Service in the mesh.
 */
public record MeshState(Map<ServiceKey, MeshService> services, List<TrafficSplitRule> splits,
    List<HttpRouting> routings, Set<ServiceKey> aliases, Set<String> permissiveNamespaces,
    Map<String, Set<String>> outboundScopes) {

  public static final MeshState EMPTY = new MeshState(Map.of(), List.of(), List.of());

  public MeshState {
    // Sorted, so that everything derived from the state comes out in a stable order.
    services = Collections.unmodifiableMap(new TreeMap<>(services));
    splits = List.copyOf(splits);
    routings = List.copyOf(routings);
    aliases = Collections.unmodifiableSet(new TreeSet<>(aliases));
    permissiveNamespaces = Collections.unmodifiableSet(new TreeSet<>(permissiveNamespaces));
    Map<String, Set<String>> scopes = new TreeMap<>();
    outboundScopes.forEach((namespace, reached) -> {
      Set<String> scope = new TreeSet<>(reached);
      scope.add(namespace);
      scopes.put(namespace, Collections.unmodifiableSet(scope));
    });
    outboundScopes = Collections.unmodifiableMap(scopes);
  }

  /** A state where every namespace's sidecars route to the whole mesh. */
  public MeshState(Map<ServiceKey, MeshService> services, List<TrafficSplitRule> splits, List<HttpRouting> routings,
      Set<ServiceKey> aliases, Set<String> permissiveNamespaces) {
    this(services, splits, routings, aliases, permissiveNamespaces, Map.of());
  }

  /** A state where every namespace is strict. */
  public MeshState(Map<ServiceKey, MeshService> services, List<TrafficSplitRule> splits, List<HttpRouting> routings,
      Set<ServiceKey> aliases) {
    this(services, splits, routings, aliases, Set.of());
  }

  /** A state without alias Services. */
  public MeshState(Map<ServiceKey, MeshService> services, List<TrafficSplitRule> splits, List<HttpRouting> routings) {
    this(services, splits, routings, Set.of());
  }

  /** Whether the sidecars of {@code namespace} also take plaintext inbound (migration). */
  public boolean isPermissive(String namespace) {
    return permissiveNamespaces.contains(namespace);
  }

  /**
   * The namespaces whose Services the sidecars of {@code namespace} route to, itself included;
   * empty when they route to every Service in the mesh.
   */
  public Optional<Set<String>> outboundScope(String namespace) {
    return Optional.ofNullable(outboundScopes.get(namespace));
  }

  public Optional<MeshService> service(ServiceKey key) {
    return Optional.ofNullable(services.get(key));
  }

  /** The same Services with other TrafficSplits and VirtualServices. */
  public MeshState withRules(List<TrafficSplitRule> otherSplits, List<HttpRouting> otherRoutings) {
    return new MeshState(services, otherSplits, otherRoutings, aliases, permissiveNamespaces, outboundScopes);
  }
}
