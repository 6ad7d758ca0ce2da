package dev.weft.mesh;

import java.time.Duration;
import java.util.List;

/**
 * A VirtualService as the core sees it: ordered HTTP rules for one Service (and optionally one of
 * its ports; 0 means every HTTP port).
 */
public record HttpRouting(SourceRef source, ServiceKey service, int port, List<Rule> rules) {

  public HttpRouting {
    rules = List.copyOf(rules);
  }

  /** One rule; {@code backends} empty means the Service's default destination (its split, if any). */
  public record Rule(String name, List<Match> matches, List<WeightedService> backends, Duration timeout,
      Retries retries) {

    public Rule {
      name = name == null ? "" : name;
      matches = List.copyOf(matches);
      backends = List.copyOf(backends);
    }
  }

  /** Conditions that must all hold; {@code path} and {@code method} may be null (no condition). */
  public record Match(PathCondition path, List<HeaderCondition> headers, String method) {

    public Match {
      headers = List.copyOf(headers);
    }
  }

  /** A path condition. */
  public record PathCondition(PathKind kind, String value) {}

  /** How a path is compared. */
  public enum PathKind {
    EXACT,
    PREFIX,
    REGEX
  }

  /** A header condition; {@code value} is null for {@link HeaderKind#PRESENT}. */
  public record HeaderCondition(String name, HeaderKind kind, String value) {}

  /** How a header is compared. */
  public enum HeaderKind {
    EXACT,
    PREFIX,
    REGEX,
    PRESENT
  }

  /**
   * Retries; {@code perTryTimeout} may be null. {@code retryOn} holds Envoy's retry_on names;
   * empty means the mesh default.
   */
  public record Retries(int attempts, Duration perTryTimeout, List<String> retryOn) {

    public Retries {
      retryOn = List.copyOf(retryOn);
    }
  }
}
