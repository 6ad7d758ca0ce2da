package dev.weft.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.RouteBackend;
import dev.weft.api.v1alpha1.RouteRule;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import dev.weft.xds.translate.Rejection;
import dev.weft.xds.translate.TrafficPlan;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Random namespaces, checked twice: by the operator's validators and by the translator's
 * TrafficPlan. A resource the operator passes on both conditions must be one the translator
 * applies without a rejection, and the other way round, so status never tells a user something
 * the proxies do not do. Nested splits are the one known difference: the translator applies them
 * (the backend's share goes to its own endpoints), the operator refuses them.
 */
class TranslatorAgreementTest {

  static final List<String> NAMES = List.of("a", "b", "c", "d", "e");

  @Test
  void operatorPassesExactlyWhatTheTranslatorApplies() {
    Random random = new Random(4);
    int applied = 0;
    int refused = 0;
    for (int round = 0; round < 400; round++) {
      Meshes mesh = Meshes.namespace();
      Map<String, int[]> services = new HashMap<>();
      for (String name : NAMES) {
        if (random.nextInt(5) > 0) {
          int[] ports = random.nextBoolean() ? new int[] {80} : new int[] {80, 8080};
          services.put(name, ports);
          mesh.http(name, ports);
        }
      }
      List<TrafficSplit> splits = new ArrayList<>();
      for (int i = 0; i < random.nextInt(3); i++) {
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
      Set<String> rejected = TrafficPlan.of(state(view)).rejections().stream().map(Rejection::source)
          .map(s -> s.kind() + "/" + s.name()).collect(Collectors.toSet());

      for (TrafficSplit split : splits) {
        Verdict verdict = TrafficSplitValidator.validate(split, view);
        if (verdict.accepted().message().contains("splits do not nest")) {
          continue;
        }
        assertThat(passes(verdict)).as("round %d, %s: %s; translator rejected %s", round, Meshes.qualified(split),
            verdict, rejected).isEqualTo(!rejected.contains("TrafficSplit/" + split.getMetadata().getName()));
        if (passes(verdict)) {
          applied++;
        } else {
          refused++;
        }
      }
      for (VirtualService vs : routes) {
        Verdict verdict = VirtualServiceValidator.validate(vs, view);
        assertThat(passes(verdict)).as("round %d, %s: %s; translator rejected %s", round, Meshes.qualified(vs),
            verdict, rejected).isEqualTo(!rejected.contains("VirtualService/" + vs.getMetadata().getName()));
        if (passes(verdict)) {
          applied++;
        } else {
          refused++;
        }
      }
    }
    assertThat(applied).as("resources both passed").isGreaterThan(100);
    assertThat(refused).as("resources both refused").isGreaterThan(100);
  }

  private static boolean passes(Verdict verdict) {
    return verdict.accepted().passed() && verdict.resolvedRefs().passed();
  }

  private static String pick(Random random) {
    return NAMES.get(random.nextInt(NAMES.size()));
  }

  /** The namespace as the xds-server would hand it to the translator. */
  private static MeshState state(NamespaceView view) {
    Map<ServiceKey, MeshService> services = new HashMap<>();
    view.services().values().forEach(s -> services.put(key(s.name()),
        new MeshService(key(s.name()), "10.0.0.1", s.ports(), List.of())));
    List<TrafficSplitRule> splits = view.splits().stream().map(s -> new TrafficSplitRule(source(s),
        key(s.getSpec().getService()), s.getSpec().getBackends().stream()
        .map(b -> new WeightedService(b.getService(), b.getWeight())).toList())).toList();
    List<HttpRouting> routings = view.virtualServices().stream().map(vs -> new HttpRouting(source(vs),
        key(vs.getSpec().getService()), vs.getSpec().getPort() == null ? 0 : vs.getSpec().getPort(),
        vs.getSpec().getRules().stream().map(TranslatorAgreementTest::rule).toList())).toList();
    return new MeshState(services, splits, routings);
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

  private static SourceRef source(HasMetadata resource) {
    return Precedence.sourceOf(resource);
  }

  private static ServiceKey key(String name) {
    return new ServiceKey(Meshes.NS, name);
  }
}
