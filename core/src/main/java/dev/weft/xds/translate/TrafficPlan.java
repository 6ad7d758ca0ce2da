package dev.weft.xds.translate;

import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * Where the traffic of each Service port goes, once the TrafficSplits and VirtualServices of a mesh
 * state are checked against it: the port's default destination (its split as weighted clusters, or
 * its own cluster) and the ordered rules of the VirtualService that owns the port. Everything that
 * cannot be applied is left out with its {@link FieldError}s, and the rest keeps serving.
 *
 * <p>This is also the mesh's validation API: the operator checks a namespace by building its mesh
 * state as the xds-server does and reading {@link #errors(SourceRef)}, so what status says is what
 * the translation does. The rules:
 *
 * <ul>
 *   <li>Resources are taken oldest first ({@link SourceRef} order: creation time, then namespace
 *       and name).
 *   <li>Of several TrafficSplits for one root Service the oldest applies and the others are
 *       refused, even while the oldest cannot be applied itself: a newer split never takes a root
 *       from an older one.
 *   <li>TrafficSplits do not nest: where a backend of one split is the root of another, the older
 *       of the two wins in the same way and the newer one is refused, so creating a split never
 *       changes what an older one does.
 *   <li>A TrafficSplit whose root Service is missing, or that names a missing backend Service, is
 *       left out; where a backend lacks one of the root's ports, it is left out for that port.
 *   <li>A VirtualService is applied whole or not at all: a missing Service or port, an invalid
 *       path, header or regex, or a rule backend that does not exist leaves it out. On each Service
 *       port the oldest VirtualService that can be applied there owns it, and newer ones are
 *       refused on that port; one that cannot be applied blocks nobody.
 * </ul>
 *
 * <p>A split backend (or rule backend without a port) is reached on the port number the request
 * came in on; a backend's explicit port overrides that. Weight-0 backends are dropped (Envoy
 * refuses them in TCP proxies, and they carry no traffic anyway).
 */
public final class TrafficPlan {

  /** Requests go to these clusters, spread by weight (one cluster: all of them). */
  public record Destination(List<Backend> backends) {

    public Destination {
      backends = List.copyOf(backends);
      if (backends.isEmpty()) {
        throw new IllegalArgumentException("a destination needs at least one backend");
      }
    }

    public static Destination of(String cluster) {
      return new Destination(List.of(new Backend(cluster, 1)));
    }

    public boolean isSingleCluster() {
      return backends.size() == 1;
    }
  }

  /** One cluster of a destination with its relative weight (above 0). */
  public record Backend(String cluster, int weight) {}

  /**
   * A checked VirtualService rule for one port: its route name, its matches (any of them; none
   * means every request), its own destination (empty: the port's default) and its timeout and
   * retries (either may be null).
   */
  public record RoutedRule(String name, List<HttpRouting.Match> matches, Optional<Destination> destination,
      Duration timeout, HttpRouting.Retries retries) {

    public RoutedRule {
      matches = List.copyOf(matches);
      Objects.requireNonNull(destination, "destination");
    }
  }

  private record PortKey(ServiceKey service, int port) {}

  private final MeshState state;
  private final Map<PortKey, Destination> splits = new HashMap<>();
  private final Map<PortKey, SourceRef> splitOwners = new HashMap<>();
  private final Map<PortKey, List<RoutedRule>> rules = new HashMap<>();
  private final Map<PortKey, SourceRef> ruleOwners = new HashMap<>();
  private final Map<SourceRef, Set<FieldError>> errors = new LinkedHashMap<>();
  private final Map<SourceRef, Set<SourceRef>> refusedInFavour = new HashMap<>();

  private TrafficPlan(MeshState state) {
    this.state = state;
  }

  /** Checks every TrafficSplit and VirtualService of {@code state} and resolves what applies. */
  public static TrafficPlan of(MeshState state) {
    TrafficPlan plan = new TrafficPlan(state);
    plan.resolveSplits();
    plan.resolveRoutings();
    return plan;
  }

  /** Where requests for this Service port go unless a rule says otherwise. */
  public Destination defaultDestination(ServiceKey service, ServicePort port) {
    Destination split = splits.get(new PortKey(service, port.port()));
    return split != null ? split : Destination.of(ResourceNames.outboundCluster(service, port.port()));
  }

  /** The destination a TrafficSplit gives this Service port, or null when none applies (its own cluster is the default). */
  Destination splitDestination(ServiceKey service, int port) {
    return splits.get(new PortKey(service, port));
  }

