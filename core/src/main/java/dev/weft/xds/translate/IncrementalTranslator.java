package dev.weft.xds.translate;

import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.SourceRef;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.ArrayList;
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
 * endpoints changed since the last call (same Services and ports, splits and routings), it keeps
 * the previous clusters, listeners and routes, with their versions, and translates the endpoints
 * alone; a group it has not translated yet is translated alone and added. Nothing but
 * {@link EndpointTranslator} reads endpoints, so the result equals a full translation; anything
 * else changed, and it asks {@link MeshTranslator} for the whole translation, which rebuilds only
 * the Service ports whose inputs changed ({@link TranslationCache}).
 */
public final class IncrementalTranslator implements Translator {

  private final MeshTranslator translator;
  /** The digests of the last endpoint change's assignments: an assignment that stayed is not digested again. */
  private ContentVersion endpointVersions;
  private MeshState lastTopology;
  private MeshState lastState;
  /** Every group translated since the topology last changed, as far as the caller still asks for it. */
  private Translation last;

  public IncrementalTranslator(MeshTranslator translator) {
    this.translator = translator;
  }

  /**
   * A new state with the same topology re-translates the endpoints of the groups asked for; groups
   * not translated yet (a proxy group joined, usually with the same state instance as the last
   * publish) are translated alone and added, so a join does not turn the next endpoint change into
   * a full translation. A new state also forgets the groups no longer asked for.
   */
  @Override
  public synchronized Translation translate(MeshState state, Collection<ProxyGroup> groups) {
    MeshState topology = withoutEndpoints(state);
    Set<ProxyGroup> wanted = new TreeSet<>(groups);
    if (last == null || !topology.equals(lastTopology)) {
      last = translator.translate(state, wanted);
    } else {
      if (state != lastState) {
        endpointVersions = endpointVersions == null ? new ContentVersion() : new ContentVersion(endpointVersions);
        last = withEndpoints(only(last, wanted), translator.endpoints(state), endpointVersions);
      }
      Set<ProxyGroup> missing = new TreeSet<>(wanted);
      missing.removeAll(last.configs().keySet());
      if (!missing.isEmpty()) {
        last = merged(last, translator.translate(state, missing));
      }
    }
    lastTopology = topology;
    lastState = state;
    return only(last, wanted);
  }

  /** {@code translation} for {@code groups} only: their configs and sources, and the rejections that concern them. */
  private static Translation only(Translation translation, Set<ProxyGroup> groups) {
    if (translation.configs().keySet().equals(groups)) {
      return translation;
    }
    Map<ProxyGroup, ProxyConfig> configs = new LinkedHashMap<>();
    Map<ProxyGroup, Map<String, Set<SourceRef>>> sources = new LinkedHashMap<>();
    for (ProxyGroup group : groups) {
      ProxyConfig config = translation.configs().get(group);
      if (config != null) {
        configs.put(group, config);
        sources.put(group, translation.sources().getOrDefault(group, Map.of()));
      }
    }
    List<Rejection> rejections = new ArrayList<>();
    translation.rejections().stream().filter(r -> !MeshTranslator.isGroupRejection(r)).forEach(rejections::add);
    configs.keySet().forEach(group -> rejections.addAll(MeshTranslator.groupRejections(group)));
    return new Translation(configs, rejections.stream().distinct().sorted().toList(), sources);
  }

  private static Translation merged(Translation a, Translation b) {
    Map<ProxyGroup, ProxyConfig> configs = new LinkedHashMap<>(a.configs());
    configs.putAll(b.configs());
    Map<ProxyGroup, Map<String, Set<SourceRef>>> sources = new LinkedHashMap<>(a.sources());
    sources.putAll(b.sources());
    List<Rejection> rejections = new ArrayList<>(a.rejections());
    rejections.addAll(b.rejections());
    return new Translation(configs, rejections.stream().distinct().sorted().toList(), sources);
  }

  /**
   * Each Service of the last state without its endpoints, by the Service's identity: the
   * xds-server's state builder keeps an unchanged Service the very instance, so the topology of
   * a new state reuses these, and comparing it with the last one stops at identical Services.
   */
  private Map<MeshService, MeshService> bare = new IdentityHashMap<>();

  private MeshState withoutEndpoints(MeshState state) {
    Map<ServiceKey, MeshService> services = new HashMap<>();
    Map<MeshService, MeshService> nowBare = new IdentityHashMap<>();
    // A Service's identities stay: they shape its cluster's TLS, which an endpoint change keeps.
    state.services().forEach((key, service) -> {
      MeshService without = bare.get(service);
      if (without == null) {
        without = service.withoutEndpoints();
      }
      nowBare.put(service, without);
      services.put(key, without);
    });
    bare = nowBare;
    return new MeshState(services, state.splits(), state.routings(), state.aliases(), state.permissiveNamespaces(),
        state.outboundScopes());
  }

  /**
   * The same translation with new endpoint assignments; configs shared before stay shared, and
   * stay the very instances when the assignments are the very list they hold (nothing changed).
   */
  private static Translation withEndpoints(Translation previous, List<ClusterLoadAssignment> endpoints,
      ContentVersion versions) {
    String version = versions.of(endpoints);
    // An endpoint change replaces one or two assignments: the others keep their place and their version.
    ProxyConfig before = previous.configs().isEmpty() ? null : previous.configs().values().iterator().next();
    Map<String, String> byName = versions.byName(endpoints, ClusterLoadAssignment::getClusterName,
        before == null ? null : before.endpoints(),
        before == null ? null : before.resourceVersions().get(Translation.ENDPOINT_TYPE_URL));
    Map<ProxyConfig, ProxyConfig> replaced = new IdentityHashMap<>();
    Map<ProxyGroup, ProxyConfig> configs = new LinkedHashMap<>();
    previous.configs().forEach((group, config) -> configs.put(group, replaced.computeIfAbsent(config, old -> {
      if (old.endpoints() == endpoints) {
        return old;
      }
      Map<String, Map<String, String>> resourceVersions = new HashMap<>(old.resourceVersions());
      resourceVersions.put(Translation.ENDPOINT_TYPE_URL, byName);
      return new ProxyConfig(old.clusters(), old.clustersVersion(), endpoints, version,
          old.listeners(), old.listenersVersion(), old.routes(), old.routesVersion(), resourceVersions);
    })));
    return new Translation(configs, previous.rejections(), previous.sources());
  }
}
