package dev.weft.xds.translate;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Mesh states within the API's schema bounds (docs/api.md), drawn from a seeded {@link Random}:
 * Services with one to three ports of mixed protocols (some headless, some IPv6), endpoints in
 * every readiness state and zone, TrafficSplits (self-backends, zero weights, missing backends,
 * conflicts) and VirtualServices with every match kind (regexes of all RE2 syntax, some grown to just
 * under Envoy's program size limit, some that Envoy or RE2 refuse), backends on explicit ports,
 * timeouts and retries. Per state three groups: an iptables sidecar, a local-mode sidecar and a proxyless client.
 */
public final class RandomMeshes {

  private static final List<String> NAMESPACES = List.of("shop", "web", "ops");
  private static final List<String> NAMES = List.of("payments", "payments-v1", "payments-v2", "cart", "db",
      "search", "a", "api-gateway", "grpc-echo", "cache", "x" + "y".repeat(61));
  private static final int[] PORTS = {80, 8080, 9090, 443, 5432, 6379, 3000, 15001, 50051};
  private static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
      "OPTIONS", "TRACE", "PATCH");
  private static final List<String> RETRY_ON = List.of("5xx", "gateway-error", "reset", "connect-failure",
      "retriable-4xx", "refused-stream");
  private static final List<String> REGEXES = List.of("/v[0-9]+/.*", "^/(foo|bar)/\\d+$", ".*",
      "(?i)/users/[a-z0-9-]{3,16}", "[^/]+", "/items/\\d{1,6}", "/a\\.b|/c\\?d", "(?P<id>[0-9a-f]{8})",
      "[[:alpha:]]+-[[:digit:]]*", "\\w+@\\w+\\.com", "/é/ü+", "prod|stage|dev", "\\A/x\\z", "(?s:.)+",
      "[\\x41-\\x5a]{2}", "/" + "z".repeat(90),
      // RE2 that Weft's own parser used to refuse.
      "\\pL+", "/\\p{Greek}+/\\d+", "\\Q/api/v1.0/\\E.*", "(?<id>[0-9a-f]{8})", "x{,5}", "[\\p{Lu}\\p{Nd}]+",
      "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", "(?i)^mozilla/5\\.0 .*(iphone|android).*$",
      "\\x{e9}t\\x{E9}", "/\\012\\377", "(?U)a+b*", "[\\p{^Latin}\\PN]", "日本+", "😀{2}");
  private static final List<String> REGEX_ATOMS = List.of("a", "b", "/", "\\.", "\\d", "\\D", "\\w", "\\W",
      "\\s", "\\S", ".", "é", "[a-z]", "[a-z0-9_-]", "[^/]", "[^a-f0-9]", "[[:alpha:]]", "[[:punct:]]", "[\\w.]",
      "[é-ü]", "[^é]", "\\x41", "(?i)k", "x", "\\-", "[]a]", "(?s:.)",
      "\\pL", "\\PL", "\\pN", "\\p{Greek}", "\\p{^Latin}", "[\\pL\\pN_-]", "\\p{Lu}", "\\Q.*+\\E", "\\Q日\\E",
      "\\x{e9}", "\\x{FF}", "\\012", "\\377", "\\v", "[acegikmoqsuwy]", "[^aeiou]", "日", "😀", "(?i:é)",
      "[[:word:]]", "\\b", "[\\x00-\\xff]");
  /** Outside what Weft accepts (some not RE2, some not for Envoy); they must be rejected before Envoy sees them. */
  private static final List<String> BAD_REGEXES = List.of("(?=x)", "(a)\\1", "a{2000}", "[z-a]", "\\x{100}",
      "\\p{Unknown}", "\\é", "\\400", "/" + "x".repeat(150), "a**", "(unclosed", "(?i)[a-z]{40}[0-9]{60}",
      "(?:[acegikmoqsuwy]+?){0,8}");
  private static final List<String> PATHS = List.of("/", "/api", "/api/v1", "/a-b_c.d~e", "/%20x",
      "/with space", "/ünïcode", "/x:y", "/api/v1/items", "/" + "p".repeat(1000));
  /** Outside what Envoy can match; they must be rejected. */
  private static final List<String> BAD_PATHS = List.of("relative", "/trailing/", "/q?x=1", "/frag#x");
  private static final List<String> HEADERS = List.of("x-canary", "X-User", "user-agent", "x_weird~name",
      "accept", "host", "content-type", "x-b3-traceid", "h".repeat(256));
  private static final List<String> VALUES = List.of("true", "", "a b", "Mozilla/5.0", "\"quoted\"", "日本",
      "v".repeat(4096));

  private final Random random;
  private int addresses;

  public RandomMeshes(long seed) {
    this.random = new Random(seed);
  }

  public MeshState state() {
    List<String> namespaces = pick(NAMESPACES, 1 + random.nextInt(3));
    Map<ServiceKey, MeshService> services = new LinkedHashMap<>();
    for (String namespace : namespaces) {
      // Versions of one app share their ports, which is what makes splits and rule backends resolve.
      List<ServicePort> shared = ports();
      for (String name : pick(NAMES, 1 + random.nextInt(6))) {
        ServiceKey key = new ServiceKey(namespace, name);
        services.put(key, service(key, random.nextInt(4) == 0 ? ports() : shared));
      }
    }
    List<TrafficSplitRule> splits = new ArrayList<>();
    List<HttpRouting> routings = new ArrayList<>();
    int n = 0;
    for (String namespace : namespaces) {
      List<MeshService> local = services.values().stream()
          .filter(s -> s.key().namespace().equals(namespace)).toList();
      for (int i = random.nextInt(4); i > 0; i--) {
        splits.add(split(namespace, local, n++));
      }
      for (int i = random.nextInt(4); i > 0; i--) {
        routings.add(routing(namespace, local, n++));
      }
    }
    // Derived from the names, not drawn, so that the rest of a seed's mesh stays what it was.
    Set<String> permissive = new LinkedHashSet<>();
    services.keySet().forEach(k -> {
      if (Math.floorMod(k.namespace().hashCode(), 2) == 1) {
        permissive.add(k.namespace());
      }
    });
    return new MeshState(services, splits, routings, Set.of(), permissive);
  }

  /** The same groups, the sidecars among them with an identity whose SDS files are in {@code sdsDirectory}. */
  public static List<ProxyGroup> withIdentity(List<ProxyGroup> groups, String sdsDirectory) {
    return groups.stream().map(g -> g.kind() == ProxyGroup.Kind.SIDECAR
        ? new ProxyGroup(g.kind(), g.namespace(), g.serviceAccount(), g.inboundAddress(), g.appPorts(), sdsDirectory)
        : g).toList();
  }

  /** Every kind and mode of proxy group (iptables and local sidecars, proxyless) in every namespace. */
  public List<ProxyGroup> groups(MeshState state) {
    Set<String> namespaces = new LinkedHashSet<>();
    state.services().keySet().forEach(k -> namespaces.add(k.namespace()));
    namespaces.add("client-only");
    List<ProxyGroup> groups = new ArrayList<>();
    for (String namespace : namespaces) {
      List<Integer> appPorts = new ArrayList<>();
      for (int i = random.nextInt(3); i > 0; i--) {
        appPorts.add(random.nextInt(10) == 0 ? 15001 : 1024 + random.nextInt(60000));
      }
      groups.add(new ProxyGroup(ProxyGroup.Kind.SIDECAR, namespace, "sa-iptables", "0.0.0.0", appPorts));
      groups.add(new ProxyGroup(ProxyGroup.Kind.SIDECAR, namespace, "sa-local", "127.0.0." + (2 + random.nextInt(200)),
          appPorts));
      groups.add(new ProxyGroup(ProxyGroup.Kind.PROXYLESS_GRPC, namespace, "sa-grpc", null, List.of()));
    }
    return groups;
  }

  /** An iptables sidecar, a local-mode sidecar and a proxyless client, each in a random namespace. */
  public List<ProxyGroup> sampleGroups(MeshState state) {
    Set<String> namespaces = new LinkedHashSet<>();
    state.services().keySet().forEach(k -> namespaces.add(k.namespace()));
    namespaces.add("client-only");
    List<String> all = List.copyOf(namespaces);
    return List.of(
        new ProxyGroup(ProxyGroup.Kind.SIDECAR, any(all), "sa-iptables", "0.0.0.0", appPorts()),
        new ProxyGroup(ProxyGroup.Kind.SIDECAR, any(all), "sa-local", random.nextInt(10) == 0
            ? "fd00:1::" + Integer.toHexString(1 + random.nextInt(500))
            : "127.0.0." + (2 + random.nextInt(200)), appPorts()),
        new ProxyGroup(ProxyGroup.Kind.PROXYLESS_GRPC, any(all), "sa-grpc", null, List.of()));
  }

  private List<Integer> appPorts() {
    List<Integer> ports = new ArrayList<>();
    for (int i = random.nextInt(4); i > 0; i--) {
      ports.add(random.nextInt(10) == 0 ? 15001 : 1 + random.nextInt(65535));
    }
    return ports;
  }

  private MeshService service(ServiceKey key, List<ServicePort> ports) {
    int kind = random.nextInt(20);
    String clusterIp = kind < 3 ? "" : kind == 3 ? "fd00::" + Integer.toHexString(++addresses)
        : "10.96." + (addresses / 250) + "." + (1 + addresses++ % 250);
    List<Endpoint> endpoints = new ArrayList<>();
    for (ServicePort port : ports) {
      for (int i = random.nextInt(6); i > 0; i--) {
        Endpoint.Readiness readiness = Endpoint.Readiness.values()[random.nextInt(3)];
        String address = random.nextInt(15) == 0 ? "fd00:244::" + Integer.toHexString(random.nextInt(4000))
            : "10.244." + random.nextInt(4) + "." + (1 + random.nextInt(250));
        int target = 1 + random.nextInt(65535);
        // Meshed or not, and as whom, derived rather than drawn: the rest of a seed's mesh stays as it was.
        int who = Math.floorMod((address + target).hashCode(), 4);
        endpoints.add(new Endpoint(address, target, port.name(), readiness,
            List.of("", "zone-a", "zone-b", "us-east-1c").get(random.nextInt(4)), who == 0 ? "" : "sa-" + who));
      }
    }
    return new MeshService(key, clusterIp, ports, endpoints);
  }

  private List<ServicePort> ports() {
    List<ServicePort> ports = new ArrayList<>();
    Set<Integer> numbers = new LinkedHashSet<>();
    for (int i = 1 + random.nextInt(3); i > 0; i--) {
      numbers.add(random.nextInt(8) == 0 ? 1 + random.nextInt(65535) : PORTS[random.nextInt(PORTS.length)]);
    }
    for (int number : numbers) {
      Protocol protocol = Protocol.values()[random.nextInt(Protocol.values().length)];
      String name = numbers.size() == 1 && random.nextBoolean() ? "" : protocol.name().toLowerCase() + "-" + number;
      ports.add(new ServicePort(name, number, protocol));
    }
    return ports;
  }

  private TrafficSplitRule split(String namespace, List<MeshService> local, int n) {
    MeshService root = local.get(random.nextInt(local.size()));
    List<String> names = new ArrayList<>(local.stream().map(s -> s.key().name()).toList());
    if (random.nextInt(8) == 0) {
      names.add("missing-svc");
    }
    List<WeightedService> backends = new ArrayList<>();
    for (String name : pick(names, 1 + random.nextInt(Math.min(16, names.size())))) {
      backends.add(new WeightedService(name, weight()));
    }
    if (backends.stream().allMatch(b -> b.weight() == 0)) {
      WeightedService first = backends.remove(0);
      backends.add(0, new WeightedService(first.service(), 1 + random.nextInt(100)));
    }
    return new TrafficSplitRule(source("TrafficSplit", namespace, n), root.key(), backends);
  }

  private HttpRouting routing(String namespace, List<MeshService> local, int n) {
    MeshService service = local.get(random.nextInt(local.size()));
    int port = random.nextBoolean() ? 0 : service.ports().get(random.nextInt(service.ports().size())).port();
    List<HttpRouting.Rule> rules = new ArrayList<>();
    for (int i = 1 + random.nextInt(6); i > 0; i--) {
      rules.add(rule(local, i));
    }
    return new HttpRouting(source("VirtualService", namespace, n), service.key(), port, rules);
  }

  private HttpRouting.Rule rule(List<MeshService> local, int index) {
    List<HttpRouting.Match> matches = new ArrayList<>();
    for (int i = random.nextInt(5); i > 0; i--) {
      matches.add(match());
    }
    List<WeightedService> backends = new ArrayList<>();
    for (MeshService backend : pick(local, random.nextInt(Math.min(4, local.size()) + 1))) {
      int port = random.nextInt(3) == 0 ? backend.ports().get(random.nextInt(backend.ports().size())).port() : 0;
      backends.add(new WeightedService(backend.key().name(), port, random.nextInt(4) == 0 ? 1 : weight()));
    }
    Duration timeout = switch (random.nextInt(5)) {
      case 0 -> null;
      case 1 -> Duration.ZERO;
      case 2 -> Duration.ofHours(1 + random.nextInt(8760));
      default -> Duration.ofMillis(1 + random.nextInt(3_600_000));
    };
    HttpRouting.Retries retries = random.nextBoolean() ? null : new HttpRouting.Retries(random.nextInt(11),
        random.nextBoolean() ? null : Duration.ofMillis(random.nextInt(100_000)), pick(RETRY_ON, random.nextInt(4)));
    return new HttpRouting.Rule(random.nextBoolean() ? "rule-" + index : "", matches, backends, timeout, retries);
  }

  private HttpRouting.Match match() {
    HttpRouting.PathCondition path = switch (random.nextInt(5)) {
      case 0 -> null;
      case 1 -> new HttpRouting.PathCondition(HttpRouting.PathKind.EXACT, path());
      case 2 -> new HttpRouting.PathCondition(HttpRouting.PathKind.PREFIX, path());
      default -> new HttpRouting.PathCondition(HttpRouting.PathKind.REGEX, regex());
    };
    List<HttpRouting.HeaderCondition> headers = new ArrayList<>();
    for (String name : pick(HEADERS, random.nextInt(4))) {
      HttpRouting.HeaderKind kind = HttpRouting.HeaderKind.values()[random.nextInt(4)];
      String value = switch (kind) {
        case PRESENT -> null;
        case REGEX -> regex();
        default -> any(VALUES);
      };
      headers.add(new HttpRouting.HeaderCondition(name, kind, value));
    }
    return new HttpRouting.Match(path, headers, random.nextInt(3) == 0 ? any(METHODS) : null);
  }

  private String path() {
    return random.nextInt(30) == 0 ? any(BAD_PATHS) : any(PATHS);
  }

  private String regex() {
    int kind = random.nextInt(25);
    return kind == 0 ? any(BAD_REGEXES) : kind < 8 ? generatedRegex(0) : kind < 12 ? nearTheSizeLimit()
        : any(REGEXES);
  }

  /**
   * A generated regex grown piece by piece while Weft accepts it, so its size bound ends just under
   * Envoy's limit: there the bound must still be an upper bound for every shape of regex.
   */
  private String nearTheSizeLimit() {
    String regex = generatedRegex(0);
    if (Re2Syntax.problem(regex).isPresent()) {
      return regex;
    }
    for (int misses = 0; misses < 8; ) {
      String longer = regex + generatedRegex(1);
      if (Re2Syntax.problem(longer).isEmpty()) {
        regex = longer;
      } else {
        misses++;
      }
    }
    return regex;
  }

  /** Whether Weft's bound of the regex's RE2 program size is within a tenth of Envoy's limit. */
  public static boolean nearEnvoysRegexLimit(String regex) {
    return Re2Syntax.problem(regex).isEmpty() && Re2ProgramSize.of(regex) > Re2Syntax.MAX_PROGRAM_SIZE * 9 / 10;
  }

  /**
   * A random RE2 regex (named groups of both forms, flag groups, Unicode classes, quotes, escapes,
   * greedy and lazy repetitions); some come out above Envoy's program size limit and must be
   * rejected by the translation, the rest must load.
   */
  private String generatedRegex(int depth) {
    StringBuilder regex = new StringBuilder(random.nextInt(6) == 0 ? "^" : "");
    for (int i = 1 + random.nextInt(depth == 0 ? 8 : 3); i > 0; i--) {
      int kind = random.nextInt(10);
      if (depth < 2 && kind == 0) {
        regex.append('(').append(generatedRegex(depth + 1)).append(')');
      } else if (depth < 2 && kind == 1) {
        regex.append("(?:").append(generatedRegex(depth + 1)).append('|').append(generatedRegex(depth + 1))
            .append(')');
      } else if (depth < 2 && kind == 2) {
        regex.append(random.nextBoolean() ? "(?P<g" : "(?<h").append(random.nextInt(100)).append('>')
            .append(generatedRegex(depth + 1)).append(')');
      } else if (depth < 2 && kind == 3) {
        regex.append("(?").append(any(List.of("i", "U", "s-i", "m"))).append(':').append(generatedRegex(depth + 1))
            .append(')');
      } else {
        regex.append(any(REGEX_ATOMS));
      }
      regex.append(switch (random.nextInt(14)) {
        case 0 -> "*";
        case 1 -> "+";
        case 2 -> "?";
        case 3 -> random.nextBoolean() ? "*?" : "+?";
        case 4 -> "{" + random.nextInt(6) + "}";
        case 5 -> {
          int min = random.nextInt(4);
          yield "{" + min + "," + (min + random.nextInt(6)) + "}";
        }
        case 6 -> "{" + random.nextInt(4) + ",}";
        case 7 -> "{" + random.nextInt(3) + "," + (3 + random.nextInt(3)) + "}?";
        default -> "";
      });
    }
    return regex.toString();
  }

  private int weight() {
    return switch (random.nextInt(4)) {
      case 0 -> 0;
      case 1 -> 10_000;
      default -> random.nextInt(101);
    };
  }

  private SourceRef source(String kind, String namespace, int n) {
    // Few distinct timestamps, so that conflicts are decided by age and by name.
    return new SourceRef(kind, namespace, kind.toLowerCase() + "-" + n, 1,
        "2026-01-0" + (1 + random.nextInt(3)) + "T00:00:00Z");
  }

  private <T> T any(List<T> values) {
    return values.get(random.nextInt(values.size()));
  }

  private <T> List<T> pick(List<T> values, int count) {
    List<T> pool = new ArrayList<>(values);
    List<T> picked = new ArrayList<>();
    for (int i = 0; i < count && !pool.isEmpty(); i++) {
      picked.add(pool.remove(random.nextInt(pool.size())));
    }
    return picked;
  }
}