  /** The TrafficSplit whose weights are this Service port's default destination, if one applies there. */
  public Optional<SourceRef> split(ServiceKey service, int port) {
    return Optional.ofNullable(splitOwners.get(new PortKey(service, port)));
  }

  /** The rules of the VirtualService that owns this Service port, in declared order; empty if none. */
  public List<RoutedRule> rules(ServiceKey service, int port) {
    return rules.getOrDefault(new PortKey(service, port), List.of());
  }

  /** The VirtualService whose rules apply on this Service port, if one does. */
  public Optional<SourceRef> routing(ServiceKey service, int port) {
    return Optional.ofNullable(ruleOwners.get(new PortKey(service, port)));
  }

  /** Calls {@code action} once for each Service port (Service, port number) a TrafficSplit or a VirtualService applies on. */
  void forEachShapedPort(BiConsumer<ServiceKey, Integer> action) {
    Set<PortKey> shaped = new LinkedHashSet<>(splitOwners.keySet());
    shaped.addAll(ruleOwners.keySet());
    shaped.forEach(key -> action.accept(key.service(), key.port()));
  }

  /**
   * What is wrong with one TrafficSplit or VirtualService of the state, most fundamental first
   * (in {@link FieldError.Reason} order, then as found); empty when it applies as written. A
   * resource with errors is left out, except that a missing port ({@link FieldError.Reason#PORT_MISMATCH})
   * or, for a VirtualService, an older one's claim leaves it out on that port only.
   */
  public List<FieldError> errors(SourceRef source) {
    return errors.getOrDefault(source, Set.of()).stream()
        .sorted(Comparator.comparing(FieldError::reason)).toList();
  }

  /**
   * The newer resources that are refused, wholly or on some port, because {@code source} is older
   * and claims the same thing: the same root Service, a split it would nest with, a Service port.
   * Oldest first.
   */
  public List<SourceRef> refusedInFavourOf(SourceRef source) {
    return List.copyOf(refusedInFavour.getOrDefault(source, Set.of()));
  }

  /** What was left out and why: one rejection per resource with errors, sorted. */
  public List<Rejection> rejections() {
    return errors.keySet().stream().map(source -> new Rejection(source, errors(source))).sorted().toList();
  }

  private void resolveSplits() {
    List<TrafficSplitRule> byAge = new ArrayList<>(state.splits());
    byAge.sort(Comparator.comparing(TrafficSplitRule::source));
    Map<ServiceKey, TrafficSplitRule> oldestByRoot = new HashMap<>();
    for (TrafficSplitRule split : byAge) {
      TrafficSplitRule winner = oldestByRoot.putIfAbsent(split.root(), split);
      if (winner != null) {
        refuse(split.source(), winner.source(), new FieldError("spec.service", FieldError.Reason.CONFLICTED,
            "conflicts with the older TrafficSplit " + name(winner.source()) + " for Service " + winner.root()
            + ", and the oldest one wins; delete one of them or merge their backends into one TrafficSplit"));
      }
    }
    // Only pairs where one's backend is the other's root can nest: look those up instead of
    // comparing every pair (200 splits were 20,000 pairs per state, on every change).
    Map<ServiceKey, List<Integer>> byRoot = new HashMap<>();
    Map<ServiceKey, List<Integer>> byBackend = new HashMap<>();
    for (int i = 0; i < byAge.size(); i++) {
      TrafficSplitRule split = byAge.get(i);
      byRoot.computeIfAbsent(split.root(), k -> new ArrayList<>()).add(i);
      for (WeightedService backend : split.backends()) {
        ServiceKey key = backendKey(split, backend);
        if (key != null) {
          byBackend.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
        }
      }
    }
    for (int newer = 1; newer < byAge.size(); newer++) {
      TrafficSplitRule split = byAge.get(newer);
      Set<Integer> related = new TreeSet<>(byBackend.getOrDefault(split.root(), List.of()));
      for (WeightedService backend : split.backends()) {
        ServiceKey key = backendKey(split, backend);
        if (key != null) {
          related.addAll(byRoot.getOrDefault(key, List.of()));
        }
      }
      // Oldest first, as the errors are recorded in that order.
      for (int older : related) {
        if (older < newer) {
          checkNesting(split, byAge.get(older));
        }
      }
    }
    for (TrafficSplitRule split : byAge) {
      checkReferences(split);
      boolean portsOnly = errors.getOrDefault(split.source(), Set.of()).stream()
          .allMatch(e -> e.reason() == FieldError.Reason.PORT_MISMATCH);
      if (oldestByRoot.get(split.root()) == split && portsOnly) {
        applySplit(split, state.services().get(split.root()));
      }
    }
  }

