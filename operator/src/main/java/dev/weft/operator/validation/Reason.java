package dev.weft.operator.validation;

import dev.weft.xds.translate.FieldError;

/** The machine-readable reasons of the conditions in {@link ConditionType}; docs/status.md explains each. */
public final class Reason {

  /** Accepted=True. */
  public static final String ACCEPTED = "Accepted";
  /**
   * Accepted=False: the spec cannot be applied as written (a bad regex, a timeout above a year, ...).
   * Also ResolvedRefs=False when the spec cannot be read at all, so no reference was checked.
   */
  public static final String INVALID = "Invalid";
  /**
   * Accepted=False: an older resource claims the same Service (or Service port), or is a TrafficSplit
   * this one would nest with, and the oldest wins.
   */
  public static final String CONFLICTED = "Conflicted";

  /** ResolvedRefs=True. */
  public static final String RESOLVED_REFS = "ResolvedRefs";
  /** ResolvedRefs=False: a Service the resource names does not exist, or the mesh cannot route to it. */
  public static final String BACKEND_NOT_FOUND = "BackendNotFound";
  /** ResolvedRefs=False: a Service exists but lacks a port the resource needs. */
  public static final String PORT_MISMATCH = "PortMismatch";
  /** ResolvedRefs=False: HTTP rules on a Service port that is not declared HTTP. */
  public static final String UNSUPPORTED_PROTOCOL = "UnsupportedProtocol";

  /** Enforced=False: the mesh does not enforce this kind yet (AccessPolicy, until sidecars get Envoy RBAC). */
  public static final String NOT_IMPLEMENTED = "NotImplemented";

  private Reason() {}

  /** The condition reason of one of the core's field error reasons. */
  static String of(FieldError.Reason reason) {
    return switch (reason) {
      case INVALID -> INVALID;
      case CONFLICTED -> CONFLICTED;
      case SERVICE_NOT_FOUND -> BACKEND_NOT_FOUND;
      case UNSUPPORTED_PROTOCOL -> UNSUPPORTED_PROTOCOL;
      case PORT_MISMATCH -> PORT_MISMATCH;
    };
  }
}
