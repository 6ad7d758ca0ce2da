package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.AccessPolicy;
import dev.weft.api.v1alpha1.AccessRule;
import dev.weft.api.v1alpha1.PathMatch;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.convert.VirtualServiceConverter;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.xds.translate.Rejection;
import dev.weft.xds.translate.TrafficPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The translator's own verdict on what CEL cannot check in match conditions and timeouts: RE2
 * regular expressions (syntax and Envoy's program-size limit), paths with '?' or '#', control
 * characters, timeouts longer than a year.
 *
 * <p>The rules are converted exactly as the xds-server converts them ({@link VirtualServiceConverter}),
 * and the core's regex check ({@code Re2Syntax}) is package-private, so this asks the public
 * {@link TrafficPlan}: it checks the rules alone, backends left out, against a stand-in Service
 * with one HTTP port, where the only rejections left are those of the rules themselves. The
 * messages are the translator's, so status says exactly why the proxies will not get the rules.
 */
public final class RuleSyntax {

  private static final ServiceKey STAND_IN = new ServiceKey("weft-syntax-check", "service");
  private static final int STAND_IN_PORT = 80;
  private static final Pattern PROBE_PATH_FIELD =
      Pattern.compile("spec\\.rules\\[(\\d+)]\\.matches\\[(\\d+)]\\.path\\.value");

  private RuleSyntax() {}

  /** Why the rules of {@code vs} cannot be used as written, if they cannot: one message naming every field. */
  public static Optional<String> problems(VirtualService vs) {
    HttpRouting routing;
    try {
      // The xds-server's own conversion, so a field it cannot read is reported as it would log it.
      routing = VirtualServiceConverter.toRouting(vs);
    } catch (IllegalArgumentException e) {
      return Optional.of(e.getMessage());
    }
    // Backends are checked against the namespace elsewhere; here only the rules themselves count.
    List<HttpRouting.Rule> rules = routing.rules().stream()
        .map(r -> new HttpRouting.Rule(r.name(), r.matches(), List.of(), r.timeout(), r.retries()))
        .toList();
    return verdict(vs.getMetadata().getName(), rules);
  }

  /** Why the request paths of {@code policy} cannot be used as written, if they cannot. */
  public static Optional<String> problems(AccessPolicy policy) {
    List<HttpRouting.Rule> rules = new ArrayList<>();
    List<AccessRule> declared = policy.getSpec() == null ? List.of() : policy.getSpec().getRules();
    try {
      for (int i = 0; i < declared.size(); i++) {
        AccessRule rule = declared.get(i);
        List<HttpRouting.Match> matches = new ArrayList<>();
        List<PathMatch> paths = rule.getTo() == null ? List.of() : rule.getTo().getPaths();
        for (int j = 0; j < paths.size(); j++) {
          String field = "spec.rules[" + i + "].to.paths[" + j + "]";
          matches.add(new HttpRouting.Match(VirtualServiceConverter.path(paths.get(j), field), List.of(), null));
        }
        rules.add(new HttpRouting.Rule(null, matches, List.of(), null, null));
      }
    } catch (IllegalArgumentException e) {
      return Optional.of(e.getMessage());
    }
    // The stand-in names each path as a route match; name it as the policy's field instead.
    return verdict(policy.getMetadata().getName(), rules)
        .map(message -> PROBE_PATH_FIELD.matcher(message).replaceAll("spec.rules[$1].to.paths[$2].value"));
  }

  private static Optional<String> verdict(String name, List<HttpRouting.Rule> rules) {
    SourceRef source = new SourceRef("VirtualService", STAND_IN.namespace(), name, 0, "");
    MeshService service = new MeshService(STAND_IN, "10.0.0.1",
        List.of(new ServicePort("http", STAND_IN_PORT, Protocol.HTTP)), List.of());
    HttpRouting routing = new HttpRouting(source, STAND_IN, STAND_IN_PORT, rules);
    MeshState state = new MeshState(Map.of(STAND_IN, service), List.of(), List.of(routing));
    List<String> reasons = TrafficPlan.of(state).rejections().stream().map(Rejection::reason).toList();
    return reasons.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", reasons));
  }
}
