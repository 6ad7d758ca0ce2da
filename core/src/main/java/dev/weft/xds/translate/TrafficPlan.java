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
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Where the traffic of each Service port goes, once the TrafficSplits and VirtualServices of a mesh
 * state are checked against it: the port's default destination (its split as weighted clusters, or
 * its own cluster) and the ordered rules of the VirtualService that owns the port. Everything that
 * cannot be applied is left out with a {@link Rejection}, and the rest keeps serving:
 *
 * <ul>
 *   <li>A TrafficSplit whose root Service is missing, or that names a missing backend Service, is
 *       left out; where a backend lacks one of the root's ports, it is left out for that port.
 *       Of several TrafficSplits for one root the oldest wins and the others are rejected.
 *   <li>A VirtualService is applied whole or not at all: a missing Service or port, an invalid
 *       path, header or regex, or a rule backend that does not exist rejects it. Of several for one
 *       Service port the oldest wins on that port.
 * </ul>
 *
 * <p>A split backend (or rule backend without a port) is reached on the port number the request
 * came in on; a backend's explicit port overrides that. Weight-0 backends are dropped (Envoy
 * refuses them in TCP proxies, and they carry no traffic anyway).
 */
public final class TrafficPlan {

  /** Envoy's retry_on names that the mesh passes through (Envoy ignores names it does not know). */
  static final Set<String> RETRY_ON_NAMES = Set.of("5xx", "gateway-error", "reset", "reset-before-request",
      "connect-failure", "envoy-ratelimited", "retriable-4xx", "refused-stream", "retriable-status-codes",
      "retriable-headers", "http3-post-connect-failure", "cancelled", "deadline-exceeded", "internal",
      "resource-exhausted", "unavailable");
  /** Longer timeouts are almost certainly a typo; 0s is how to turn a timeout off. */
  static final Duration MAX_TIMEOUT = Duration.ofDays(365);
  static final int MAX_WEIGHT = 10_000;

