package dev.weft.xds.translate;

import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.WeightedService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The checks of HTTP rules on their own, without the rest of the mesh: what Envoy would refuse or
 * could never match in a path, header, method, regex, timeout, retry policy or backend weight, and
 * what the schema's CEL rules cannot see (RE2 syntax and program size). The errors are
 * {@link FieldError.Reason#INVALID}, named by the fields the caller passes in, so the same check
 * serves a VirtualService's matches and an AccessPolicy's request paths.
 */
public final class HttpRuleChecks {

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

  private HttpRuleChecks() {}

  /**
   * The errors of one VirtualService rule; {@code field} is the rule's path, e.g. {@code spec.rules[0]}.
   * Whether its backends exist is for the caller, which knows the mesh.
   */
  public static List<FieldError> rule(HttpRouting.Rule rule, String field) {
    List<FieldError> errors = new ArrayList<>();
    for (int i = 0; i < rule.matches().size(); i++) {
      errors.addAll(match(rule.matches().get(i), field + ".matches[" + i + "]"));
    }
    for (int i = 0; i < rule.backends().size(); i++) {
      weight(rule.backends().get(i), field + ".backends[" + i + "]").ifPresent(errors::add);
    }
    if (!rule.backends().isEmpty() && rule.backends().stream().allMatch(b -> b.weight() == 0)) {
      errors.add(invalid(field + ".backends", "every weight is 0; give at least one backend a weight above 0, or "
          + "remove the backends to use the Service itself"));
    }
    duration(rule.timeout(), field + ".timeout").ifPresent(errors::add);
    HttpRouting.Retries retries = rule.retries();
    if (retries != null) {
      if (retries.attempts() < 0) {
        errors.add(invalid(field + ".retries.attempts", retries.attempts() + " is negative; use 0 (no retries) to 10"));
      }
      duration(retries.perTryTimeout(), field + ".retries.perTryTimeout").ifPresent(errors::add);
      for (int i = 0; i < retries.retryOn().size(); i++) {
        String name = retries.retryOn().get(i);
        if (!RETRY_ON_NAMES.contains(name)) {
          errors.add(invalid(field + ".retries.retryOn[" + i + "]", "'" + name + "' is not a retry condition Envoy "
              + "knows; use one of 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream"));
        }
      }
    }
    return errors;
  }

  /**
   * The errors of one path condition; {@code field} is the condition's path (e.g.
   * {@code spec.rules[0].matches[0].path}), and the errors are on its {@code .value}.
   */
  public static List<FieldError> path(HttpRouting.PathCondition path, String field) {
    String valueField = field + ".value";
    String value = path.value();
    if (path.kind() == null || value == null) {
      return List.of(invalid(valueField, "a path condition needs a type and a value"));
    }
    if (path.kind() == HttpRouting.PathKind.REGEX) {
      return regex(value, valueField).stream().toList();
    }
    if (!value.startsWith("/")) {
      return List.of(invalid(valueField, "'" + value + "' must start with '/', e.g. /api/v2"));
    }
    if (value.indexOf('?') >= 0 || value.indexOf('#') >= 0) {
      return List.of(invalid(valueField, "'" + value + "' contains '?' or '#', which never match (paths are "
          + "compared without the query string); remove them, or use a header match for query-like conditions"));
    }
    if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      return List.of(invalid(valueField, "contains a control character; paths are printable text"));
    }
    if (path.kind() == HttpRouting.PathKind.PREFIX && value.length() > 1 && value.endsWith("/")) {
      String trimmed = value.replaceAll("/+$", "");
      return List.of(invalid(valueField, "the prefix '" + value + "' ends with '/'; a prefix matches whole "
          + "segments, so write " + trimmed + " (it matches " + trimmed + " and everything below)"));
    }
    return List.of();
  }

  /** The error of a backend weight outside 0 to 10000, on {@code field.weight}. */
  static Optional<FieldError> weight(WeightedService backend, String field) {
    if (backend.weight() < 0 || backend.weight() > MAX_WEIGHT) {
      return Optional.of(invalid(field + ".weight", backend.weight() + " is out of range; use 0 to " + MAX_WEIGHT));
    }
    return Optional.empty();
  }

  private static List<FieldError> match(HttpRouting.Match match, String field) {
    List<FieldError> errors = new ArrayList<>();
    if (match.path() != null) {
      errors.addAll(path(match.path(), field + ".path"));
    }
    for (int i = 0; i < match.headers().size(); i++) {
      errors.addAll(header(match.headers().get(i), field + ".headers[" + i + "]"));
    }
    if (match.method() != null && !METHOD.matcher(match.method()).matches()) {
      errors.add(invalid(field + ".method", "'" + match.method() + "' is not an HTTP method; use GET, HEAD, POST, "
          + "PUT, DELETE, CONNECT, OPTIONS, TRACE or PATCH"));
    }
    return errors;
  }

  private static List<FieldError> header(HttpRouting.HeaderCondition header, String field) {
    List<FieldError> errors = new ArrayList<>();
    if (header.name() == null || !HEADER_NAME.matcher(header.name()).matches()) {
      errors.add(invalid(field + ".name", "'" + header.name() + "' is not a header name; use letters, digits and "
          + "!#$%&'*+.^_`|~-, e.g. x-canary"));
    }
    if (header.kind() == null) {
      errors.add(invalid(field + ".type", "missing; use Exact, Prefix, RegularExpression or Present"));
      return errors;
    }
    if (header.kind() == HttpRouting.HeaderKind.PRESENT) {
      return errors;
    }
    if (header.value() == null) {
      errors.add(invalid(field + ".value", "required for type " + header.kind() + "; add a value or use type Present"));
    } else if (header.kind() == HttpRouting.HeaderKind.REGEX) {
      regex(header.value(), field + ".value").ifPresent(errors::add);
    }
    return errors;
  }

  private static Optional<FieldError> regex(String regex, String field) {
    return Re2Syntax.problem(regex).map(problem -> invalid(field, problem));
  }

  private static Optional<FieldError> duration(Duration duration, String field) {
    if (duration == null) {
      return Optional.empty();
    }
    if (duration.isNegative()) {
      return Optional.of(invalid(field, duration + " is negative; use a positive duration such as 2s, or 0s to turn "
          + "it off"));
    }
    if (duration.compareTo(MAX_TIMEOUT) > 0) {
      return Optional.of(invalid(field, duration + " is longer than " + MAX_TIMEOUT.toHours() + "h; use a shorter "
          + "duration, or 0s to turn the timeout off"));
    }
    return Optional.empty();
  }

  private static FieldError invalid(String path, String message) {
    return new FieldError(path, FieldError.Reason.INVALID, message);
  }
}
