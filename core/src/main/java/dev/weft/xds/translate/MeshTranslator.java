package dev.weft.xds.translate;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.xds.tls.MutualTls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The whole translation: a mesh state and the proxy groups that need config in, a
 * {@link ProxyConfig} per group and the rejected user configuration out.
 *
 * <p>The shared part is built once per mesh state: clusters and endpoint assignments (the same for
 * every group), the traffic plan (splits and VirtualServices, checked once), the per-Service-port
 * route configurations of capture-mode sidecars, the Host-header route configuration per client
 * namespace, and the proxyless listeners and routes. Per group only what depends on it is added:
 * a sidecar's inbound clusters and listeners and the outbound listener on its address, and for a
 * capture-mode sidecar the two passthrough clusters for traffic the mesh does not know. Groups
 * whose config would be equal (they differ only in service account) share one {@link ProxyConfig}
 * instance, also across calls with the same state instance.
 *
 * <p>A new state is translated incrementally: every per-Service-port message whose inputs did not
 * change (its cluster, endpoint assignment, virtual host, route configuration, filter chain) is
 * the object the last translation built ({@link TranslationCache}), and so are the route
 * configurations, listeners, lists and configs made only of such objects; so an edit costs the
 * ports it touches, and everything downstream that memoizes by identity keeps its work.
 *
 * <p>mTLS: a sidecar group with an identity (an SDS directory) gets outbound clusters that speak
 * mTLS to meshed endpoints and inbound listeners that require it (or also take plaintext, in a
 * permissive namespace). The clusters name the SDS files, so they are built once per distinct SDS
 * directory: every pod mounts its identity at the same path, so real sidecars share one set, as
 * they shared the plaintext set before; groups without an identity and proxyless clients share the
 * plaintext set.
 *
 * <p>Each group's config is consistent on its own: every cluster a route or TCP proxy names is in
 * it, every EDS cluster has its assignment (possibly empty) and no assignment is left over, every
 * RDS name a listener uses has its route configuration and no route configuration is left over
 * (java-control-plane refuses leftovers), and no name or domain appears twice.
 *
 * <p>The translation also says which user resources each group's config carries, per xDS type
 * ({@link Translation#sources()}): a TrafficSplit is in the route configurations holding the
 * virtual hosts of its root's HTTP ports (their default route is its weighted clusters) and in the
 * outbound listener holding the TCP proxies of its root's TCP ports; a VirtualService is in the
 * route configurations holding the virtual hosts whose rules it owns. Only what the traffic plan
 * applied counts: a rejected or losing resource is in no config. The status report uses this to
 * tell whether the proxies that need a resource have accepted a config containing it.
 */
public final class MeshTranslator implements Translator {

  private final ClusterTranslator clusterTranslator = new ClusterTranslator();
  private final EndpointTranslator endpointTranslator = new EndpointTranslator();

  private static final String GROUP_KIND = "ProxyGroup";
  private static final String PROXYLESS = "proxyless";

  private final String trustDomain;

  /** A translator for the trust domain {@value MutualTls#DEFAULT_TRUST_DOMAIN}. */
  public MeshTranslator() {
    this(MutualTls.DEFAULT_TRUST_DOMAIN);
  }

  /** A translator whose sidecars accept the SPIFFE IDs of {@code trustDomain}. */
  public MeshTranslator(String trustDomain) {
    this(trustDomain, new TrafficPlans());
  }

  /**
   * The same, taking each state's plan from {@code plans}, which the {@link LastGoodTranslator} in
   * front of it shares, so a state is planned once.
   */
  public MeshTranslator(String trustDomain, TrafficPlans plans) {
    this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
    this.plans = Objects.requireNonNull(plans, "plans");
  }

  private final TrafficPlans plans;

  /** The shared part of the last translation, reused while the same state instance comes back. */
  private Shared last;
  /** What the last mesh state's translation built, reused by the next one wherever its inputs are unchanged. */
  private final TranslationCache cache = new TranslationCache();
  /**
   * The endpoint assignments of the last state whose endpoints were translated, by a full
   * translation or by {@link IncrementalTranslator} alone; one generation per state, so pods
   * coming and going do not pile up assignments.
   */
  private final TranslationCache endpointCache = new TranslationCache();

  /**
   * Translates {@code state} for each of {@code groups}; pure, so equal input gives equal output.
   * Called again with the same {@code state} instance (a proxy group joined), it reuses the shared
   * part and returns the very config instances it returned before for groups with equal configs,
   * so a new group costs only its own part and holds no copy of the mesh.
   */
  @Override
  public Translation translate(MeshState state, Collection<ProxyGroup> groups) {
    Shared shared = sharedFor(state);
    List<Rejection> rejections = new ArrayList<>(shared.rejections);
    Map<ProxyGroup, ProxyConfig> configs = new LinkedHashMap<>();
    Map<ProxyGroup, Map<String, Set<SourceRef>>> sources = new LinkedHashMap<>();
    for (ProxyGroup group : new TreeSet<>(groups)) {
      if (group.kind() == ProxyGroup.Kind.PROXYLESS_GRPC) {
        configs.put(group, shared.configFor(PROXYLESS, () -> proxyless(shared)));
        continue;
      }
      rejections.addAll(groupRejections(group));
      boolean bindable = IpLiteral.isValid(group.inboundAddress());
      configs.put(group, shared.configFor(contentKey(group), () -> sidecar(shared, group, bindable)));
    }
    // Groups that share a config share its provenance: computed once per distinct config.
    configs.forEach((group, config) -> sources.put(group, shared.sourcesOf(config)));
    return new Translation(configs, rejections.stream().distinct().sorted().toList(), sources);
  }

  private synchronized Shared sharedFor(MeshState state) {
    if (last == null || last.state != state) {
      cache.nextGeneration();
      TrafficPlan plan = plans.of(state);
      ContentVersion versions;
      if (last == null) {
        versions = new ContentVersion();
      } else {
        // The last Shared's monitor guards its versions: a join may still be translating with it.
        synchronized (last) {
          versions = new ContentVersion(last.versions);
        }
      }
      last = new Shared(state, plan, clusterTranslator, trustDomain, cache,
          endpoints(state),
          new RouteTranslator(state, plan, cache),
          new ListenerTranslator(state, plan, trustDomain, cache),
          versions);
    }
    return last;
  }

  /** An assignment is made of exactly this: whether the Service has identities decides its plaintext marks. */
  private record AssignmentKey(ServiceKey service, ServicePort port, List<Endpoint> endpoints, boolean meshed) {}

  /** An outbound cluster is made of exactly this (and the translator's trust domain). */
  private record ClusterKey(ServiceKey service, ServicePort port, Set<String> serviceAccounts, String sdsDirectory) {}

  /**
   * {@link EndpointTranslator#translate}, with the last translation's assignment for every port
   * whose endpoints are unchanged, and its very list when no assignment changed.
   */
  synchronized List<ClusterLoadAssignment> endpoints(MeshState state) {
    endpointCache.nextGeneration();
    TranslationCache.Named listKey = new TranslationCache.Named("endpoints", "");
    Map<MeshService, List<ClusterLoadAssignment>> now = new IdentityHashMap<>();
    boolean unchanged = lastAssignments != null && state.services().size() == assignmentsByService.size();
    for (MeshService service : state.services().values()) {
      List<ClusterLoadAssignment> its = assignmentsByService.get(service);
      if (its == null) {
        unchanged = false;
        List<ClusterLoadAssignment> built = new ArrayList<>();
        for (ServicePort port : service.ports()) {
          built.add(endpointCache.computeIfAbsent(
              new AssignmentKey(service.key(), port, service.endpointsOf(port), !service.serviceAccounts().isEmpty()),
              () -> endpointTranslator.assignment(service, port)));
        }
        its = List.copyOf(built);
      }
      now.put(service, its);
    }
    assignmentsByService = now;
    if (unchanged) {
      // Every Service is the very one translated last time: so is every assignment, and the list.
      endpointCache.put(listKey, lastAssignments);
      return lastAssignments;
    }
    List<ClusterLoadAssignment> assignments = new ArrayList<>();
    now.values().forEach(assignments::addAll);
    assignments.sort(Comparator.comparing(ClusterLoadAssignment::getClusterName));
    lastAssignments = endpointCache.same(listKey, List.copyOf(assignments));
    return lastAssignments;
  }

  /**
   * Each Service's assignments in the last state whose endpoints were translated, by the Service's
   * identity (the xds-server's state builder keeps an unchanged Service the very instance), and
   * that state's list: a state whose Services are all the same objects has the same list, found
   * without a key per port.
   */
  private Map<MeshService, List<ClusterLoadAssignment>> assignmentsByService = new IdentityHashMap<>();
  private List<ClusterLoadAssignment> lastAssignments;

  private ProxyConfig sidecar(Shared shared, ProxyGroup group, boolean bindable) {
    boolean capture = ListenerTranslator.isCaptureMode(group.inboundAddress());
    // Still sorted by name: every "inbound|" name sorts before every "outbound|" one, and those
    // before "passthrough".
    List<Cluster> clusters = new ArrayList<>();
    for (Cluster inbound : clusterTranslator.inbound(ListenerTranslator.proxiedAppPorts(group))) {
      // A cluster for one port of 127.0.0.1, the same in every group that has the port.
      clusters.add(shared.cache.same(new TranslationCache.Named("inboundCluster", inbound.getName()), inbound));
    }
    if (capture) {
      // "inbound|passthrough" after every "inbound|<port>": digits sort before letters.
      clusters.add(shared.passthrough(ResourceNames.INBOUND_PASSTHROUGH));
    }
    clusters.addAll(shared.outboundClusters(group.sdsDirectory()).clusters());
    if (capture) {
      clusters.add(shared.passthrough(ResourceNames.PASSTHROUGH));
    }
    String key = contentKey(group);
    List<Listener> listeners = new ArrayList<>();
    List<RouteConfiguration> routes = new ArrayList<>();
    if (bindable) {
      RouteConfiguration outboundRoutes = shared.outboundRoutes(group.namespace(), capture);
      listeners.addAll(shared.listeners.inbound(group));
      listeners.add(shared.outboundListener(group.inboundAddress(), outboundRoutes.getName()));
      listeners.sort(Comparator.comparing(Listener::getName));
      if (capture) {
        routes.addAll(shared.routes.byService(shared.listeners.capturedHosts()));
      }
      if (shared.listeners.routesByHost(group.inboundAddress())) {
        routes.add(outboundRoutes);
      }
      routes.sort(Comparator.comparing(RouteConfiguration::getName));
    }
    return shared.config(key, clusters, listeners, routes);
  }

  private static ProxyConfig proxyless(Shared shared) {
    return shared.config(PROXYLESS, shared.outboundClusters("").clusters(), shared.listeners.proxyless(),
        shared.routes.proxyless());
  }

  /** Groups with equal keys get equal configs: they differ in nothing the translation reads but the service account. */
  private static String contentKey(ProxyGroup group) {
    return "sidecar|" + group.namespace() + "|" + group.inboundAddress() + "|" + group.appPorts()
        + "|" + group.sdsDirectory();
  }

  /** What is wrong with a proxy group itself (it depends on nothing else): bad app ports, an address it cannot bind. */
  static List<Rejection> groupRejections(ProxyGroup group) {
    if (group.kind() == ProxyGroup.Kind.PROXYLESS_GRPC) {
      return List.of();
    }
    List<Rejection> rejections = new ArrayList<>(appPortRejections(group));
    if (!IpLiteral.isValid(group.inboundAddress())) {
      rejections.add(new Rejection(groupRef(group), new FieldError("inboundAddress", FieldError.Reason.INVALID,
          "'" + group.inboundAddress() + "' is not an IP address, so the sidecar's listeners cannot be bound; it "
          + "gets clusters and endpoints only until its pod has an IP address")));
    }
    return rejections;
  }

  /** True for a rejection {@link #groupRejections} makes, which concerns one group and not the mesh. */
  static boolean isGroupRejection(Rejection rejection) {
    return rejection.source().kind().equals(GROUP_KIND);
  }

  private static List<Rejection> appPortRejections(ProxyGroup group) {
    List<Integer> kept = ListenerTranslator.proxiedAppPorts(group);
    List<Rejection> rejections = new ArrayList<>();
    for (int port : group.appPorts()) {
      if (!kept.contains(port)) {
        rejections.add(new Rejection(groupRef(group), new FieldError("appPorts", FieldError.Reason.INVALID,
            port + (port < 1 || port > 65535 ? " is not a port number" : " is a sidecar port (15000, 15001, 15006, "
            + "15021, 15090)") + ", so inbound traffic to it is not proxied; move the application to another port")));
      }
    }
    return rejections;
  }

  /** Proxy groups are not user resources; the reference names the group for the status report. */
  private static SourceRef groupRef(ProxyGroup group) {
    return new SourceRef(GROUP_KIND, group.namespace(), group.serviceAccount(), 0, "");
  }

  /**
   * Which user resources shape the traffic of each Service port, as the traffic plan applied them,
   * indexed by the names of the resources that carry it: the port's virtual host (HTTP) or the
   * outbound listener's filter chain, named like the port's cluster (TCP).
   */
  private static final class Provenance {

    private static final Comparator<SourceRef> ORDER = Comparator.comparing(SourceRef::kind)
        .thenComparing(SourceRef::namespace).thenComparing(SourceRef::name)
        .thenComparingLong(SourceRef::generation).thenComparing(SourceRef::creationTimestamp);

    final Map<String, List<SourceRef>> byVirtualHost = new HashMap<>();
    final Map<String, List<SourceRef>> byTcpChain = new HashMap<>();
    private final Map<RouteConfiguration, List<SourceRef>> byRouteConfiguration = new IdentityHashMap<>();
    private final Map<Listener, List<SourceRef>> byListener = new IdentityHashMap<>();

    Provenance(MeshState state, TrafficPlan plan) {
      // Only the ports a split or a VirtualService applies on have sources: a few hundred of the
      // mesh's thousands, and the rest need no name spelled on every change.
      plan.forEachShapedPort((key, number) -> {
        MeshService service = state.services().get(key);
        ServicePort port = service == null ? null : service.port(number).orElse(null);
        if (port == null) {
          return;
        }
        List<SourceRef> sources = new ArrayList<>(2);
        plan.split(key, number).ifPresent(sources::add);
        if (port.protocol().isHttp()) {
          plan.routing(key, number).ifPresent(sources::add);
          byVirtualHost.put(ResourceNames.virtualHost(key, number), sources);
        } else if (!sources.isEmpty()) {
          byTcpChain.put(ResourceNames.outboundCluster(key, number), sources);
        }
      });
    }

    /** The user resources in one route configuration; most are in every group's config, so each is looked at once. */
    private synchronized List<SourceRef> inRoutes(RouteConfiguration routes) {
      return byRouteConfiguration.computeIfAbsent(routes, r -> {
        List<SourceRef> sources = new ArrayList<>();
        for (VirtualHost host : r.getVirtualHostsList()) {
          sources.addAll(byVirtualHost.getOrDefault(host.getName(), List.of()));
        }
        return sources;
      });
    }

    /**
     * The user resources in one listener's TCP chains; a namespace's outbound listener (a chain
     * per Service port in capture mode) is in all its groups' configs, so it is walked once.
     */
    private synchronized List<SourceRef> inListener(Listener listener) {
      if (byTcpChain.isEmpty()) {
        // No TCP port is split: no chain has sources, so none is looked at.
        return List.of();
      }
      return byListener.computeIfAbsent(listener, l -> {
        List<SourceRef> sources = new ArrayList<>();
        for (FilterChain chain : l.getFilterChainsList()) {
          sources.addAll(byTcpChain.getOrDefault(chain.getName(), List.of()));
        }
        return sources;
      });
    }

    /** The last union {@link #routeSources} made, and of which lists (the very objects, in order). */
    private List<List<SourceRef>> lastParts;
    private Set<SourceRef> lastUnion;

    /**
     * The sorted union of {@code parts}; the configs of a state mostly hold the same route
     * configurations with sources (each capture-mode port's own), so the last union is reused
     * when the lists are the very same ones.
     */
    private synchronized Set<SourceRef> routeSources(List<List<SourceRef>> parts) {
      if (lastParts != null && lastParts.size() == parts.size()) {
        boolean same = true;
        for (int i = 0; i < parts.size() && same; i++) {
          same = lastParts.get(i) == parts.get(i);
        }
        if (same) {
          return lastUnion;
        }
      }
      Set<SourceRef> union = new TreeSet<>(ORDER);
      parts.forEach(union::addAll);
      lastParts = parts;
      lastUnion = Collections.unmodifiableSet(union);
      return lastUnion;
    }

    /** The user resources in {@code config}, per type URL, sorted; types without any are left out. */
    Map<String, Set<SourceRef>> of(ProxyConfig config) {
      Set<SourceRef> inListeners = new TreeSet<>(ORDER);
      for (Listener listener : config.listeners()) {
        inListeners.addAll(inListener(listener));
      }
      List<List<SourceRef>> parts = new ArrayList<>();
      for (RouteConfiguration routes : config.routes()) {
        List<SourceRef> in = inRoutes(routes);
        if (!in.isEmpty()) {
          parts.add(in);
        }
      }
      Set<SourceRef> inRoutes = routeSources(parts);
      Map<String, Set<SourceRef>> sources = new LinkedHashMap<>();
      if (!inListeners.isEmpty()) {
        sources.put(Translation.LISTENER_TYPE_URL, inListeners);
      }
      if (!inRoutes.isEmpty()) {
        sources.put(Translation.ROUTE_TYPE_URL, inRoutes);
      }
      return sources;
    }
  }

  /** One set of outbound clusters with its version and per-cluster versions, computed once. */
  private record OutboundClusters(List<Cluster> clusters, String version, Map<String, String> versions) {}

  /**
   * What every group's config is built from, computed once per mesh state; the configs built from
   * it are kept by content key, so groups with equal configs share one instance across calls.
   * Guarded by its own monitor: a join may translate while a publish does.
   */
  private static final class Shared {

    final MeshState state;
    final TranslationCache cache;
    final List<Rejection> rejections;
    final Provenance provenance;
    final ClusterTranslator clusterTranslator;
    final String trustDomain;
    /** The outbound clusters by SDS directory ("": plaintext), with their versions, each built once. */
    final Map<String, OutboundClusters> outboundClusters = new HashMap<>();
    final List<ClusterLoadAssignment> endpoints;
    final RouteTranslator routes;
    final ListenerTranslator listeners;
    final ContentVersion versions;
    final String endpointsVersion;
    /** One map for every group: the endpoints are the same list everywhere. */
    final Map<String, String> endpointVersions;
    final Map<String, RouteConfiguration> outboundRoutes = new HashMap<>();
    final Map<String, Listener> outboundListeners = new HashMap<>();
    final Map<String, ProxyConfig> byContent = new HashMap<>();
    final Map<ProxyConfig, Map<String, Set<SourceRef>>> sourcesByConfig = new IdentityHashMap<>();

    Shared(MeshState state, TrafficPlan plan, ClusterTranslator clusterTranslator, String trustDomain,
        TranslationCache cache, List<ClusterLoadAssignment> endpoints, RouteTranslator routes,
        ListenerTranslator listeners, ContentVersion versions) {
      this.state = state;
      this.cache = cache;
      List<Rejection> all = new ArrayList<>(plan.rejections());
      all.addAll(listeners.rejections());
      this.rejections = List.copyOf(all);
      this.provenance = new Provenance(state, plan);
      this.clusterTranslator = clusterTranslator;
      this.trustDomain = trustDomain;
      this.endpoints = endpoints;
      this.routes = routes;
      this.listeners = listeners;
      this.versions = versions;
      this.endpointsVersion = versions.of(endpoints);
      this.endpointVersions = versions.byName(endpoints, ClusterLoadAssignment::getClusterName);
    }

    /** The outbound clusters for sidecars whose SDS files are in {@code sdsDirectory}; built once per directory. */
    synchronized OutboundClusters outboundClusters(String sdsDirectory) {
      return outboundClusters.computeIfAbsent(sdsDirectory, dir -> {
        List<Cluster> built = new ArrayList<>();
        boolean allKnown = true;
        for (MeshService service : state.services().values()) {
          // A Service the last state had (the very object) has the very clusters it had.
          List<Cluster> its = cache.get(new TranslationCache.Identity("outboundClusters", service, dir));
          if (its == null) {
            allKnown = false;
            List<Cluster> ofService = new ArrayList<>();
            for (ServicePort port : service.ports()) {
              ofService.add(cache.computeIfAbsent(new ClusterKey(service.key(), port, service.serviceAccounts(), dir),
                  () -> clusterTranslator.outbound(service, port, dir, trustDomain)));
            }
            its = List.copyOf(ofService);
            cache.put(new TranslationCache.Identity("outboundClusters", service, dir), its);
          }
          built.addAll(its);
        }
        TranslationCache.Named listKey = new TranslationCache.Named("outboundClusters", dir);
        List<Cluster> known = cache.get(listKey);
        List<Cluster> clusters;
        if (allKnown && known != null && known.size() == built.size()) {
          // The same Services (none added, as every one was known; none removed, as the count is equal).
          clusters = known;
          cache.put(listKey, known);
        } else {
          built.sort(Comparator.comparing(Cluster::getName));
          clusters = cache.same(listKey, List.copyOf(built));
        }
        return new OutboundClusters(clusters, versions.of(clusters), versions.byName(clusters, Cluster::getName));
      });
    }

    synchronized ProxyConfig configFor(String contentKey, Supplier<ProxyConfig> build) {
      ProxyConfig config = byContent.get(contentKey);
      if (config == null) {
        config = build.get();
        byContent.put(contentKey, config);
      }
      return config;
    }

    synchronized Map<String, Set<SourceRef>> sourcesOf(ProxyConfig config) {
      return sourcesByConfig.computeIfAbsent(config, provenance::of);
    }

    RouteConfiguration outboundRoutes(String namespace, boolean capture) {
      return outboundRoutes.computeIfAbsent(namespace + (capture ? "|capture" : ""),
          k -> cache.same(new TranslationCache.Named("outboundRoutes", k),
              capture ? routes.outboundWithPassthrough(namespace, listeners.capturedHosts())
                  : routes.outbound(namespace)));
    }

    /** The ORIGINAL_DST cluster {@code name}: one object across groups and translations. */
    Cluster passthrough(String name) {
      return cache.computeIfAbsent(new TranslationCache.Named("passthroughCluster", name),
          () -> clusterTranslator.passthrough(name));
    }

    /** One instance per address and route configuration, so its digest is computed once. */
    Listener outboundListener(String bindAddress, String routeConfigName) {
      return outboundListeners.computeIfAbsent(bindAddress + " " + routeConfigName,
          k -> cache.same(new TranslationCache.Named("outboundListener", k),
              listeners.outbound(bindAddress, routeConfigName)));
    }

    /**
     * The config of the groups with {@code contentKey}: the last translation's instance when it
     * holds these very lists (a change that touched nothing of theirs), so everything downstream
     * that memoizes by identity sees no change at all; else a new one, whose lists are the last
     * ones wherever they are equal.
     */
    ProxyConfig config(String contentKey, List<Cluster> clusters, List<Listener> listeners,
        List<RouteConfiguration> routes) {
      List<Cluster> groupClusters = cache.same(new TranslationCache.Named("clusters", contentKey), List.copyOf(clusters));
      // Groups of different namespaces mostly hold equal clusters (the app ports and the SDS
      // directory decide them, not the namespace): one list instance for them all, so the
      // xds-server builds and checks one set of clusters, not one per config, on each change.
      List<Cluster> withVersion = groupClusters;
      groupClusters = cache.reuse(new TranslationCache.Named("clustersByVersion", versions.of(groupClusters)),
          groupClusters, (known, fresh) -> known == withVersion || known.equals(fresh));
      List<Listener> groupListeners =
          cache.same(new TranslationCache.Named("listeners", contentKey), List.copyOf(listeners));
      List<RouteConfiguration> groupRoutes =
          cache.same(new TranslationCache.Named("routes", contentKey), List.copyOf(routes));
      TranslationCache.Named key = new TranslationCache.Named("config", contentKey);
      ProxyConfig known = cache.get(key);
      if (known != null && known.clusters() == groupClusters && known.endpoints() == endpoints
          && known.listeners() == groupListeners && known.routes() == groupRoutes) {
        cache.put(key, known);
        return known;
      }
      ProxyConfig built = newConfig(groupClusters, groupListeners, groupRoutes, known);
      cache.put(key, built);
      return built;
    }

    /**
     * A config of these lists; per-name versions are taken from {@code before} (this content
     * key's last config, or null) for every resource that is the very object at the same place in
     * its list, so a weight edit looks up one route configuration's version, not ~2,000 per config.
     */
    private ProxyConfig newConfig(List<Cluster> groupClusters, List<Listener> listeners,
        List<RouteConfiguration> groupRoutes, ProxyConfig before) {
      OutboundClusters plain = outboundClusters.get("");
      boolean shared = plain != null && groupClusters == plain.clusters();
      String groupClustersVersion = shared ? plain.version() : versions.of(groupClusters);
      Map<String, String> clusterVersions = shared ? plain.versions()
          : versions.byName(groupClusters, Cluster::getName, before == null ? null : before.clusters(),
              versionsOf(before, Translation.CLUSTER_TYPE_URL));
      return new ProxyConfig(
          groupClusters, groupClustersVersion,
          endpoints, endpointsVersion,
          listeners, versions.of(listeners),
          groupRoutes, versions.of(groupRoutes),
          Map.of(Translation.CLUSTER_TYPE_URL, clusterVersions,
              Translation.ENDPOINT_TYPE_URL, endpointVersions,
              Translation.LISTENER_TYPE_URL, versions.byName(listeners, Listener::getName,
                  before == null ? null : before.listeners(), versionsOf(before, Translation.LISTENER_TYPE_URL)),
              Translation.ROUTE_TYPE_URL, versions.byName(groupRoutes, RouteConfiguration::getName,
                  before == null ? null : before.routes(), versionsOf(before, Translation.ROUTE_TYPE_URL))));
    }

    private static Map<String, String> versionsOf(ProxyConfig config, String typeUrl) {
      return config == null ? null : config.resourceVersions().get(typeUrl);
    }
  }
}
