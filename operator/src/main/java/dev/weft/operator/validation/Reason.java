package dev.weft.operator.validation;

/** The machine-readable reasons of the conditions in {@link ConditionType}; docs/status.md explains each. */
public final class Reason {

  /** Accepted=True. */
  public static final String ACCEPTED = "Accepted";
  /** Accepted=False: the spec cannot be applied as written (a bad regex, a nested split, ...). */
  public static final String INVALID = "Invalid";
  /** Accepted=False: an older resource claims the same Service (or Service port), and the oldest wins. */
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
}
