package dev.weft.operator.validation;

import java.util.Objects;

/** What validation concluded about one resource: its Accepted and ResolvedRefs outcomes. */
public record Verdict(Outcome accepted, Outcome resolvedRefs) {

  public Verdict {
    Objects.requireNonNull(accepted, "accepted");
    Objects.requireNonNull(resolvedRefs, "resolvedRefs");
  }

  /** For an object stored without a spec (the schema cannot require one): nothing to check, nothing to resolve. */
  static Verdict withoutSpec(String needs) {
    return new Verdict(Outcome.failed(Reason.INVALID, "spec: missing; " + needs),
        Outcome.failed(Reason.BACKEND_NOT_FOUND, "spec.service: missing, so there is no Service to resolve; "
            + needs));
  }
}
