package dev.weft.convert;

import dev.weft.api.v1alpha1.ApiDuration;
import dev.weft.api.v1alpha1.HeaderMatch;
import dev.weft.api.v1alpha1.PathMatch;
import dev.weft.api.v1alpha1.RetryPolicy;
import dev.weft.api.v1alpha1.RouteBackend;
import dev.weft.api.v1alpha1.RouteMatch;
import dev.weft.api.v1alpha1.RouteRule;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.api.v1alpha1.VirtualServiceSpec;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.WeightedService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Turns a VirtualService into the core's {@link HttpRouting}. */
public final class VirtualServiceConverter {

  private VirtualServiceConverter() {}

  /**
   * The routing the VirtualService asks for. Defaults the schema declares are applied here too, so
   * an object that skipped them (no CRD defaulting, e.g. a client-side dry run) means the same.
   *
   * @throws InvalidFieldException naming the field, when a required field is missing or a
   *     duration is malformed (possible only where the CRD's validation did not run)
   */
  public static HttpRouting toRouting(VirtualService vs) {
    VirtualServiceSpec spec = vs.getSpec();
    if (spec == null || spec.getService() == null) {
      throw new InvalidFieldException("spec.service", "required");
    }
    String namespace = vs.getMetadata().getNamespace();
    List<HttpRouting.Rule> rules = new ArrayList<>();
    for (int i = 0; i < spec.getRules().size(); i++) {
      rules.add(rule(spec.getRules().get(i), "spec.rules[" + i + "]"));
    }
    int port = spec.getPort() == null ? 0 : spec.getPort();
    return new HttpRouting(SourceRefs.of(vs), new ServiceKey(namespace, spec.getService()), port, rules);
  }

  private static HttpRouting.Rule rule(RouteRule rule, String field) {
    List<HttpRouting.Match> matches = new ArrayList<>();
    for (int i = 0; i < rule.getMatches().size(); i++) {
      matches.add(match(rule.getMatches().get(i), field + ".matches[" + i + "]"));
    }
    List<WeightedService> backends = new ArrayList<>();
    for (int i = 0; i < rule.getBackends().size(); i++) {
      backends.add(backend(rule.getBackends().get(i), field + ".backends[" + i + "]"));
    }
    Duration timeout = duration(rule.getTimeout(), field + ".timeout");
    HttpRouting.Retries retries = retries(rule.getRetries(), field + ".retries");
    return new HttpRouting.Rule(rule.getName(), matches, backends, timeout, retries);
  }

  private static HttpRouting.Match match(RouteMatch match, String field) {
    List<HttpRouting.HeaderCondition> headers = new ArrayList<>();
    for (int i = 0; i < match.getHeaders().size(); i++) {
      headers.add(header(match.getHeaders().get(i), field + ".headers[" + i + "]"));
    }
    String method = match.getMethod() == null ? null : match.getMethod().name();
    return new HttpRouting.Match(path(match.getPath(), field + ".path"), headers, method);
  }

  /** A path match as the core's condition; {@code field} names it in the error when its value is missing. */
  public static HttpRouting.PathCondition path(PathMatch path, String field) {
    if (path == null) {
      return null;
    }
    if (path.getValue() == null) {
      throw new InvalidFieldException(field + ".value", "required");
    }
    PathMatch.Type type = path.getType() == null ? PathMatch.Type.PathPrefix : path.getType();
    HttpRouting.PathKind kind = switch (type) {
      case Exact -> HttpRouting.PathKind.EXACT;
      case PathPrefix -> HttpRouting.PathKind.PREFIX;
      case RegularExpression -> HttpRouting.PathKind.REGEX;
    };
    return new HttpRouting.PathCondition(kind, path.getValue());
  }

  private static HttpRouting.HeaderCondition header(HeaderMatch header, String field) {
    if (header.getName() == null) {
      throw new InvalidFieldException(field + ".name", "required");
    }
    HeaderMatch.Type type = header.getType() == null ? HeaderMatch.Type.Exact : header.getType();
    HttpRouting.HeaderKind kind = switch (type) {
      case Exact -> HttpRouting.HeaderKind.EXACT;
      case Prefix -> HttpRouting.HeaderKind.PREFIX;
      case RegularExpression -> HttpRouting.HeaderKind.REGEX;
      case Present -> HttpRouting.HeaderKind.PRESENT;
    };
    if (kind == HttpRouting.HeaderKind.PRESENT) {
      return new HttpRouting.HeaderCondition(header.getName(), kind, null);
    }
    if (header.getValue() == null) {
      throw new InvalidFieldException(field + ".value", "required for type " + type);
    }
    return new HttpRouting.HeaderCondition(header.getName(), kind, header.getValue());
  }

  private static WeightedService backend(RouteBackend backend, String field) {
    if (backend.getService() == null) {
      throw new InvalidFieldException(field + ".service", "required");
    }
    int port = backend.getPort() == null ? 0 : backend.getPort();
    int weight = backend.getWeight() == null ? 1 : backend.getWeight();
    return new WeightedService(backend.getService(), port, weight);
  }

  private static HttpRouting.Retries retries(RetryPolicy retries, String field) {
    if (retries == null) {
      return null;
    }
    if (retries.getAttempts() == null) {
      throw new InvalidFieldException(field + ".attempts", "required");
    }
    List<String> retryOn = retries.getRetryOn().stream().map(VirtualServiceConverter::envoyName).toList();
    return new HttpRouting.Retries(
        retries.getAttempts(), duration(retries.getPerTryTimeout(), field + ".perTryTimeout"), retryOn);
  }

  /** Envoy's retry_on name, which is also the JSON name the API uses for the value. */
  public static String envoyName(RetryPolicy.RetryOn retryOn) {
    // An exhaustive switch rather than reading the @JsonProperty: a new constant fails the build here.
    return switch (retryOn) {
      case SERVER_ERROR -> "5xx";
      case GATEWAY_ERROR -> "gateway-error";
      case RESET -> "reset";
      case CONNECT_FAILURE -> "connect-failure";
      case RETRIABLE_4XX -> "retriable-4xx";
      case REFUSED_STREAM -> "refused-stream";
    };
  }

  private static Duration duration(String text, String field) {
    if (text == null) {
      return null;
    }
    try {
      return ApiDuration.parse(text);
    } catch (IllegalArgumentException e) {
      throw new InvalidFieldException(field, e.getMessage(), e);
    }
  }
}
