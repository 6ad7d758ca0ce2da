package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.AccessPolicy;
import dev.weft.api.v1alpha1.ApiDuration;
import dev.weft.api.v1alpha1.AccessRule;
import dev.weft.api.v1alpha1.HeaderMatch;
import dev.weft.api.v1alpha1.PathMatch;
import dev.weft.api.v1alpha1.RouteMatch;
import dev.weft.api.v1alpha1.RouteRule;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.xds.translate.Rejection;
import dev.weft.xds.translate.TrafficPlan;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The translator's own verdict on what CEL cannot check in match conditions and timeouts: RE2
 * regular expressions (syntax and Envoy's program-size limit), paths with '?' or '#', control
 * characters, timeouts longer than a year.
 *
 * <p>The core's regex check ({@code Re2Syntax}) is package-private, so this asks the public
 * {@link TrafficPlan} instead: it checks the rules alone, backends left out, against a stand-in
 * Service with one HTTP port, where the only rejections left are those of the rules themselves.
 * The messages are the translator's, so status says exactly why the proxies will not get the rules.
 */
public final class RuleSyntax {

  private static final ServiceKey STAND_IN = new ServiceKey("weft-syntax-check", "service");
  private static final int STAND_IN_PORT = 80;
  private static final Pattern PROBE_PATH_FIELD =
      Pattern.compile("spec\\.rules\\[(\\d+)]\\.matches\\[(\\d+)]\\.path\\.value");

  private RuleSyntax() {}

  /** Why the rules of {@code vs} cannot be used as written, if they cannot: one message naming every field. */
  public static Optional<String> problems(VirtualService vs) {
    List<String> early = new ArrayList<>();
    List<HttpRouting.Rule> rules = new ArrayList<>();
    List<RouteRule> declared = vs.getSpec() == null ? List.of() : vs.getSpec().getRules();
    for (int i = 0; i < declared.size(); i++) {
      rules.add(rule(declared.get(i), "spec.rules[" + i + "]", early));
    }
    if (!early.isEmpty()) {
      return Optional.of(String.join("; ", early));
    }
    return verdict(vs.getMetadata().getName(), rules);
  }

  /** Why the request paths of {@code policy} cannot be used as written, if they cannot. */
  public static Optional<String> problems(AccessPolicy policy) {
    List<HttpRouting.Rule> rules = new ArrayList<>();
    List<AccessRule> declared = policy.getSpec() == null ? List.of() : policy.getSpec().getRules();
    for (AccessRule rule : declared) {
      List<HttpRouting.Match> matches = new ArrayList<>();
      if (rule.getTo() != null) {
        for (PathMatch path : rule.getTo().getPaths()) {
          matches.add(new HttpRouting.Match(path(path), List.of(), null));
        }
      }
      rules.add(new HttpRouting.Rule(null, matches, List.of(), null, null));
    }
    // The stand-in names each path as a route match; name it as the policy's field instead.
    return verdict(policy.getMetadata().getName(), rules)
        .map(message -> PROBE_PATH_FIELD.matcher(message).replaceAll("spec.rules[$1].to.paths[$2].value"));
  }

  private static Optional<String> verdict(String name, List<HttpRouting.Rule> rules) {
    SourceRef source = new SourceRef("VirtualService", STAND_IN.namespace(), name, 0, "");
    MeshService service = new MeshService(STAND_IN, "10.0.0.1",
        List.of(new ServicePort("http", STAND_IN_PORT, Protocol.HTTP)), List.of());
    HttpRouting routing = new HttpRouting(source, STAND_IN, STAND_IN_PORT, rules);
    MeshState state = new MeshState(Map.of(STAND_IN, service), List.of(), List.of(routing));
    List<String> reasons = TrafficPlan.of(state).rejections().stream().map(Rejection::reason).toList();
    return reasons.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", reasons));
  }

  private static HttpRouting.Rule rule(RouteRule rule, String field, List<String> problems) {
    List<HttpRouting.Match> matches = rule.getMatches().stream().map(RuleSyntax::match).toList();
    Duration timeout = duration(rule.getTimeout(), field + ".timeout", problems);
    HttpRouting.Retries retries = null;
    if (rule.getRetries() != null) {
      int attempts = rule.getRetries().getAttempts() == null ? 0 : rule.getRetries().getAttempts();
      // retryOn is an enum in the schema, so every value is one Envoy knows; only the timeout is left to check.
      retries = new HttpRouting.Retries(attempts,
          duration(rule.getRetries().getPerTryTimeout(), field + ".retries.perTryTimeout", problems), List.of());
    }
    return new HttpRouting.Rule(rule.getName(), matches, List.of(), timeout, retries);
  }

  private static HttpRouting.Match match(RouteMatch match) {
    List<HttpRouting.HeaderCondition> headers = match.getHeaders().stream().map(RuleSyntax::header).toList();
    String method = match.getMethod() == null ? null : match.getMethod().name();
    return new HttpRouting.Match(path(match.getPath()), headers, method);
  }

  private static HttpRouting.PathCondition path(PathMatch path) {
    if (path == null) {
      return null;
    }
    PathMatch.Type type = path.getType() == null ? PathMatch.Type.PathPrefix : path.getType();
    HttpRouting.PathKind kind = switch (type) {
      case Exact -> HttpRouting.PathKind.EXACT;
      case PathPrefix -> HttpRouting.PathKind.PREFIX;
      case RegularExpression -> HttpRouting.PathKind.REGEX;
    };
    return new HttpRouting.PathCondition(kind, path.getValue());
  }

  private static HttpRouting.HeaderCondition header(HeaderMatch header) {
    HeaderMatch.Type type = header.getType() == null ? HeaderMatch.Type.Exact : header.getType();
    HttpRouting.HeaderKind kind = switch (type) {
      case Exact -> HttpRouting.HeaderKind.EXACT;
      case Prefix -> HttpRouting.HeaderKind.PREFIX;
      case RegularExpression -> HttpRouting.HeaderKind.REGEX;
      case Present -> HttpRouting.HeaderKind.PRESENT;
    };
    return new HttpRouting.HeaderCondition(header.getName(), kind,
        kind == HttpRouting.HeaderKind.PRESENT ? null : header.getValue());
  }

  /** The API duration as a Duration; the schema's pattern makes a malformed one unlikely, but not impossible. */
  private static Duration duration(String text, String field, List<String> problems) {
    if (text == null) {
      return null;
    }
    try {
      return ApiDuration.parse(text);
    } catch (IllegalArgumentException e) {
      problems.add(field + ": " + e.getMessage());
      return null;
    }
  }
}