  /** Refuses {@code newer} where it and {@code older} would nest: one's backend is the other's root. */
  private void checkNesting(TrafficSplitRule newer, TrafficSplitRule older) {
    List<WeightedService> backends = newer.backends();
    for (int i = 0; i < backends.size(); i++) {
      ServiceKey backend = backendKey(newer, backends.get(i));
      if (backend != null && backend.equals(older.root())) {
        refuse(newer.source(), older.source(), new FieldError("spec.backends[" + i + "].service",
            FieldError.Reason.CONFLICTED, "Service " + backend + " is the root of the older TrafficSplit "
            + name(older.source()) + ", and splits do not nest, so the older one applies; name the Services behind "
            + backend.name() + " here instead, or delete one of the two splits"));
      }
    }
    for (int j = 0; j < older.backends().size(); j++) {
      ServiceKey backend = backendKey(older, older.backends().get(j));
      if (backend != null && backend.equals(newer.root())) {
        refuse(newer.source(), older.source(), new FieldError("spec.service", FieldError.Reason.CONFLICTED,
            "Service " + newer.root() + " is a backend of the older TrafficSplit " + name(older.source())
            + " (its spec.backends[" + j + "]), and splits do not nest, so the older one applies; put these backends "
            + "into " + name(older.source()) + " in place of " + newer.root().name()
            + ", or delete one of the two splits"));
      }
    }
  }

  /** A split backend as a Service, or null when it is the root itself (its own endpoints) or unnamed. */
  private static ServiceKey backendKey(TrafficSplitRule split, WeightedService backend) {
    if (backend.service() == null) {
      return null;
    }
    ServiceKey key = split.root().sibling(backend.service());
    return key.equals(split.root()) ? null : key;
  }

  private void checkReferences(TrafficSplitRule split) {
    SourceRef source = split.source();
    Optional<MeshService> root = state.service(split.root());
    ServiceRefs.unresolved(state, split.root(), "spec.service", "point spec.service at an existing Service")
        .ifPresent(e -> add(source, e));
    List<WeightedService> backends = split.backends();
    for (int i = 0; i < backends.size(); i++) {
      WeightedService backend = backends.get(i);
      String field = "spec.backends[" + i + "]";
      HttpRuleChecks.weight(backend, field).ifPresent(e -> add(source, e));
      if (backend.service() == null) {
        add(source, new FieldError(field + ".service", FieldError.Reason.INVALID, "missing; name a Service"));
      } else if (backendKey(split, backend) != null) {
        // The root as its own backend is left to spec.service, so a missing root is reported once.
        ServiceRefs.unresolved(state, split.root().sibling(backend.service()), field + ".service",
            "remove the backend").ifPresent(e -> add(source, e));
      }
    }
    if (!backends.isEmpty() && backends.stream().allMatch(b -> b.weight() == 0)) {
      add(source, new FieldError("spec.backends", FieldError.Reason.INVALID,
          "every weight is 0; give at least one backend a weight above 0"));
    }
    root.ifPresent(r -> checkSplitPorts(split, r));
  }

  /** A backend is reached on the port number the request came in on, so it needs every port of the root. */
  private void checkSplitPorts(TrafficSplitRule split, MeshService root) {
    for (int i = 0; i < split.backends().size(); i++) {
      ServiceKey key = backendKey(split, split.backends().get(i));
      MeshService backend = key == null ? null : state.services().get(key);
      if (backend == null) {
        continue;
      }
      for (ServicePort port : root.ports()) {
        if (backend.port(port.port()).isEmpty()) {
          add(split.source(), new FieldError("spec.backends[" + i + "].service", FieldError.Reason.PORT_MISMATCH,
              "Service " + key + " has no port " + port.port() + ", which the root Service " + root.key()
              + " exposes; its ports are " + ServiceRefs.portList(backend) + "; add port " + port.port() + " to "
              + key.name() + " or remove the backend (until then, port " + port.port() + " of " + root.key()
              + " serves from its own endpoints)"));
        }
      }
    }
  }

