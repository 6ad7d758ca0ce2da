package dev.weft.operator.validation;

import dev.weft.xds.translate.FieldError;
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

  /**
   * For an object whose spec cannot be read as the mesh reads it (a required field missing, a
   * malformed duration: possible only where the CRD's schema did not run). The xds-server leaves
   * it out, so there is nothing whose references could be checked.
   */
  static Verdict unreadable(FieldError error) {
    return new Verdict(Outcome.failed(Reason.INVALID, error.toString()),
        Outcome.failed(Reason.INVALID, "not checked, because " + error.path() + " cannot be read; fix it first"));
  }
}
