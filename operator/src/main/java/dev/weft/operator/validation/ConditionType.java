package dev.weft.operator.validation;

/** The condition types the operator writes on TrafficSplits, VirtualServices and AccessPolicies. */
public final class ConditionType {

  /** The spec is valid and does not conflict with another resource. */
  public static final String ACCEPTED = "Accepted";
  /** Every Service the resource names exists and exposes the ports it needs. */
  public static final String RESOLVED_REFS = "ResolvedRefs";
  /** Every connected proxy that needs the resource applied a config containing it (TrafficSplit, VirtualService). */
  public static final String PROGRAMMED = "Programmed";
  /** The proxies enforce the resource (AccessPolicy); False with NotImplemented until sidecars enforce policies. */
  public static final String ENFORCED = "Enforced";

  private ConditionType() {}
}