  private void applySplit(TrafficSplitRule split, MeshService root) {
    for (ServicePort port : root.ports()) {
      if (!backendsHavePort(root.key(), port, split.backends())) {
        continue;
      }
      destination(root.key(), port, split.backends()).ifPresent(destination -> {
        PortKey key = new PortKey(root.key(), port.port());
        splits.put(key, destination);
        splitOwners.put(key, split.source());
      });
    }
  }

  private boolean backendsHavePort(ServiceKey root, ServicePort port, List<WeightedService> backends) {
    for (WeightedService backend : backends) {
      int target = backend.port() != 0 ? backend.port() : port.port();
      if (state.services().get(root.sibling(backend.service())).port(target).isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /**
   * The backends, which exist and have the port, as clusters for requests that came in on
   * {@code port} of {@code root}; empty when every weight is 0.
   */
  private static Optional<Destination> destination(ServiceKey root, ServicePort port, List<WeightedService> backends) {
    Map<String, Integer> weights = new LinkedHashMap<>();
    for (WeightedService backend : backends) {
      int target = backend.port() != 0 ? backend.port() : port.port();
      if (backend.weight() > 0) {
        weights.merge(ResourceNames.outboundCluster(root.sibling(backend.service()), target), backend.weight(),
            Integer::sum);
      }
    }
    if (weights.isEmpty()) {
      return Optional.empty();
    }
    List<Backend> list = new ArrayList<>();
    weights.forEach((cluster, weight) -> list.add(new Backend(cluster, weight)));
    return Optional.of(new Destination(list));
  }

  private void resolveRoutings() {
    List<HttpRouting> byAge = new ArrayList<>(state.routings());
    byAge.sort(Comparator.comparing(HttpRouting::source));
    for (HttpRouting routing : byAge) {
      resolveRouting(routing);
    }
  }

  private void resolveRouting(HttpRouting routing) {
    SourceRef source = routing.source();
    for (int i = 0; i < routing.rules().size(); i++) {
      HttpRuleChecks.rule(routing.rules().get(i), "spec.rules[" + i + "]").forEach(e -> add(source, e));
    }
    Optional<MeshService> found = state.service(routing.service());
    ServiceRefs.unresolved(state, routing.service(), "spec.service", "point spec.service at an existing Service")
        .ifPresent(e -> add(source, e));
    for (int i = 0; i < routing.rules().size(); i++) {
      List<WeightedService> backends = routing.rules().get(i).backends();
      for (int j = 0; j < backends.size(); j++) {
        String field = "spec.rules[" + i + "].backends[" + j + "].service";
        if (backends.get(j).service() == null) {
          add(source, new FieldError(field, FieldError.Reason.INVALID, "missing; name a Service"));
        } else {
          ServiceRefs.unresolved(state, routing.service().sibling(backends.get(j).service()), field,
              "remove the backend").ifPresent(e -> add(source, e));
        }
      }
    }
    if (found.isEmpty()) {
      return;
    }
    MeshService service = found.get();
    List<ServicePort> ports = targetPorts(routing, service);
    List<ServicePort> usable = new ArrayList<>();
    for (ServicePort port : ports) {
      if (backendPortsResolve(routing, service, port)) {
        usable.add(port);
      }
    }
    boolean whole = errors.getOrDefault(source, Set.of()).stream().noneMatch(e ->
        e.reason() == FieldError.Reason.INVALID || e.reason() == FieldError.Reason.SERVICE_NOT_FOUND);
    Map<SourceRef, List<Integer>> lostTo = new TreeMap<>();
    List<ServicePort> claimed = new ArrayList<>();
    for (ServicePort port : ports) {
      SourceRef owner = ruleOwners.get(new PortKey(service.key(), port.port()));
      if (owner != null) {
        lostTo.computeIfAbsent(owner, k -> new ArrayList<>()).add(port.port());
      } else if (whole && usable.contains(port)) {
        claimed.add(port);
      }
    }
    String stillApplies = claimed.isEmpty() ? ""
        : " (on " + portWords(claimed.stream().map(ServicePort::port).toList()) + " its rules still apply)";
    lostTo.forEach((owner, lost) -> refuse(source, owner, new FieldError("spec.service", FieldError.Reason.CONFLICTED,
        "conflicts on " + portWords(lost) + " of Service " + service.key() + " with the older VirtualService "
        + name(owner) + ", and the oldest one wins; merge the rules into one VirtualService" + stillApplies)));
    for (ServicePort port : claimed) {
      PortKey key = new PortKey(service.key(), port.port());
      rules.put(key, routedRules(routing, port));
      ruleOwners.put(key, source);
    }
  }

  /** The HTTP ports of the Service that the rules apply to; an error when there are none. */
  private List<ServicePort> targetPorts(HttpRouting routing, MeshService service) {
    SourceRef source = routing.source();
    if (routing.port() == 0) {
      List<ServicePort> http = service.ports().stream().filter(p -> p.protocol().isHttp()).toList();
      if (http.isEmpty()) {
        add(source, new FieldError("spec.service", FieldError.Reason.UNSUPPORTED_PROTOCOL, "Service " + service.key()
            + " has no HTTP port, so HTTP rules cannot apply; declare a port's protocol (appProtocol: http, or a "
            + "port name starting with http-) or remove this VirtualService"));
      }
      return http;
    }
    Optional<ServicePort> port = service.port(routing.port());
    if (port.isEmpty()) {
      add(source, new FieldError("spec.port", FieldError.Reason.PORT_MISMATCH, "Service " + service.key()
          + " has no port " + routing.port() + "; use one of its ports " + ServiceRefs.portList(service)
          + " or leave spec.port unset"));
      return List.of();
    }
    if (!port.get().protocol().isHttp()) {
      add(source, new FieldError("spec.port", FieldError.Reason.UNSUPPORTED_PROTOCOL, "port " + routing.port()
          + " of Service " + service.key() + " is TCP, so HTTP rules cannot apply; declare its protocol "
          + "(appProtocol: http, or a port name starting with http-) or pick an HTTP port"));
      return List.of();
    }
    return List.of(port.get());
  }

  /**
   * Whether every existing rule backend has the port it is reached on for requests on {@code port}:
   * its own port if set, else the same number. Adds an error for each one that lacks it.
   */
  private boolean backendPortsResolve(HttpRouting routing, MeshService service, ServicePort port) {
    boolean resolved = true;
    for (int i = 0; i < routing.rules().size(); i++) {
      List<WeightedService> backends = routing.rules().get(i).backends();
      for (int j = 0; j < backends.size(); j++) {
        WeightedService backend = backends.get(j);
        MeshService target = backend.service() == null ? null
            : state.services().get(service.key().sibling(backend.service()));
        if (target == null) {
          continue; // reported as not found
        }
        String field = "spec.rules[" + i + "].backends[" + j + "]";
        Optional<FieldError> missing;
        if (backend.port() != 0) {
          missing = ServiceRefs.missingPort(target, backend.port(), field + ".port", "add the port to "
              + backend.service() + " or name one of its ports");
        } else if (target.port(port.port()).isEmpty()) {
          missing = Optional.of(new FieldError(field + ".service", FieldError.Reason.PORT_MISMATCH, "Service "
              + target.key() + " has no port " + port.port() + " (the port requests for " + service.key()
              + " come in on); its ports are " + ServiceRefs.portList(target) + "; add the port to "
              + backend.service() + ", set the backend's port, or remove the backend (until then, the rules do not "
              + "apply on that port)"));
        } else {
          missing = Optional.empty();
        }
        if (missing.isPresent()) {
          add(routing.source(), missing.get());
          resolved = false;
        }
      }
    }
    return resolved;
  }

  private List<RoutedRule> routedRules(HttpRouting routing, ServicePort port) {
    SourceRef source = routing.source();
    List<RoutedRule> routed = new ArrayList<>();
    for (int i = 0; i < routing.rules().size(); i++) {
      HttpRouting.Rule rule = routing.rules().get(i);
      Optional<Destination> destination = rule.backends().isEmpty()
          ? Optional.empty() : destination(routing.service(), port, rule.backends());
      String name = source.namespace() + "/" + source.name() + "/"
          + (rule.name().isEmpty() ? "rules[" + i + "]" : rule.name());
      routed.add(new RoutedRule(name, rule.matches(), destination, rule.timeout(), rule.retries()));
    }
    return List.copyOf(routed);
  }

  private static String portWords(List<Integer> ports) {
    return (ports.size() == 1 ? "port " : "ports ") + ports.stream().map(String::valueOf)
        .collect(Collectors.joining(", "));
  }

  private static String name(SourceRef source) {
    return source.namespace() + "/" + source.name();
  }

  private void refuse(SourceRef newer, SourceRef older, FieldError error) {
    add(newer, error);
    refusedInFavour.computeIfAbsent(older, k -> new TreeSet<>()).add(newer);
  }

  private void add(SourceRef source, FieldError error) {
    errors.computeIfAbsent(source, k -> new LinkedHashSet<>()).add(error);
  }
}
