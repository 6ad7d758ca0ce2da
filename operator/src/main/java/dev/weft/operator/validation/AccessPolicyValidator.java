package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.AccessPolicy;
import dev.weft.api.v1alpha1.AccessRule;
import dev.weft.api.v1alpha1.PathMatch;
import dev.weft.convert.InvalidFieldException;
import dev.weft.convert.VirtualServiceConverter;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServiceKey;
import dev.weft.xds.translate.FieldError;
import dev.weft.xds.translate.HttpRuleChecks;
import dev.weft.xds.translate.ServiceRefs;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Checks an AccessPolicy against its namespace with the core's checks: the protected Service
 * exists, the ports its rules name are ports of that Service, and its request paths are ones a
 * route match accepts. Several policies for one Service are normal (Deny first, then any Allow),
 * so there is no conflict to find.
 */
public final class AccessPolicyValidator {

  private AccessPolicyValidator() {}

  public static Verdict validate(AccessPolicy policy, NamespaceView view) {
    if (policy.getSpec() == null || policy.getSpec().getService() == null) {
      return Verdict.withoutSpec("an AccessPolicy needs spec.service and spec.rules");
    }
    ServiceKey service = new ServiceKey(policy.getMetadata().getNamespace(), policy.getSpec().getService());
    List<FieldError> errors = new ArrayList<>(pathErrors(policy));
    errors.addAll(referenceErrors(policy, service, view.state(policy)));
    // Accepted says only that the spec is valid; whether sidecars enforce it is the Enforced condition's to say.
    return new Verdict(Outcomes.accepted(errors, "the spec is valid (see Enforced for whether the sidecars enforce it)"),
        Outcomes.resolvedRefs(errors, "Service " + service + " exists and has every port the rules name"));
  }

  private static List<FieldError> pathErrors(AccessPolicy policy) {
    List<FieldError> errors = new ArrayList<>();
    List<AccessRule> rules = policy.getSpec().getRules();
    for (int i = 0; i < rules.size(); i++) {
      List<PathMatch> paths = rules.get(i).getTo() == null ? List.of() : rules.get(i).getTo().getPaths();
      for (int j = 0; j < paths.size(); j++) {
        String field = "spec.rules[" + i + "].to.paths[" + j + "]";
        try {
          HttpRouting.PathCondition path = VirtualServiceConverter.path(paths.get(j), field);
          if (path != null) {
            errors.addAll(HttpRuleChecks.path(path, field));
          }
        } catch (InvalidFieldException e) {
          errors.add(e.error());
        }
      }
    }
    return errors;
  }

  private static List<FieldError> referenceErrors(AccessPolicy policy, ServiceKey key, MeshState state) {
    Optional<FieldError> unresolved = ServiceRefs.unresolved(state, key, "spec.service",
        "point spec.service at an existing Service");
    if (unresolved.isPresent()) {
      return List.of(unresolved.get());
    }
    MeshService service = state.service(key).orElseThrow();
    List<FieldError> errors = new ArrayList<>();
    List<AccessRule> rules = policy.getSpec().getRules();
    for (int i = 0; i < rules.size(); i++) {
      List<Integer> ports = rules.get(i).getTo() == null ? List.of() : rules.get(i).getTo().getPorts();
      for (int j = 0; j < ports.size(); j++) {
        if (ports.get(j) != null) {
          ServiceRefs.missingPort(service, ports.get(j), "spec.rules[" + i + "].to.ports[" + j + "]",
              "use one of them or remove the port").ifPresent(errors::add);
        }
      }
    }
    return errors;
  }
}
