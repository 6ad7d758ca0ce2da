package dev.weft.xds.translate;

import java.util.Objects;

/**
 * One problem with one field of a user resource, as the translation and the operator's status both
 * report it: {@code path} is the field as the user writes it ({@code spec.backends[1].service},
 * {@code spec.rules[0].matches[0].path.value}), {@code message} says what is wrong and the fix.
 */
public record FieldError(String path, Reason reason, String message) {

  /**
   * What kind of problem, most fundamental first: a resource's errors are listed in this order, so
   * the first of them is the one to fix first.
   */
  public enum Reason {
    /** The field cannot be applied as written: a syntax or range the proxies would refuse. */
    INVALID,
    /**
     * An older resource claims the same thing (a root Service, a Service port, a split this one
     * would nest with), and the oldest wins.
     */
    CONFLICTED,
    /** A Service the field names does not exist, or is a DNS alias (ExternalName) the mesh does not route. */
    SERVICE_NOT_FOUND,
    /** HTTP rules on a Service or port that is not declared HTTP. */
    UNSUPPORTED_PROTOCOL,
    /** A Service exists but lacks a port the field needs. */
    PORT_MISMATCH;

    /** Whether the problem is in what the resource refers to (Services, ports) rather than in the resource itself. */
    public boolean isReference() {
      return compareTo(SERVICE_NOT_FOUND) >= 0;
    }
  }

  public FieldError {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
  }

  /** {@code path: message}, as status conditions and logs print it. */
  @Override
  public String toString() {
    return path + ": " + message;
  }
}
