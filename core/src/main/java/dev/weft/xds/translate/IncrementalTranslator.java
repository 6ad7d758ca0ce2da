package dev.weft.xds.translate;

import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A {@link MeshTranslator} for the most frequent change, pods coming and going: when only
 * endpoints changed since the last call (same Services and ports, splits, routings and groups),
 * it keeps the previous clusters, listeners and routes, with their versions, and translates the
 * endpoints alone. Nothing but {@link EndpointTranslator} reads endpoints, so the result equals a
 * full translation; anything else changed, and it translates in full.
 */
public final class IncrementalTranslator implements Translator {

  private final MeshTranslator translator;
  private final EndpointTranslator endpointTranslator = new EndpointTranslator();
  private MeshState lastTopology;
  private Set<ProxyGroup> lastGroups;
  private Translation last;

  public IncrementalTranslator(MeshTranslator translator) {
    this.translator = translator;
  }

  @Override
  public synchronized Translation translate(MeshState state, Collection<ProxyGroup> groups) {
    MeshState topology = withoutEndpoints(state);
    Set<ProxyGroup> groupSet = new TreeSet<>(groups);
    if (last != null && topology.equals(lastTopology) && groupSet.equals(lastGroups)) {
      last = withEndpoints(last, endpointTranslator.translate(state));
    } else {
      last = translator.translate(state, groups);
    }
    lastTopology = topology;
    lastGroups = groupSet;
    return last;
  }

  private static MeshState withoutEndpoints(MeshState state) {
    Map<ServiceKey, MeshService> services = new HashMap<>();
    state.services().forEach((key, service) ->
        services.put(key, new MeshService(key, service.clusterIp(), service.ports(), List.of())));
    return new MeshState(services, state.splits(), state.routings(), state.aliases());
  }

  /** The same translation with new endpoint assignments; configs shared before stay shared. */
  private static Translation withEndpoints(Translation previous, List<ClusterLoadAssignment> endpoints) {
    ContentVersion versions = new ContentVersion();
    String version = versions.of(endpoints);
    Map<String, String> byName = versions.byName(endpoints, ClusterLoadAssignment::getClusterName);
    Map<ProxyConfig, ProxyConfig> replaced = new IdentityHashMap<>();
    Map<ProxyGroup, ProxyConfig> configs = new LinkedHashMap<>();
    previous.configs().forEach((group, config) -> configs.put(group, replaced.computeIfAbsent(config, old -> {
      Map<String, Map<String, String>> resourceVersions = new HashMap<>(old.resourceVersions());
      resourceVersions.put(Translation.ENDPOINT_TYPE_URL, byName);
      return new ProxyConfig(old.clusters(), old.clustersVersion(), endpoints, version,
          old.listeners(), old.listenersVersion(), old.routes(), old.routesVersion(), resourceVersions);
    })));
    return new Translation(configs, previous.rejections(), previous.sources());
  }
}
