package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.RouteBackend;
import dev.weft.api.v1alpha1.RouteRule;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.mesh.ServicePort;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Checks a VirtualService against the rest of its namespace: its Service and port exist and speak
 * HTTP, every rule backend exists and exposes the port it is reached on, the match conditions are
 * ones the translator accepts, and no older VirtualService routes the same Service port.
 *
 * <p>Ownership of a port follows the translator (TrafficPlan): VirtualServices are taken oldest
 * first, and the oldest one that can be applied on a port owns it; one that cannot be applied
 * (a missing backend, a bad regex) blocks nobody. A TrafficSplit for the same Service is not a
 * conflict: the VirtualService's rules come first, and requests that match no rule, or a rule
 * without backends, go through the split.
 */
public final class VirtualServiceValidator {

  /** What the references of one VirtualService resolve to. */
  private record Resolution(Problems problems, List<ServicePort> ports, Set<Integer> usablePorts, boolean whole) {}

  private VirtualServiceValidator() {}

  public static Verdict validate(VirtualService vs, NamespaceView view) {
    if (vs.getSpec() == null || vs.getSpec().getService() == null) {
      return Verdict.withoutSpec("a VirtualService needs spec.service and spec.rules");
    }
    Resolution resolution = resolve(vs, view);
    String service = vs.getSpec().getService();
    String ports = resolution.ports().stream().map(p -> String.valueOf(p.port())).collect(Collectors.joining(", "));
    Outcome resolvedRefs = resolution.problems().outcome(Reason.RESOLVED_REFS, "Service " + view.qualified(service)
        + " exists with HTTP port(s) " + ports + ", and every rule backend exists and exposes the port it is "
        + "reached on");
    return new Verdict(accepted(vs, view, resolution), resolvedRefs);
  }

  private static Outcome accepted(VirtualService vs, NamespaceView view, Resolution resolution) {
    Problems problems = new Problems();
    Optional<String> syntax = RuleSyntax.problems(vs);
    syntax.ifPresent(p -> problems.add(Reason.INVALID, p));
    String service = vs.getSpec().getService();
    List<VirtualService> others = view.virtualServicesFor(service).stream()
        .filter(o -> !Precedence.same(o, vs)).sorted(Precedence.OLDEST_FIRST).toList();
    Map<String, List<Integer>> lostTo = new TreeMap<>();
    for (ServicePort port : resolution.ports()) {
      others.stream().filter(o -> Precedence.winsOver(o, vs))
          .filter(o -> eligiblePorts(o, view).contains(port.port())).findFirst()
          .ifPresent(owner -> lostTo.computeIfAbsent(Precedence.name(owner), k -> new ArrayList<>()).add(port.port()));
    }
    Set<Integer> stillApplies = new LinkedHashSet<>(syntax.isEmpty() && resolution.whole()
        ? resolution.usablePorts() : Set.of());
    lostTo.values().forEach(stillApplies::removeAll);
    lostTo.forEach((owner, lost) -> problems.add(Reason.CONFLICTED, "spec.service: conflicts on "
        + portWords(lost) + " of Service " + view.qualified(service) + " with the older VirtualService " + owner
        + ", and the oldest one wins; merge the rules into one VirtualService"
        + (stillApplies.isEmpty() ? "" : " (on " + portWords(List.copyOf(stillApplies)) + " its rules still apply)")));
    return problems.outcome(Reason.ACCEPTED, acceptedMessage(vs, view, resolution, others));
  }

  private static String acceptedMessage(VirtualService vs, NamespaceView view, Resolution resolution,
      List<VirtualService> others) {
    String service = vs.getSpec().getService();
    StringBuilder message = new StringBuilder("the spec is valid");
    if (!resolution.ports().isEmpty()) {
      List<Integer> ports = resolution.ports().stream().map(ServicePort::port).toList();
      message.append(" and no older applicable VirtualService routes ").append(portWords(ports))
          .append(" of Service ").append(view.qualified(service));
      Set<Integer> applied = eligiblePorts(vs, view);
      List<String> refused = others.stream().filter(o -> Precedence.winsOver(vs, o))
          .filter(o -> resolve(o, view).ports().stream().anyMatch(p -> applied.contains(p.port())))
          .map(Precedence::name).toList();
      if (!refused.isEmpty()) {
        message.append(", so newer ones for the same ports are refused (").append(String.join(", ", refused))
            .append(")");
      }
    }
    Optional<TrafficSplit> split = view.splitsFor(service).stream().min(Precedence.OLDEST_FIRST);
    if (split.isPresent()) {
      message.append("; its rules are tried first, and requests that match no rule, or a rule without backends, "
          + "go through TrafficSplit ").append(Precedence.name(split.get()));
    } else {
      message.append("; requests that match no rule go to Service ").append(view.qualified(service))
          .append(" as if there were no VirtualService");
    }
    return message.toString();
  }

