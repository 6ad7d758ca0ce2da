package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.AccessPolicy;
import dev.weft.api.v1alpha1.AccessRule;
import java.util.List;
import java.util.Optional;

/**
 * Checks an AccessPolicy against its namespace: the protected Service exists, the ports its rules
 * name are ports of that Service, and its request paths are ones the translator accepts. Several
 * policies for one Service are normal (Deny first, then any Allow), so there is no conflict to find.
 */
public final class AccessPolicyValidator {

  private AccessPolicyValidator() {}

  public static Verdict validate(AccessPolicy policy, NamespaceView view) {
    if (policy.getSpec() == null || policy.getSpec().getService() == null) {
      return Verdict.withoutSpec("an AccessPolicy needs spec.service and spec.rules");
    }
    Problems invalid = new Problems();
    RuleSyntax.problems(policy).ifPresent(p -> invalid.add(Reason.INVALID, p));
    // Nothing turns AccessPolicies into Envoy RBAC yet; say so rather than let Accepted suggest enforcement.
    Outcome accepted = invalid.outcome(Reason.ACCEPTED, "the spec is valid; note that this version of Weft does not "
        + "enforce AccessPolicies on the proxies yet");
    return new Verdict(accepted, resolvedRefs(policy, view));
  }

  private static Outcome resolvedRefs(AccessPolicy policy, NamespaceView view) {
    Problems problems = new Problems();
    String service = policy.getSpec().getService();
    Optional<ServiceView> target = view.service(service).filter(ServiceView::routable);
    if (target.isEmpty()) {
      problems.add(Reason.BACKEND_NOT_FOUND, "spec.service: " + view.unresolved(service,
          "point spec.service at an existing Service"));
    } else {
      List<AccessRule> rules = policy.getSpec().getRules();
      for (int i = 0; i < rules.size(); i++) {
        if (rules.get(i).getTo() == null) {
          continue;
        }
        List<Integer> ports = rules.get(i).getTo().getPorts();
        for (int j = 0; j < ports.size(); j++) {
          Integer port = ports.get(j);
          if (port != null && target.get().port(port).isEmpty()) {
            problems.add(Reason.PORT_MISMATCH, "spec.rules[" + i + "].to.ports[" + j + "]: Service "
                + view.qualified(service) + " has no port " + port + "; its ports are " + target.get().portList()
                + "; use one of them or remove the port");
          }
        }
      }
    }
    return problems.outcome(Reason.RESOLVED_REFS, "Service " + view.qualified(service)
        + " exists and has every port the rules name");
  }
}
