package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.mesh.ServicePort;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Checks a TrafficSplit against the rest of its namespace, which CEL cannot see: the root and the
 * backends exist and expose the root's ports, no backend is the root of another split (splits do
 * not nest), and no older TrafficSplit claims the same root (the oldest wins, as in the translator).
 */
public final class TrafficSplitValidator {

  private TrafficSplitValidator() {}

  public static Verdict validate(TrafficSplit split, NamespaceView view) {
    if (split.getSpec() == null || split.getSpec().getService() == null) {
      return Verdict.withoutSpec("a TrafficSplit needs spec.service and spec.backends");
    }
    return new Verdict(accepted(split, view), resolvedRefs(split, view));
  }

  private static Outcome accepted(TrafficSplit split, NamespaceView view) {
    String root = split.getSpec().getService();
    Problems problems = new Problems();
    List<TrafficSplit> contenders = others(view.splitsFor(root), split);
    Optional<TrafficSplit> winner = contenders.stream().filter(o -> Precedence.winsOver(o, split))
        .min(Precedence.OLDEST_FIRST);
    winner.ifPresent(w -> problems.add(Reason.CONFLICTED, "spec.service: conflicts with the older TrafficSplit "
        + Precedence.name(w) + " for Service " + view.qualified(root) + ", and the oldest one wins; delete one of "
        + "them or merge their backends into one TrafficSplit"));
    List<TrafficSplitBackend> backends = split.getSpec().getBackends();
    for (int i = 0; i < backends.size(); i++) {
      String backend = backends.get(i).getService();
      if (backend == null || backend.equals(root)) {
        continue; // the root as its own backend means its own endpoints, which is allowed
      }
      int index = i;
      others(view.splitsFor(backend), split).stream().min(Precedence.OLDEST_FIRST).ifPresent(inner ->
          problems.add(Reason.INVALID, "spec.backends[" + index + "].service: Service " + view.qualified(backend)
              + " is the root of TrafficSplit " + Precedence.name(inner) + ", and splits do not nest: the proxies "
              + "send this backend's share to " + backend + "'s own endpoints and ignore that split; name the "
              + "Services behind " + backend + " here instead, or delete one of the two splits"));
    }
    return problems.outcome(Reason.ACCEPTED, acceptedMessage(split, view, contenders));
  }

  private static String acceptedMessage(TrafficSplit split, NamespaceView view, List<TrafficSplit> contenders) {
    String root = split.getSpec().getService();
    StringBuilder message = new StringBuilder("the spec is valid and this is ");
    if (contenders.isEmpty()) {
      message.append("the only TrafficSplit for Service ").append(view.qualified(root));
    } else {
      message.append("the oldest TrafficSplit for Service ").append(view.qualified(root))
          .append(", so it applies and the newer ones are refused (")
          .append(contenders.stream().sorted(Precedence.OLDEST_FIRST).map(Precedence::name)
              .collect(Collectors.joining(", ")))
          .append(")");
    }
    List<VirtualService> routes = view.virtualServicesFor(root);
    if (!routes.isEmpty()) {
      message.append("; VirtualService ")
          .append(routes.stream().sorted(Precedence.OLDEST_FIRST).map(Precedence::name)
              .collect(Collectors.joining(", ")))
          .append(" also routes ").append(root).append(" and comes first: its rules are tried before this split, "
              + "and requests that match no rule, or a rule without backends, are split by these weights");
    }
    return message.toString();
  }

  private static Outcome resolvedRefs(TrafficSplit split, NamespaceView view) {
    String root = split.getSpec().getService();
    Problems problems = new Problems();
    Optional<ServiceView> rootService = view.service(root).filter(ServiceView::routable);
    if (rootService.isEmpty()) {
      problems.add(Reason.BACKEND_NOT_FOUND, "spec.service: " + view.unresolved(root,
          "point spec.service at an existing Service"));
    }
    List<TrafficSplitBackend> backends = split.getSpec().getBackends();
    for (int i = 0; i < backends.size(); i++) {
      String backend = backends.get(i).getService();
      if (backend != null && !backend.equals(root) && view.service(backend).filter(ServiceView::routable).isEmpty()) {
        problems.add(Reason.BACKEND_NOT_FOUND, "spec.backends[" + i + "].service: " + view.unresolved(backend,
            "remove the backend"));
      }
    }
    rootService.ifPresent(r -> checkPorts(r, split, view, problems));
    String ports = rootService.map(ServiceView::portList).orElse("[]");
    return problems.outcome(Reason.RESOLVED_REFS, "every Service named exists and exposes the ports of "
        + view.qualified(root) + " " + ports);
  }

  /** A backend is reached on the port number the request came in on, so it needs every port of the root. */
  private static void checkPorts(ServiceView root, TrafficSplit split, NamespaceView view, Problems problems) {
    List<TrafficSplitBackend> backends = split.getSpec().getBackends();
    for (int i = 0; i < backends.size(); i++) {
      String name = backends.get(i).getService();
      Optional<ServiceView> backend = view.service(name).filter(ServiceView::routable);
      if (backend.isEmpty() || name.equals(root.name())) {
        continue;
      }
      for (ServicePort port : root.ports()) {
        if (backend.get().port(port.port()).isEmpty()) {
          problems.add(Reason.PORT_MISMATCH, "spec.backends[" + i + "].service: Service " + view.qualified(name)
              + " has no port " + port.port() + ", which the root Service " + view.qualified(root.name())
              + " exposes; its ports are " + backend.get().portList() + "; add port " + port.port() + " to "
              + name + " or remove the backend (until then, port " + port.port() + " of "
              + view.qualified(root.name()) + " serves from its own endpoints)");
        }
      }
    }
  }

  private static List<TrafficSplit> others(List<TrafficSplit> splits, TrafficSplit self) {
    return splits.stream().filter(s -> !Precedence.same(s, self)).toList();
  }
}