  /** The ports {@code vs} would own if no older VirtualService did: none unless it can be applied. */
  private static Set<Integer> eligiblePorts(VirtualService vs, NamespaceView view) {
    Resolution resolution = resolve(vs, view);
    return resolution.whole() && RuleSyntax.problems(vs).isEmpty() ? resolution.usablePorts() : Set.of();
  }

  private static Resolution resolve(VirtualService vs, NamespaceView view) {
    Problems problems = new Problems();
    String service = vs.getSpec().getService();
    Optional<ServiceView> target = view.service(service).filter(ServiceView::routable);
    if (target.isEmpty()) {
      problems.add(Reason.BACKEND_NOT_FOUND, "spec.service: " + view.unresolved(service,
          "point spec.service at an existing Service"));
    }
    List<RouteRule> rules = vs.getSpec().getRules();
    boolean backendsExist = true;
    for (int i = 0; i < rules.size(); i++) {
      List<RouteBackend> backends = rules.get(i).getBackends();
      for (int j = 0; j < backends.size(); j++) {
        String name = backends.get(j).getService();
        if (view.service(name).filter(ServiceView::routable).isEmpty()) {
          backendsExist = false;
          problems.add(Reason.BACKEND_NOT_FOUND, "spec.rules[" + i + "].backends[" + j + "].service: "
              + view.unresolved(name, "remove the backend"));
        }
      }
    }
    if (target.isEmpty()) {
      return new Resolution(problems, List.of(), Set.of(), false);
    }
    int before = problems.size();
    List<ServicePort> ports = ports(vs, target.get(), view, problems);
    boolean portsResolved = problems.size() == before;
    Set<Integer> usable = new LinkedHashSet<>();
    for (ServicePort port : ports) {
      if (backendPortsResolve(vs, port, view, problems)) {
        usable.add(port.port());
      }
    }
    return new Resolution(problems, ports, usable, backendsExist && portsResolved);
  }

  /** The HTTP ports of the Service that the rules apply to; a problem when there are none. */
  private static List<ServicePort> ports(VirtualService vs, ServiceView service, NamespaceView view,
      Problems problems) {
    String qualified = view.qualified(service.name());
    Integer wanted = vs.getSpec().getPort();
    if (wanted == null) {
      if (service.httpPorts().isEmpty()) {
        problems.add(Reason.UNSUPPORTED_PROTOCOL, "spec.service: Service " + qualified + " has no HTTP port, so "
            + "HTTP rules cannot apply; declare a port's protocol (appProtocol: http, or a port name starting "
            + "with http-) or remove this VirtualService");
      }
      return service.httpPorts();
    }
    Optional<ServicePort> port = service.port(wanted);
    if (port.isEmpty()) {
      problems.add(Reason.PORT_MISMATCH, "spec.port: Service " + qualified + " has no port " + wanted
          + "; use one of its ports " + service.portList() + " or leave spec.port unset");
      return List.of();
    }
    if (!port.get().protocol().isHttp()) {
      problems.add(Reason.UNSUPPORTED_PROTOCOL, "spec.port: port " + wanted + " of Service " + qualified
          + " is TCP, so HTTP rules cannot apply; declare its protocol (appProtocol: http, or a port name "
          + "starting with http-) or pick an HTTP port");
      return List.of();
    }
    return List.of(port.get());
  }

  /**
   * Whether every existing rule backend has the port it is reached on for requests on {@code port}:
   * its own port if set, else the same number.
   */
  private static boolean backendPortsResolve(VirtualService vs, ServicePort port, NamespaceView view,
      Problems problems) {
    String root = view.qualified(vs.getSpec().getService());
    boolean resolved = true;
    List<RouteRule> rules = vs.getSpec().getRules();
    for (int i = 0; i < rules.size(); i++) {
      List<RouteBackend> backends = rules.get(i).getBackends();
      for (int j = 0; j < backends.size(); j++) {
        RouteBackend backend = backends.get(j);
        Optional<ServiceView> service = view.service(backend.getService()).filter(ServiceView::routable);
        if (service.isEmpty()) {
          continue; // reported as BackendNotFound
        }
        boolean explicit = backend.getPort() != null;
        int target = explicit ? backend.getPort() : port.port();
        if (service.get().port(target).isPresent()) {
          continue;
        }
        resolved = false;
        String field = "spec.rules[" + i + "].backends[" + j + "]" + (explicit ? ".port" : ".service");
        problems.add(Reason.PORT_MISMATCH, field + ": Service " + view.qualified(backend.getService())
            + " has no port " + target + (explicit ? "" : " (the port requests for " + root + " come in on)")
            + "; its ports are " + service.get().portList() + "; add the port to " + backend.getService()
            + (explicit ? " or name one of its ports" : ", set the backend's port, or remove the backend"));
      }
    }
    return resolved;
  }

  private static String portWords(List<Integer> ports) {
    return (ports.size() == 1 ? "port " : "ports ")
        + ports.stream().map(String::valueOf).collect(Collectors.joining(", "));
  }
}
