package dev.weft.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.RouteBackend;
import dev.weft.api.v1alpha1.RouteRule;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.convert.SourceRefs;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import dev.weft.xds.translate.MeshTranslator;
import dev.weft.xds.translate.Rejection;
import dev.weft.xds.translate.Translation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Random namespaces (missing and ExternalName Services, conflicting, nested and cyclic splits,
 * VirtualServices on all or one port, backends on explicit ports), checked twice: by the
 * operator's validators and by the whole translation, on a mesh state built here by hand as the
 * xds-server builds it. Status must never tell a user something the proxies do not do:
 *
 * <ul>
 *   <li>a resource passes both conditions exactly when the translation applies it without a
 *       rejection, and a failed condition's message is the translation's own reason;
 *   <li>a resource that passes is in the config of a client in its namespace, and a resource that
 *       is not Accepted is in none, unless a VirtualService still owns some ports (its message says so).
 * </ul>
 */
class TranslatorAgreementTest {

  static final List<String> NAMES = List.of("a", "b", "c", "d", "e");
  static final ProxyGroup CLIENT = new ProxyGroup(ProxyGroup.Kind.SIDECAR, Meshes.NS, "client", "10.0.0.50",
      List.of());

  @Test
  void statusSaysWhatTheTranslationDoes() {
    Random random = new Random(4);
    int applied = 0;
    int refused = 0;
    int nested = 0;
    for (int round = 0; round < 400; round++) {
      Meshes mesh = Meshes.namespace();
      for (String name : NAMES) {
        int kind = random.nextInt(10);
        if (kind == 0) {
          mesh.externalName(name);
        } else if (kind > 1) {
          mesh.http(name, random.nextBoolean() ? new int[] {80} : new int[] {80, 8080});
        }
      }
      List<TrafficSplit> splits = new ArrayList<>();
      for (int i = 0; i < random.nextInt(4); i++) {
        TrafficSplit split = Meshes.split("ts" + i, random.nextInt(3), pick(random), pick(random) + "=1");
        splits.add(split);
        mesh.with(split);
      }
      List<VirtualService> routes = new ArrayList<>();
      for (int i = 0; i < random.nextInt(4); i++) {
        Integer port = random.nextInt(3) == 0 ? Integer.valueOf(random.nextBoolean() ? 80 : 8080) : null;
        String backend = random.nextInt(3) == 0 ? pick(random) + ":8080" : pick(random);
        VirtualService vs = Meshes.vs("vs" + i, random.nextInt(3), pick(random), port, Meshes.rule("/x", backend));
        routes.add(vs);
        mesh.with(vs);
      }
      NamespaceView view = mesh.view();
      Translation translation = new MeshTranslator().translate(state(view), List.of(CLIENT));
      Map<SourceRef, String> rejected = translation.rejections().stream()
          .collect(Collectors.toMap(Rejection::source, Rejection::reason));
      Set<SourceRef> served = new HashSet<>();
      translation.sources().getOrDefault(CLIENT, Map.of()).values().forEach(served::addAll);

      List<Checked> checked = new ArrayList<>();
      splits.forEach(s -> checked.add(new Checked(s, TrafficSplitValidator.validate(s, view))));
      routes.forEach(v -> checked.add(new Checked(v, VirtualServiceValidator.validate(v, view))));
      for (Checked c : checked) {
        SourceRef source = SourceRefs.of(c.resource());
        String context = "round " + round + ", " + source + ": " + c.verdict() + "; translation rejected "
            + rejected + ", served " + served;
        assertThat(c.passes()).as(context).isEqualTo(!rejected.containsKey(source));
        if (c.passes()) {
          assertThat(served).as(context).contains(source);
          applied++;
          continue;
        }
        refused++;
        assertThat(c.failureMessage()).as(context).isEqualTo(rejected.get(source));
        if (!c.verdict().accepted().passed() && !c.verdict().accepted().message().contains("still apply")) {
          assertThat(served).as(context).doesNotContain(source);
        }
        if (c.verdict().accepted().message().contains("splits do not nest")) {
          nested++;
        }
      }
    }
    assertThat(applied).as("resources both passed").isGreaterThan(100);
    assertThat(refused).as("resources both refused").isGreaterThan(100);
    assertThat(nested).as("splits refused for nesting").isGreaterThan(20);
  }

  /** One resource and the operator's verdict on it. */
  private record Checked(HasMetadata resource, Verdict verdict) {

    boolean passes() {
      return verdict.accepted().passed() && verdict.resolvedRefs().passed();
    }

    /** The failed conditions' messages, Accepted first, as the translation joins its reasons. */
    String failureMessage() {
      return Stream.of(verdict.accepted(), verdict.resolvedRefs()).filter(o -> !o.passed()).map(Outcome::message)
          .collect(Collectors.joining("; "));
    }
  }

  private static String pick(Random random) {
    return NAMES.get(random.nextInt(NAMES.size()));
  }

  /** The namespace as the xds-server would hand it to the translator, written out without the converters. */
  private static MeshState state(NamespaceView view) {
    Map<ServiceKey, MeshService> services = new HashMap<>();
    Set<ServiceKey> aliases = new HashSet<>();
    for (Service service : view.services()) {
      ServiceKey key = key(service.getMetadata().getName());
      if ("ExternalName".equals(service.getSpec().getType())) {
        aliases.add(key);
        continue;
      }
      List<ServicePort> ports = service.getSpec().getPorts().stream().map(p -> new ServicePort(p.getName(),
          p.getPort(), "http".equals(p.getAppProtocol()) ? Protocol.HTTP : Protocol.TCP)).toList();
      services.put(key, new MeshService(key, service.getSpec().getClusterIP(), ports, List.of()));
    }
    List<TrafficSplitRule> splits = view.splits().stream().map(s -> new TrafficSplitRule(SourceRefs.of(s),
        key(s.getSpec().getService()), s.getSpec().getBackends().stream()
        .map(b -> new WeightedService(b.getService(), b.getWeight())).toList())).toList();
    List<HttpRouting> routings = view.virtualServices().stream().map(vs -> new HttpRouting(SourceRefs.of(vs),
        key(vs.getSpec().getService()), vs.getSpec().getPort() == null ? 0 : vs.getSpec().getPort(),
        vs.getSpec().getRules().stream().map(TranslatorAgreementTest::rule).toList())).toList();
    return new MeshState(services, splits, routings, aliases);
  }

  private static HttpRouting.Rule rule(RouteRule rule) {
    List<WeightedService> backends = new ArrayList<>();
    for (RouteBackend b : rule.getBackends()) {
      backends.add(new WeightedService(b.getService(), b.getPort() == null ? 0 : b.getPort(), b.getWeight()));
    }
    List<HttpRouting.Match> matches = List.of(new HttpRouting.Match(
        new HttpRouting.PathCondition(HttpRouting.PathKind.PREFIX, rule.getMatches().get(0).getPath().getValue()),
        List.of(), null));
    return new HttpRouting.Rule(rule.getName(), matches, backends, null, null);
  }

  private static ServiceKey key(String name) {
    return new ServiceKey(Meshes.NS, name);
  }
}
