package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.convert.InvalidFieldException;
import dev.weft.convert.TrafficSplitConverter;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.xds.translate.FieldError;
import dev.weft.xds.translate.ServiceRefs;
import dev.weft.xds.translate.TrafficPlan;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The status of a TrafficSplit in its namespace, as the translation sees it: the core's
 * {@link TrafficPlan} checks the namespace's mesh state (root and backends exist and expose the
 * root's ports, no older split claims the root, no older split nests with it), and this puts its
 * verdict into the two conditions and says, when it passes, what else shapes the root's traffic.
 */
public final class TrafficSplitValidator {

  private TrafficSplitValidator() {}

  public static Verdict validate(TrafficSplit split, NamespaceView view) {
    if (split.getSpec() == null || split.getSpec().getService() == null) {
      return Verdict.withoutSpec("a TrafficSplit needs spec.service and spec.backends");
    }
    TrafficSplitRule rule;
    try {
      rule = TrafficSplitConverter.toRule(split);
    } catch (InvalidFieldException e) {
      return Verdict.unreadable(e.error());
    }
    MeshState state = view.state(split);
    TrafficPlan plan = TrafficPlan.of(state);
    List<FieldError> errors = plan.errors(rule.source());
    String ports = state.service(rule.root()).map(ServiceRefs::portList).orElse("[]");
    return new Verdict(Outcomes.accepted(errors, acceptedMessage(rule, state, plan)),
        Outcomes.resolvedRefs(errors, "every Service named exists and exposes the ports of " + rule.root() + " "
            + ports));
  }

  private static String acceptedMessage(TrafficSplitRule split, MeshState state, TrafficPlan plan) {
    ServiceKey root = split.root();
    List<SourceRef> refused = plan.refusedInFavourOf(split.source());
    List<SourceRef> sameRoot = refused.stream().filter(r -> rootOf(state, r).equals(root)).toList();
    List<SourceRef> nested = refused.stream().filter(r -> !sameRoot.contains(r)).toList();
    StringBuilder message = new StringBuilder("the spec is valid and this is ");
    if (sameRoot.isEmpty()) {
      message.append("the only TrafficSplit for Service ").append(root);
    } else {
      message.append("the oldest TrafficSplit for Service ").append(root)
          .append(", so it applies and the newer ones are refused (").append(names(sameRoot)).append(")");
    }
    if (!nested.isEmpty()) {
      message.append("; splits do not nest, so the newer ").append(nested.size() == 1 ? "TrafficSplit " : "TrafficSplits ")
          .append(names(nested)).append(nested.size() == 1 ? " is" : " are").append(" refused");
    }
    List<SourceRef> routes = state.routings().stream().filter(r -> r.service().equals(root))
        .map(HttpRouting::source).sorted().toList();
    if (!routes.isEmpty()) {
      message.append("; VirtualService ").append(names(routes)).append(" also routes ").append(root.name())
          .append(" and comes first: its rules are tried before this split, and requests that match no rule, or a "
              + "rule without backends, are split by these weights");
    }
    return message.toString();
  }

  private static ServiceKey rootOf(MeshState state, SourceRef split) {
    return state.splits().stream().filter(s -> s.source().equals(split)).findFirst().orElseThrow().root();
  }

  private static String names(List<SourceRef> sources) {
    return sources.stream().map(s -> s.namespace() + "/" + s.name()).collect(Collectors.joining(", "));
  }
}