  private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]+");
  private static final Pattern METHOD = Pattern.compile("[A-Z]+");

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
  private final Map<PortKey, List<RoutedRule>> rules = new HashMap<>();
  private final Map<PortKey, SourceRef> ruleOwners = new HashMap<>();
  private final List<Rejection> rejections = new ArrayList<>();

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

  /** The rules of the VirtualService that owns this Service port, in declared order; empty if none. */
  public List<RoutedRule> rules(ServiceKey service, int port) {
    return rules.getOrDefault(new PortKey(service, port), List.of());
  }

  /** What was left out and why, sorted, without repeats. */
  public List<Rejection> rejections() {
    return rejections.stream().distinct().sorted().toList();
  }

  private void resolveSplits() {
    Map<ServiceKey, List<TrafficSplitRule>> byRoot = new TreeMap<>();
    for (TrafficSplitRule split : state.splits()) {
      if (state.service(split.root()).isEmpty()) {
        reject(split.source(), "spec.service: Service " + split.root() + " does not exist; create it or "
            + "point spec.service at an existing Service");
        continue;
      }
      byRoot.computeIfAbsent(split.root(), k -> new ArrayList<>()).add(split);
    }
    for (List<TrafficSplitRule> contenders : byRoot.values()) {
      contenders.sort(Comparator.comparing(TrafficSplitRule::source));
      TrafficSplitRule winner = contenders.get(0);
      for (TrafficSplitRule loser : contenders.subList(1, contenders.size())) {
        reject(loser.source(), "spec.service: conflicts with the older TrafficSplit " + winner.source().namespace()
            + "/" + winner.source().name() + " for Service " + winner.root() + ", and the oldest one wins; "
            + "delete one of them or merge their backends into one TrafficSplit");
      }
      applySplit(winner, state.services().get(winner.root()));
    }
  }

  private void applySplit(TrafficSplitRule split, MeshService root) {
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < split.backends().size(); i++) {
      WeightedService backend = split.backends().get(i);
      String field = "spec.backends[" + i + "]";
      checkWeight(backend, field, problems);
      if (backend.service() == null || state.service(root.key().sibling(backend.service())).isEmpty()) {
        problems.add(field + ".service: Service " + root.key().namespace() + "/" + backend.service()
            + " does not exist; create it or remove the backend");
      }
    }
    if (!problems.isEmpty()) {
      reject(split.source(), String.join("; ", problems));
      return;
    }
    for (ServicePort port : root.ports()) {
      List<String> portProblems = new ArrayList<>();
      Optional<Destination> destination = resolve(root.key(), port, split.backends(), "spec.backends", false,
          portProblems);
      if (!portProblems.isEmpty()) {
        reject(split.source(), String.join("; ", portProblems) + "; until then port " + port.port() + " of "
            + root.key() + " serves from its own endpoints");
      } else if (destination.isEmpty()) {
        reject(split.source(), "spec.backends: every weight is 0; give at least one backend a weight above 0");
      } else {
        splits.put(new PortKey(root.key(), port.port()), destination.get());
      }
    }
  }

  /**
   * The backends as clusters for requests that came in on {@code port} of {@code root}; empty when
   * every weight is 0. Adds a problem for each backend that lacks the port; {@code portSettable}
   * says whether the fix may be to name a port (VirtualService backends have one, TrafficSplit's do not).
   */
  private Optional<Destination> resolve(ServiceKey root, ServicePort port, List<WeightedService> backends,
      String field, boolean portSettable, List<String> problems) {
    Map<String, Integer> weights = new LinkedHashMap<>();
    for (int i = 0; i < backends.size(); i++) {
      WeightedService backend = backends.get(i);
      ServiceKey key = root.sibling(backend.service());
      int target = backend.port() != 0 ? backend.port() : port.port();
      MeshService service = state.services().get(key);
      if (service.port(target).isEmpty()) {
        String ports = service.ports().stream().map(p -> String.valueOf(p.port())).collect(Collectors.joining(", "));
        problems.add(field + "[" + i + "]" + (backend.port() != 0 ? ".port" : ".service") + ": Service " + key
            + " has no port " + target + (backend.port() != 0 ? "" : " (the port requests for " + root
            + " come in on)") + "; its ports are [" + ports + "]; add the port to " + key.name()
            + (backend.port() != 0 ? " or name one of its ports"
            : portSettable ? ", set the backend's port, or remove the backend" : " or remove the backend"));
        continue;
      }
      if (backend.weight() > 0) {
        weights.merge(ResourceNames.outboundCluster(key, target), backend.weight(), Integer::sum);
      }
    }
    if (!problems.isEmpty() || weights.isEmpty()) {
      return Optional.empty();
    }
    List<Backend> list = new ArrayList<>();
    weights.forEach((cluster, weight) -> list.add(new Backend(cluster, weight)));
    return Optional.of(new Destination(list));
  }

  private static void checkWeight(WeightedService backend, String field, List<String> problems) {
    if (backend.weight() < 0 || backend.weight() > MAX_WEIGHT) {
      problems.add(field + ".weight: " + backend.weight() + " is out of range; use 0 to " + MAX_WEIGHT);
    }
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
    Optional<MeshService> found = state.service(routing.service());
    if (found.isEmpty()) {
      reject(source, "spec.service: Service " + routing.service() + " does not exist; create it or point "
          + "spec.service at an existing Service");
      return;
    }
    MeshService service = found.get();
    List<ServicePort> ports;
    if (routing.port() == 0) {
      ports = service.ports().stream().filter(p -> p.protocol().isHttp()).toList();
      if (ports.isEmpty()) {
        reject(source, "spec.service: Service " + service.key() + " has no HTTP port, so HTTP rules cannot "
            + "apply; declare a port's protocol (appProtocol: http, or a port name starting with http-) or "
            + "remove this VirtualService");
        return;
      }
    } else {
      Optional<ServicePort> port = service.port(routing.port());
      if (port.isEmpty()) {
        reject(source, "spec.port: Service " + service.key() + " has no port " + routing.port() + "; use one "
            + "of its ports " + portList(service) + " or leave spec.port unset");
        return;
      }
      if (!port.get().protocol().isHttp()) {
        reject(source, "spec.port: port " + routing.port() + " of Service " + service.key() + " is TCP, so "
            + "HTTP rules cannot apply; declare its protocol (appProtocol: http, or a port name starting with "
            + "http-) or pick an HTTP port");
        return;
      }
      ports = List.of(port.get());
    }
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < routing.rules().size(); i++) {
      checkRule(service.key(), routing.rules().get(i), "spec.rules[" + i + "]", problems);
    }
    if (!problems.isEmpty()) {
      reject(source, String.join("; ", problems));
      return;
    }
    for (ServicePort port : ports) {
      PortKey key = new PortKey(service.key(), port.port());
      SourceRef owner = ruleOwners.get(key);
      if (owner != null) {
        reject(source, "spec.service: conflicts on port " + port.port() + " of Service " + service.key()
            + " with the older VirtualService " + owner.namespace() + "/" + owner.name() + ", and the oldest "
            + "one wins; merge the rules into one VirtualService");
        continue;
      }
      List<String> portProblems = new ArrayList<>();
      List<RoutedRule> routed = new ArrayList<>();
      for (int i = 0; i < routing.rules().size(); i++) {
        HttpRouting.Rule rule = routing.rules().get(i);
        String field = "spec.rules[" + i + "].backends";
        Optional<Destination> destination = Optional.empty();
        if (!rule.backends().isEmpty()) {
          int before = portProblems.size();
          destination = resolve(service.key(), port, rule.backends(), field, true, portProblems);
          if (destination.isEmpty() && portProblems.size() == before) {
            portProblems.add(field + ": every weight is 0; give at least one backend a weight above 0, or "
                + "remove the backends to use the Service itself");
          }
        }
        String name = source.namespace() + "/" + source.name() + "/"
            + (rule.name().isEmpty() ? "rules[" + i + "]" : rule.name());
        routed.add(new RoutedRule(name, rule.matches(), destination, rule.timeout(), rule.retries()));
      }
      if (!portProblems.isEmpty()) {
        reject(source, String.join("; ", portProblems) + "; until then port " + port.port() + " of "
            + service.key() + " is routed as if there were no VirtualService");
        continue;
      }
      rules.put(key, List.copyOf(routed));
      ruleOwners.put(key, source);
    }
  }

  private void checkRule(ServiceKey service, HttpRouting.Rule rule, String field, List<String> problems) {
    for (int i = 0; i < rule.matches().size(); i++) {
      checkMatch(rule.matches().get(i), field + ".matches[" + i + "]", problems);
    }
    for (int i = 0; i < rule.backends().size(); i++) {
      WeightedService backend = rule.backends().get(i);
      String backendField = field + ".backends[" + i + "]";
      checkWeight(backend, backendField, problems);
      if (backend.service() == null || state.service(service.sibling(backend.service())).isEmpty()) {
        problems.add(backendField + ".service: Service " + service.namespace() + "/" + backend.service()
            + " does not exist; create it or remove the backend");
      }
    }
    checkDuration(rule.timeout(), field + ".timeout", problems);
    HttpRouting.Retries retries = rule.retries();
    if (retries != null) {
      if (retries.attempts() < 0) {
        problems.add(field + ".retries.attempts: " + retries.attempts() + " is negative; use 0 (no retries) to 10");
      }
      checkDuration(retries.perTryTimeout(), field + ".retries.perTryTimeout", problems);
      for (int i = 0; i < retries.retryOn().size(); i++) {
        String name = retries.retryOn().get(i);
        if (!RETRY_ON_NAMES.contains(name)) {
          problems.add(field + ".retries.retryOn[" + i + "]: '" + name + "' is not a retry condition Envoy "
              + "knows; use one of 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream");
        }
      }
    }
  }

  private static void checkDuration(Duration duration, String field, List<String> problems) {
    if (duration == null) {
      return;
    }
    if (duration.isNegative()) {
      problems.add(field + ": " + duration + " is negative; use a positive duration such as 2s, or 0s to turn it off");
    } else if (duration.compareTo(MAX_TIMEOUT) > 0) {
      problems.add(field + ": " + duration + " is longer than " + MAX_TIMEOUT.toHours() + "h; use a shorter "
          + "duration, or 0s to turn the timeout off");
    }
  }

  private static void checkMatch(HttpRouting.Match match, String field, List<String> problems) {
    HttpRouting.PathCondition path = match.path();
    if (path != null) {
      checkPath(path, field + ".path.value", problems);
    }
    for (int i = 0; i < match.headers().size(); i++) {
      checkHeader(match.headers().get(i), field + ".headers[" + i + "]", problems);
    }
    if (match.method() != null && !METHOD.matcher(match.method()).matches()) {
      problems.add(field + ".method: '" + match.method() + "' is not an HTTP method; use GET, HEAD, POST, PUT, "
          + "DELETE, CONNECT, OPTIONS, TRACE or PATCH");
    }
  }

  private static void checkPath(HttpRouting.PathCondition path, String field, List<String> problems) {
    String value = path.value();
    if (path.kind() == null || value == null) {
      problems.add(field + ": a path condition needs a type and a value");
      return;
    }
    if (path.kind() == HttpRouting.PathKind.REGEX) {
      Re2Syntax.problem(value).ifPresent(p -> problems.add(field + ": " + p));
      return;
    }
    if (!value.startsWith("/")) {
      problems.add(field + ": '" + value + "' must start with '/', e.g. /api/v2");
    } else if (value.indexOf('?') >= 0 || value.indexOf('#') >= 0) {
      problems.add(field + ": '" + value + "' contains '?' or '#', which never match (paths are compared "
          + "without the query string); remove them, or use a header match for query-like conditions");
    } else if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      problems.add(field + ": contains a control character; paths are printable text");
    } else if (path.kind() == HttpRouting.PathKind.PREFIX && value.length() > 1 && value.endsWith("/")) {
      problems.add(field + ": the prefix '" + value + "' ends with '/'; a prefix matches whole segments, so write "
          + value.replaceAll("/+$", "") + " (it matches " + value.replaceAll("/+$", "") + " and everything below)");
    }
  }

  private static void checkHeader(HttpRouting.HeaderCondition header, String field, List<String> problems) {
    if (header.name() == null || !HEADER_NAME.matcher(header.name()).matches()) {
      problems.add(field + ".name: '" + header.name() + "' is not a header name; use letters, digits and "
          + "!#$%&'*+.^_`|~-, e.g. x-canary");
    }
    if (header.kind() == null) {
      problems.add(field + ".type: missing; use Exact, Prefix, RegularExpression or Present");
      return;
    }
    if (header.kind() == HttpRouting.HeaderKind.PRESENT) {
      return;
    }
    if (header.value() == null) {
      problems.add(field + ".value: required for type " + header.kind() + "; add a value or use type Present");
    } else if (header.kind() == HttpRouting.HeaderKind.REGEX) {
      Re2Syntax.problem(header.value()).ifPresent(p -> problems.add(field + ".value: " + p));
    }
  }

  private static String portList(MeshService service) {
    return service.ports().stream().map(p -> String.valueOf(p.port())).collect(Collectors.joining(", ", "[", "]"));
  }

  private void reject(SourceRef source, String reason) {
    rejections.add(new Rejection(source, reason));
  }
}
