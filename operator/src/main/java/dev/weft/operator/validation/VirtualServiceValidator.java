package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.convert.InvalidFieldException;
import dev.weft.convert.VirtualServiceConverter;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.xds.translate.FieldError;
import dev.weft.xds.translate.TrafficPlan;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The status of a VirtualService in its namespace, as the translation sees it: the core's
 * {@link TrafficPlan} checks the namespace's mesh state (the Service and port exist and speak HTTP,
 * every rule backend exists and exposes the port it is reached on, the match conditions are ones
 * Envoy accepts, no older applicable VirtualService owns the same Service port), and this puts its
 * verdict into the two conditions and says, when it passes, how it combines with a TrafficSplit.
 */
public final class VirtualServiceValidator {

  private VirtualServiceValidator() {}

  public static Verdict validate(VirtualService vs, NamespaceView view) {
    if (vs.getSpec() == null || vs.getSpec().getService() == null) {
      return Verdict.withoutSpec("a VirtualService needs spec.service and spec.rules");
    }
    HttpRouting routing;
    try {
      routing = VirtualServiceConverter.toRouting(vs);
    } catch (InvalidFieldException e) {
      return Verdict.unreadable(e.error());
    }
    MeshState state = view.state(vs);
    TrafficPlan plan = TrafficPlan.of(state);
    List<FieldError> errors = plan.errors(routing.source());
    List<Integer> ports = httpPorts(routing, state);
    return new Verdict(Outcomes.accepted(errors, acceptedMessage(routing, ports, state, plan)),
        Outcomes.resolvedRefs(errors, "Service " + routing.service() + " exists with HTTP port(s) "
            + ports.stream().map(String::valueOf).collect(Collectors.joining(", ")) + ", and every rule backend "
            + "exists and exposes the port it is reached on"));
  }

  private static String acceptedMessage(HttpRouting routing, List<Integer> ports, MeshState state, TrafficPlan plan) {
    StringBuilder message = new StringBuilder("the spec is valid");
    if (!ports.isEmpty()) {
      message.append(" and no older applicable VirtualService routes ").append(portWords(ports))
          .append(" of Service ").append(routing.service());
      List<SourceRef> refused = plan.refusedInFavourOf(routing.source());
      if (!refused.isEmpty()) {
        message.append(", so newer ones for the same ports are refused (")
            .append(refused.stream().map(s -> s.namespace() + "/" + s.name()).collect(Collectors.joining(", ")))
            .append(")");
      }
    }
    Optional<SourceRef> split = state.splits().stream().filter(s -> s.root().equals(routing.service()))
        .map(TrafficSplitRule::source).sorted().findFirst();
    if (split.isPresent()) {
      message.append("; its rules are tried first, and requests that match no rule, or a rule without backends, "
          + "go through TrafficSplit ").append(split.get().namespace()).append("/").append(split.get().name());
    } else {
      message.append("; requests that match no rule go to Service ").append(routing.service())
          .append(" as if there were no VirtualService");
    }
    return message.toString();
  }

  /** The HTTP ports of the Service the rules are for (all of them, or {@code spec.port}); empty if none resolve. */
  private static List<Integer> httpPorts(HttpRouting routing, MeshState state) {
    Optional<MeshService> service = state.service(routing.service());
    if (service.isEmpty()) {
      return List.of();
    }
    return service.get().ports().stream()
        .filter(p -> p.protocol().isHttp() && (routing.port() == 0 || p.port() == routing.port()))
        .map(ServicePort::port).toList();
  }

  private static String portWords(List<Integer> ports) {
    return (ports.size() == 1 ? "port " : "ports ")
        + ports.stream().map(String::valueOf).collect(Collectors.joining(", "));
  }
}
