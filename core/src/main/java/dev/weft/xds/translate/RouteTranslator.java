package dev.weft.xds.translate;

import com.google.protobuf.UInt32Value;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.SameObjects;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * RDS: the HTTP routes of every HTTP Service port.
 *
 * <p>For sidecars in capture mode, each HTTP Service port that the outbound listener matches by
 * destination address has a route configuration of its own ({@link ResourceNames#serviceRoutes}),
 * with one virtual host for {@code *}: the address already chose the Service, and a weight edit
 * changes only this small resource. The same configuration serves every namespace.
 *
 * <p>The rest is routed by Host header: one route configuration per client namespace
 * ({@link ResourceNames#outboundRoutes}), with a virtual host per HTTP Service port (in capture mode
 * only those no destination chain matches, e.g. headless Services) that answers
 * every name a client may put in the Host header: {@code svc.ns}, {@code svc.ns.svc},
 * {@code svc.ns.svc.cluster.local} and the cluster IP, each with {@code :port}; the same names
 * without a port only for the Service's primary port (80 if it is an HTTP port, else its lowest
 * HTTP port), because a Host header without a port can mean one port only and Envoy refuses a
 * domain in two virtual hosts; and {@code svc}, {@code svc:port} only for clients in the Service's
 * own namespace, where that short name resolves. A capture-mode sidecar's configuration ends with
 * the virtual host {@value ResourceNames#PASSTHROUGH} for every other name ({@code *}): the
 * connection was captured on its way somewhere the mesh does not know, so the request goes on to
 * that original destination instead of getting a 404.
 *
 * <p>A virtual host holds the rules of the VirtualService that owns the port, in declared order
 * (one route per match, since matches are alternatives), then a catch-all route to the port's
 * default destination: its TrafficSplit as weighted clusters, else its own cluster.
 *
 * <p>For proxyless gRPC clients there is one route configuration per HTTP Service port, named like
 * the API listener that asks for it, with one virtual host for that name (and {@code *}, so a
 * client with an overridden authority still finds it). gRPC does not know
 * {@code path_separated_prefix}, so a path prefix there becomes an exact route plus a
 * {@code prefix} route for what lies below, which match the same paths.
 */
public final class RouteTranslator {

  /** Who reads the routes, which decides how a path prefix, a timeout and a method condition are written. */
  public enum Dialect {
    /** Envoy: a prefix is {@code path_separated_prefix}. */
    ENVOY,
    /** grpc-java and other proxyless clients: {@code path} plus {@code prefix "<p>/"}. */
    GRPC
  }

  /**
   * The retry conditions when a rule asks for retries without naming any: failures where the
   * request most likely did not reach the application, or a gateway in between failed.
   */
  static final String DEFAULT_RETRY_ON = "connect-failure,refused-stream,reset,gateway-error";
  private static final String METHOD_HEADER = ":method";
  /**
   * No timeout: the mesh knows nothing of the destination, so it imposes nothing on it, as a
   * connection made without the sidecar would not have one either.
   */
  private static final VirtualHost PASSTHROUGH_HOST = VirtualHost.newBuilder()
      .setName(ResourceNames.PASSTHROUGH)
      .addDomains("*")
      .addRoutes(Route.newBuilder()
          .setName(ResourceNames.PASSTHROUGH)
          .setMatch(RouteMatch.newBuilder().setPrefix("/"))
          .setRoute(RouteAction.newBuilder()
              .setCluster(ResourceNames.PASSTHROUGH)
              .setTimeout(com.google.protobuf.Duration.getDefaultInstance())))
      .build();

  private final MeshState state;
  private final TrafficPlan plan;
  /** The last translation's virtual hosts and route configurations, reused where their inputs did not change. */
  private final TranslationCache cache;
  /** Virtual hosts without domains, per dialect, built once and shared by every namespace. */
  private final Map<Dialect, Map<String, VirtualHost>> templates = new EnumMap<>(Dialect.class);
  /** Every HTTP port's names but the short one, by virtual host name, once found. */
  private Map<String, List<String>> foreignDomains;
  /** Built once per translation: each namespace's configuration walks the same ports. */
  private List<HttpPort> httpPorts;

  /** The per-Service-port route configurations of capture-mode sidecars, once built. */
  private List<RouteConfiguration> serviceRoutes;

  /**
   * The routes of one HTTP Service port in one dialect are made of exactly this ({@code split}
   * null: no TrafficSplit, the default destination is the port's own cluster), so a template
   * built for an equal key (by this translation or the last) is that port's template.
   */
  private record TemplateKey(Dialect dialect, ServiceKey service, ServicePort port,
      TrafficPlan.Destination split, List<TrafficPlan.RoutedRule> rules) {}

  /** A capture-mode port's own route configuration is its template under its name (the template compares by identity first). */
  private record ServiceRoutesKey(VirtualHost template, String name) {}

  /** A port's names for clients of other namespaces ({@link #domains}) are made of exactly this. */
  private record DomainsKey(ServiceKey service, int port, boolean primary, String clusterIp) {}

  /** A shared virtual host is its port's template with these names (the template compares by identity first). */
  private record ForeignHostKey(VirtualHost template, List<String> domains) {}

  public RouteTranslator(MeshState state, TrafficPlan plan) {
    this(state, plan, new TranslationCache());
  }

  /** Routes that reuse what {@code cache} holds from the last translation for every port whose inputs are unchanged. */
  RouteTranslator(MeshState state, TrafficPlan plan, TranslationCache cache) {
    this.state = state;
    this.plan = plan;
    this.cache = cache;
  }

  /** The route configuration of a local-mode sidecar in {@code clientNamespace}: every HTTP Service port by Host. */
  public RouteConfiguration outbound(String clientNamespace) {
    return outbound(clientNamespace, Set.of());
  }

  /**
   * The Host-header route configuration of the outbound listener of sidecars in
   * {@code clientNamespace}, without the virtual hosts named in {@code leftOut} (those a
   * capture-mode listener routes by destination address). The virtual hosts of other namespaces'
   * Services are the same objects in every namespace's configuration (built once,
   * {@link #foreignHost}); only the caller's own Services get a copy with their short names, so a
   * change costs Services + namespaces, not Services × namespaces.
   */
  public RouteConfiguration outbound(String clientNamespace, Set<String> leftOut) {
    RouteConfiguration.Builder routes = RouteConfiguration.newBuilder()
        .setName(ResourceNames.outboundRoutes(clientNamespace));
    Set<String> takenShortNames = new HashSet<>();
    for (HttpPort http : portsWithout(leftOut)) {
      VirtualHost shared = foreignHost(http.virtualHost());
      if (!http.service().key().namespace().equals(clientNamespace)) {
        if (shared != null) {
          routes.addVirtualHosts(shared);
        }
        continue;
      }
      // Short names have no dot, so they never collide with the shared (dotted) domains.
      List<String> shortNames = new ArrayList<>();
      for (String domain : shortNames(http.service(), http.port(), http.primary())) {
        if (takenShortNames.add(domain)) {
          shortNames.add(domain);
        }
      }
      VirtualHost.Builder host = templates(Dialect.ENVOY).get(http.virtualHost()).toBuilder().addAllDomains(shortNames);
      if (shared != null) {
        host.addAllDomains(shared.getDomainsList());
      }
      if (host.getDomainsCount() > 0) {
        routes.addVirtualHosts(host);
      }
    }
    return routes.build();
  }

  /**
   * The Host-header route configuration of capture-mode sidecars in {@code clientNamespace}:
   * {@link #outbound(String, Set)}, then the {@value ResourceNames#PASSTHROUGH} virtual host for
   * every other Host, which sends the request to where the client's connection was headed.
   */
  public RouteConfiguration outboundWithPassthrough(String clientNamespace, Set<String> leftOut) {
    return outbound(clientNamespace, leftOut).toBuilder().addVirtualHosts(PASSTHROUGH_HOST).build();
  }

  /**
   * The HTTP ports whose virtual hosts are not in {@code leftOut}, found once per set (by its
   * identity: every capture-mode namespace passes the same set), so each namespace's configuration
   * walks the few ports it holds rather than every port of the mesh.
   */
  private synchronized List<HttpPort> portsWithout(Set<String> leftOut) {
    return portsWithout.computeIfAbsent(leftOut, out -> {
      if (out.isEmpty()) {
        return httpPorts();
      }
      List<HttpPort> kept = new ArrayList<>();
      for (HttpPort http : httpPorts()) {
        if (!out.contains(http.virtualHost())) {
          kept.add(http);
        }
      }
      return List.copyOf(kept);
    });
  }

  private final Map<Set<String>, List<HttpPort>> portsWithout = new java.util.IdentityHashMap<>();

  /** Every HTTP Service port, in Service order. */
  private List<HttpPort> httpPorts() {
    if (httpPorts == null) {
      List<HttpPort> ports = new ArrayList<>();
      for (MeshService service : state.services().values()) {
        ports.addAll(HttpPort.of(service, cache));
      }
      httpPorts = List.copyOf(ports);
    }
    return httpPorts;
  }

  /** The names each HTTP port answers for clients of other namespaces, and the Services (the very objects, in order) they were found for. */
  private record ForeignDomains(List<MeshService> services, Map<String, List<String>> byHost) {}

  /**
   * The names any namespace uses for each HTTP Service port (all but the short name), by virtual
   * host name, found once per translation; a port whose every name another port took first (not
   * possible with valid Kubernetes names) has none, so a bad name cannot make Envoy refuse the
   * configuration. The names come from the Services alone, so while every Service is the very
   * object the last translation had, they are its names, not spelled and deduplicated again.
   */
  private Map<String, List<String>> foreignDomains() {
    if (foreignDomains == null) {
      List<MeshService> services = List.copyOf(state.services().values());
      TranslationCache.Named key = new TranslationCache.Named("foreignDomains", "");
      ForeignDomains last = cache.get(key);
      if (last != null && SameObjects.inOrder(last.services(), services)) {
        cache.put(key, last);
        foreignDomains = last.byHost();
        return foreignDomains;
      }
      Map<String, List<String>> byHost = new HashMap<>();
      Set<String> taken = new HashSet<>();
      for (HttpPort http : httpPorts()) {
        List<String> names = cache.computeIfAbsent(new DomainsKey(http.service().key(), http.port().port(),
            http.primary(), http.service().clusterIp()),
            () -> List.copyOf(domains(http.service(), http.port(), http.primary(), null)));
        List<String> domains = new ArrayList<>();
        for (String domain : names) {
          if (taken.add(domain)) {
            domains.add(domain);
          }
        }
        if (!domains.isEmpty()) {
          byHost.put(http.virtualHost(), domains.size() == names.size() ? names : List.copyOf(domains));
        }
      }
      cache.put(key, new ForeignDomains(services, byHost));
      foreignDomains = byHost;
    }
    return foreignDomains;
  }

  /**
   * The port's virtual host with its names for other namespaces, shared by every namespace's
   * configuration, or null when it has none; built only for the ports a configuration holds (in
   * capture mode the few without a destination chain), and the last translation's object while
   * its template and names are.
   */
  private VirtualHost foreignHost(String virtualHost) {
    // Each namespace's configuration asks for the same ports: found once per translation.
    return foreignHosts.computeIfAbsent(virtualHost, name -> {
      List<String> domains = foreignDomains().get(name);
      if (domains == null) {
        return Optional.<VirtualHost>empty();
      }
      VirtualHost template = templates(Dialect.ENVOY).get(name);
      return Optional.of(cache.computeIfAbsent(new ForeignHostKey(template, domains),
          () -> template.toBuilder().addAllDomains(domains).build()));
    }).orElse(null);
  }

  private final Map<String, Optional<VirtualHost>> foreignHosts = new HashMap<>();

  /**
   * The route configurations of the HTTP Service ports named in {@code hosts} (virtual host names),
   * one each, for capture-mode sidecars, sorted by name; built once per translation.
   */
  public List<RouteConfiguration> byService(Set<String> hosts) {
    if (serviceRoutes == null) {
      Map<String, VirtualHost> templates = templates(Dialect.ENVOY);
      List<RouteConfiguration> configs = new ArrayList<>();
      boolean allKnown = true;
      for (String host : hosts) {
        VirtualHost template = templates.get(host);
        if (template != null) {
          ServiceRoutesKey key = new ServiceRoutesKey(template, host);
          RouteConfiguration known = cache.get(key);
          if (known == null) {
            allKnown = false;
            known = RouteConfiguration.newBuilder()
                .setName(host)
                .addVirtualHosts(template.toBuilder().addDomains("*"))
                .build();
            cache.put(key, known);
          }
          configs.add(known);
        }
      }
      TranslationCache.Named listKey = new TranslationCache.Named("serviceRoutesList", "");
      List<RouteConfiguration> last = cache.get(listKey);
      if (allKnown && last != null && last.size() == configs.size()) {
        // Every configuration is one of the last list's (a port's template is the same object
        // while its inputs are), and there are as many: the same list, not sorted again.
        serviceRoutes = last;
        cache.put(listKey, last);
      } else {
        configs.sort(Comparator.comparing(RouteConfiguration::getName));
        serviceRoutes = cache.same(listKey, List.copyOf(configs));
      }
    }
    return serviceRoutes;
  }

  /** The route configurations of proxyless gRPC clients, one per HTTP Service port, sorted by name. */
  public List<RouteConfiguration> proxyless() {
    List<RouteConfiguration> configs = new ArrayList<>();
    for (Map.Entry<String, VirtualHost> host : templates(Dialect.GRPC).entrySet()) {
      configs.add(cache.same(new TranslationCache.Named("proxylessRoutes", host.getKey()),
          RouteConfiguration.newBuilder()
              .setName(host.getKey())
              .addVirtualHosts(host.getValue().toBuilder().addDomains(host.getKey()).addDomains("*"))
              .build()));
    }
    configs.sort(Comparator.comparing(RouteConfiguration::getName));
    return configs;
  }

  /** The short names of a Service port, used only from the Service's own namespace. */
  static List<String> shortNames(MeshService service, ServicePort port, boolean primary) {
    String name = service.key().name();
    return primary ? List.of(name, name + ":" + port.port()) : List.of(name + ":" + port.port());
  }

  /**
   * The names a client uses for this Service port; without a port only for the primary port, and
   * the short name only in the Service's own namespace ({@code clientNamespace} null: no short name).
   */
  static List<String> domains(MeshService service, ServicePort port, boolean primary, String clientNamespace) {
    String name = service.key().name();
    String namespace = service.key().namespace();
    List<String> hosts = new ArrayList<>();
    if (namespace.equals(clientNamespace)) {
      hosts.add(name);
    }
    hosts.add(name + "." + namespace);
    hosts.add(name + "." + namespace + ".svc");
    hosts.add(service.key().fqdn(ResourceNames.CLUSTER_DOMAIN));
    if (IpLiteral.isValid(service.clusterIp())) {
      hosts.add(IpLiteral.hostHeaderForm(service.clusterIp()));
    }
    List<String> domains = new ArrayList<>();
    for (String host : hosts) {
      if (primary) {
        domains.add(host);
      }
      domains.add(host + ":" + port.port());
    }
    return domains;
  }

  /** Port 80 if it is an HTTP port, else the lowest HTTP port; empty for a TCP-only Service. */
  static Optional<ServicePort> primaryPort(MeshService service) {
    // Loops, not streams: asked for every Service on each change.
    Optional<ServicePort> http80 = service.port(80);
    if (http80.isPresent() && http80.get().protocol().isHttp()) {
      return http80;
    }
    ServicePort lowest = null;
    for (ServicePort port : service.ports()) {
      if (port.protocol().isHttp() && (lowest == null || port.port() < lowest.port())) {
        lowest = port;
      }
    }
    return Optional.ofNullable(lowest);
  }

  private Map<String, VirtualHost> templates(Dialect dialect) {
    return templates.computeIfAbsent(dialect, d -> {
      Map<String, VirtualHost> hosts = new LinkedHashMap<>();
      for (HttpPort http : httpPorts()) {
        MeshService service = http.service();
        ServicePort port = http.port();
        String name = http.virtualHost();
        // No split: the default is the port's own cluster, which the Service and port in the key name.
        TemplateKey key = new TemplateKey(d, service.key(), port, plan.splitDestination(service.key(), port.port()),
            plan.rules(service.key(), port.port()));
        hosts.put(name, cache.computeIfAbsent(key,
            () -> VirtualHost.newBuilder().setName(name).addAllRoutes(routes(service, port, d)).build()));
      }
      return hosts;
    });
  }

  /** The routes of one HTTP Service port: its VirtualService rules, then the catch-all. */
  List<Route> routes(MeshService service, ServicePort port, Dialect dialect) {
    TrafficPlan.Destination fallback = plan.defaultDestination(service.key(), port);
    List<Route> routes = new ArrayList<>();
    for (TrafficPlan.RoutedRule rule : plan.rules(service.key(), port.port())) {
      RouteAction action = action(rule.destination().orElse(fallback), rule.timeout(), rule.retries(), dialect);
      List<HttpRouting.Match> matches = rule.matches().isEmpty()
          ? List.of(new HttpRouting.Match(null, List.of(), null))
          : rule.matches();
      for (HttpRouting.Match match : matches) {
        for (RouteMatch routeMatch : routeMatches(match, dialect)) {
          routes.add(Route.newBuilder().setName(rule.name()).setMatch(routeMatch).setRoute(action).build());
        }
      }
    }
    routes.add(Route.newBuilder()
        .setName("default")
        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRoute(action(fallback, null, null, dialect))
        .build());
    return routes;
  }

  /**
   * The Envoy matches for one VirtualService match: one, or two for a gRPC path prefix. For gRPC
   * clients, whose calls are all POSTs and whose metadata has no {@code :method}, a POST condition
   * is always true and is left out, and any other method never matches, so the match has no routes.
   */
  static List<RouteMatch> routeMatches(HttpRouting.Match match, Dialect dialect) {
    List<HeaderMatcher> headers = new ArrayList<>();
    for (HttpRouting.HeaderCondition header : match.headers()) {
      headers.add(headerMatcher(header));
    }
    if (dialect == Dialect.GRPC && match.method() != null && !match.method().equals("POST")) {
      return List.of();
    }
    if (match.method() != null && dialect == Dialect.ENVOY) {
      headers.add(HeaderMatcher.newBuilder()
          .setName(METHOD_HEADER)
          .setStringMatch(StringMatcher.newBuilder().setExact(match.method()))
          .build());
    }
    HttpRouting.PathCondition path = match.path();
    List<RouteMatch.Builder> paths = new ArrayList<>();
    if (path == null || (path.kind() == HttpRouting.PathKind.PREFIX && path.value().equals("/"))) {
      paths.add(RouteMatch.newBuilder().setPrefix("/"));
    } else {
      switch (path.kind()) {
        case EXACT -> paths.add(RouteMatch.newBuilder().setPath(path.value()));
        case REGEX -> paths.add(RouteMatch.newBuilder().setSafeRegex(regex(path.value())));
        case PREFIX -> {
          if (dialect == Dialect.ENVOY) {
            paths.add(RouteMatch.newBuilder().setPathSeparatedPrefix(path.value()));
          } else {
            paths.add(RouteMatch.newBuilder().setPath(path.value()));
            paths.add(RouteMatch.newBuilder().setPrefix(path.value() + "/"));
          }
        }
        default -> throw new IllegalStateException("unknown path kind " + path.kind());
      }
    }
    return paths.stream().map(p -> p.addAllHeaders(headers).build()).toList();
  }

  private static HeaderMatcher headerMatcher(HttpRouting.HeaderCondition header) {
    HeaderMatcher.Builder matcher = HeaderMatcher.newBuilder().setName(header.name().toLowerCase(Locale.ROOT));
    switch (header.kind()) {
      case EXACT -> matcher.setStringMatch(StringMatcher.newBuilder().setExact(header.value()));
      // An empty prefix matches any value, and Envoy refuses an empty prefix: it means "present".
      case PREFIX -> {
        if (header.value().isEmpty()) {
          matcher.setPresentMatch(true);
        } else {
          matcher.setStringMatch(StringMatcher.newBuilder().setPrefix(header.value()));
        }
      }
      case REGEX -> matcher.setStringMatch(StringMatcher.newBuilder().setSafeRegex(regex(header.value())));
      case PRESENT -> matcher.setPresentMatch(true);
      default -> throw new IllegalStateException("unknown header kind " + header.kind());
    }
    return matcher.build();
  }

  private static RegexMatcher regex(String regex) {
    // No engine field: google_re2 is the default and the field is deprecated.
    return RegexMatcher.newBuilder().setRegex(regex).build();
  }

  static RouteAction action(TrafficPlan.Destination destination, Duration timeout, HttpRouting.Retries retries,
      Dialect dialect) {
    RouteAction.Builder action = RouteAction.newBuilder();
    if (destination.isSingleCluster()) {
      action.setCluster(destination.backends().get(0).cluster());
    } else {
      WeightedCluster.Builder weighted = WeightedCluster.newBuilder();
      for (TrafficPlan.Backend backend : destination.backends()) {
        weighted.addClusters(WeightedCluster.ClusterWeight.newBuilder()
            .setName(backend.cluster())
            .setWeight(UInt32Value.of(backend.weight())));
      }
      action.setWeightedClusters(weighted);
    }
    if (timeout == null && dialect == Dialect.ENVOY) {
      // No timeout unless a VirtualService asks for one: Envoy's own default (15 s) would cut
      // long polls, uploads and streams that work without the mesh.
      action.setTimeout(protoDuration(Duration.ZERO));
    }
    if (timeout != null) {
      // 0s turns Envoy's route timeout off, which is what the API promises for 0s.
      action.setTimeout(protoDuration(timeout));
      if (dialect == Dialect.GRPC && !timeout.isZero()) {
        // gRPC ignores the route timeout and takes max_stream_duration as the call's deadline
        // when it is shorter than the application's (gRFC A31); unset means no limit, as 0s does.
        action.setMaxStreamDuration(RouteAction.MaxStreamDuration.newBuilder()
            .setMaxStreamDuration(protoDuration(timeout)));
      }
    }
    if (retries != null && retries.attempts() > 0) {
      List<String> conditions = retries.retryOn().isEmpty()
          ? List.of(DEFAULT_RETRY_ON.split(","))
          : retries.retryOn();
      if (dialect == Dialect.ENVOY) {
        RetryPolicy.Builder policy = RetryPolicy.newBuilder()
            .setRetryOn(String.join(",", conditions))
            .setNumRetries(UInt32Value.of(retries.attempts()));
        if (retries.perTryTimeout() != null && !retries.perTryTimeout().isZero()) {
          policy.setPerTryTimeout(protoDuration(retries.perTryTimeout()));
        }
        action.setRetryPolicy(policy);
      } else {
        String grpcConditions = grpcRetryOn(conditions);
        if (!grpcConditions.isEmpty()) {
          // gRPC ignores per_try_timeout (gRFC A44).
          action.setRetryPolicy(RetryPolicy.newBuilder()
              .setRetryOn(grpcConditions)
              .setNumRetries(UInt32Value.of(retries.attempts())));
        }
      }
    }
    return action.build();
  }

  /**
   * The gRPC status codes that mean what the Envoy conditions mean, as gRPC clients read
   * {@code retry_on} (only status names, gRFC A44): a failed or reset connection and a failing
   * gateway reach a gRPC client as UNAVAILABLE; any server error ({@code 5xx}) also as INTERNAL.
   * A 409 ({@code retriable-4xx}) has no gRPC counterpart. Empty: nothing to retry on.
   */
  static String grpcRetryOn(List<String> envoyConditions) {
    Set<String> codes = new TreeSet<>();
    for (String condition : envoyConditions) {
      switch (condition) {
        case "connect-failure", "refused-stream", "reset", "gateway-error" -> codes.add("unavailable");
        case "5xx" -> {
          codes.add("unavailable");
          codes.add("internal");
        }
        default -> {
          // retriable-4xx and anything else: no gRPC status means the same.
        }
      }
    }
    return String.join(",", codes);
  }

  static com.google.protobuf.Duration protoDuration(Duration duration) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(duration.getSeconds())
        .setNanos(duration.getNano())
        .build();
  }
}
