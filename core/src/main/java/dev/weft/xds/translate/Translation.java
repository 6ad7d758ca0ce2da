package dev.weft.xds.translate;

import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.SourceRef;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one mesh state translates to: a {@link ProxyConfig} per proxy group (in group order), the
 * user configuration that was left out, each with the reason, and the provenance of each group's
 * config: per xDS type URL, the user resources (TrafficSplits, VirtualServices) whose rules are in
 * that type's resources. A type no user resource shaped is absent from a group's map.
 */
public record Translation(Map<ProxyGroup, ProxyConfig> configs, List<Rejection> rejections,
    Map<ProxyGroup, Map<String, Set<SourceRef>>> sources) {

  // The xDS type URLs, spelled as Envoy and java-control-plane spell them.
  public static final String CLUSTER_TYPE_URL = typeUrl(Cluster.getDescriptor().getFullName());
  public static final String ENDPOINT_TYPE_URL = typeUrl(ClusterLoadAssignment.getDescriptor().getFullName());
  public static final String LISTENER_TYPE_URL = typeUrl(Listener.getDescriptor().getFullName());
  public static final String ROUTE_TYPE_URL = typeUrl(RouteConfiguration.getDescriptor().getFullName());

  public Translation {
    configs = Collections.unmodifiableMap(new LinkedHashMap<>(configs));
    rejections = List.copyOf(rejections);
    Map<ProxyGroup, Map<String, Set<SourceRef>>> copy = new LinkedHashMap<>();
    // Groups sharing a config share its sources (the same map): copied once, not once per group.
    Map<Map<String, Set<SourceRef>>, Map<String, Set<SourceRef>>> copied = new IdentityHashMap<>();
    sources.forEach((group, byType) -> copy.put(group, copied.computeIfAbsent(byType, b -> {
      Map<String, Set<SourceRef>> types = new LinkedHashMap<>();
      b.forEach((type, refs) -> types.put(type, Collections.unmodifiableSet(new LinkedHashSet<>(refs))));
      return Collections.unmodifiableMap(types);
    })));
    sources = Collections.unmodifiableMap(copy);
  }

  /** A translation without provenance. */
  public Translation(Map<ProxyGroup, ProxyConfig> configs, List<Rejection> rejections) {
    this(configs, rejections, Map.of());
  }

  /** The config of one group that was asked for. */
  public ProxyConfig config(ProxyGroup group) {
    ProxyConfig config = configs.get(group);
    if (config == null) {
      throw new IllegalArgumentException("no config was translated for group " + group.id());
    }
    return config;
  }

  /** The user resources in one group's resources of one type URL; empty when none. */
  public Set<SourceRef> sources(ProxyGroup group, String typeUrl) {
    return sources.getOrDefault(group, Map.of()).getOrDefault(typeUrl, Set.of());
  }

  private static String typeUrl(String messageName) {
    return "type.googleapis.com/" + messageName;
  }
}
