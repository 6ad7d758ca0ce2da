package dev.weft.xds.translate;

import static dev.weft.xds.translate.Meshes.SHOP;
import static dev.weft.xds.translate.Meshes.http;
import static dev.weft.xds.translate.Meshes.key;
import static dev.weft.xds.translate.Meshes.service;
import static dev.weft.xds.translate.Meshes.sidecar;
import static dev.weft.xds.translate.Meshes.state;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LastGoodTranslatorTest {

  private static final ServicePort HTTP = http(80);
  private static final MeshService PAYMENTS = service("payments", "10.0.0.1", HTTP);
  private static final MeshService V1 = service("payments-v1", "10.0.0.2", HTTP);
  private static final MeshService V2 = service("payments-v2", "10.0.0.3", HTTP);
  private static final ProxyGroup WEB = sidecar(SHOP, "web", "10.1.0.1");
  private static final List<ProxyGroup> GROUPS = List.of(WEB);

  private final MeshTranslator plain = new MeshTranslator();
  private final LastGoodTranslator translator = new LastGoodTranslator(plain);

  @Test
  void rejectedChangeLeavesTheLastAcceptedVersionServing() {
    MeshState fiftyFifty = withSplits(split(1, "payments-v1", 50, "payments-v2", 50));
    Translation good = translator.translate(fiftyFifty, GROUPS);
    assertThat(weights(good)).containsExactly(50, 50);

    MeshState typo = withSplits(split(2, "payments-v1", 50, "payments-v3", 50));
    Translation afterTypo = translator.translate(typo, GROUPS);

    assertThat(afterTypo.configs()).isEqualTo(good.configs());
    assertThat(afterTypo.rejections()).singleElement().satisfies(r -> {
      assertThat(r.source().generation()).isEqualTo(2);
      assertThat(r.reason()).contains("Service shop/payments-v3 does not exist");
    });
    // Without memory the split would be dropped and payments would go to its own endpoints.
    assertThat(plain.translate(typo, GROUPS).config(WEB).routes().get(0).getVirtualHosts(0).getRoutes(0)
        .getRoute().hasWeightedClusters()).isFalse();
  }

  @Test
  void handsTheInnerTranslatorOneServedStateWhileTheSameStateComesBack() {
    List<MeshState> seen = new java.util.ArrayList<>();
    LastGoodTranslator recording = new LastGoodTranslator((state, groups) -> {
      seen.add(state);
      return plain.translate(state, groups);
    });
    recording.translate(withSplits(split(1, "payments-v1", 50, "payments-v2", 50)), GROUPS);
    MeshState typo = withSplits(split(2, "payments-v1", 50, "payments-v3", 50));

    Translation first = recording.translate(typo, GROUPS);
    Translation joined = recording.translate(typo, List.of(WEB, sidecar(SHOP, "billing", "10.1.0.2")));

    // A group joining translates the same state again: the substituted copy must be the same
    // instance, or the inner translator rebuilds the mesh for every join.
    assertThat(seen.get(2)).isSameAs(seen.get(1)).isNotSameAs(typo);
    assertThat(joined.rejections()).isEqualTo(first.rejections());
    assertThat(weights(joined)).containsExactly(50, 50);
  }

  @Test
  void fixedVersionReplacesTheLastGoodOne() {
    translator.translate(withSplits(split(1, "payments-v1", 50, "payments-v2", 50)), GROUPS);
    translator.translate(withSplits(split(2, "payments-v1", 50, "payments-v3", 50)), GROUPS);

    Translation fixed = translator.translate(withSplits(split(3, "payments-v1", 90, "payments-v2", 10)), GROUPS);

    assertThat(fixed.rejections()).isEmpty();
    assertThat(weights(fixed)).containsExactly(90, 10);
  }

  @Test
  void deletedResourceIsForgottenAndNeverComesBack() {
    translator.translate(withSplits(split(1, "payments-v1", 50, "payments-v2", 50)), GROUPS);
    Translation deleted = translator.translate(withSplits(), GROUPS);
    assertThat(deleted.config(WEB)).isEqualTo(plain.translate(withSplits(), GROUPS).config(WEB));

    // Recreated with a mistake: there is no earlier version of this object to fall back on.
    MeshState recreatedBroken = withSplits(split(1, "payments-v1", 50, "payments-v3", 50));
    Translation broken = translator.translate(recreatedBroken, GROUPS);

    assertThat(broken).isEqualTo(plain.translate(recreatedBroken, GROUPS));
  }

  @Test
  void translatesOnceACallEvenWhileARejectionStands() {
    AtomicInteger calls = new AtomicInteger();
    LastGoodTranslator counted = new LastGoodTranslator((state, groups) -> {
      calls.incrementAndGet();
      return plain.translate(state, groups);
    });
    counted.translate(withSplits(split(1, "payments-v1", 50, "payments-v2", 50)), GROUPS);
    MeshState typo = withSplits(split(2, "payments-v1", 50, "payments-v3", 50));

    Translation first = counted.translate(typo, GROUPS);
    Translation again = counted.translate(typo, GROUPS);

    assertThat(calls).as("one translation per call, of the state served").hasValue(3);
    assertThat(again).isEqualTo(first);
    assertThat(weights(again)).containsExactly(50, 50);
  }

  @Test
  void acceptedStateTranslatesExactlyAsThePlainTranslator() {
    MeshState state = withSplits(split(1, "payments-v1", 90, "payments-v2", 10));

    assertThat(translator.translate(state, GROUPS)).isEqualTo(plain.translate(state, GROUPS));
  }

  @Test
  void aNewerSplitThatWouldNestNeverKnocksTheOlderOneOut() {
    TrafficSplitRule canary = split(1, "payments-v1", 90, "payments-v2", 10);
    Translation before = translator.translate(withSplits(canary), GROUPS);

    TrafficSplitRule inner = new TrafficSplitRule(new SourceRef("TrafficSplit", SHOP, "v2-split", 1,
        "2026-02-01T00:00:00Z"), key("payments-v2"), List.of(new WeightedService("payments-v1", 1)));
    Translation after = translator.translate(withSplits(canary, inner), GROUPS);

    assertThat(weights(after)).containsExactly(90, 10);
    assertThat(after.configs()).isEqualTo(before.configs());
    assertThat(after.rejections()).singleElement().satisfies(r -> {
      assertThat(r.source().name()).isEqualTo("v2-split");
      assertThat(r.errors()).extracting(FieldError::reason).containsExactly(FieldError.Reason.CONFLICTED);
    });
  }

  @Test
  void aSplitEditedToNestWithAnOlderOneKeepsItsLastGoodVersion() {
    TrafficSplitRule older = new TrafficSplitRule(new SourceRef("TrafficSplit", SHOP, "v1-split", 1,
        "2025-12-01T00:00:00Z"), key("payments-v1"), List.of(new WeightedService("payments-v1", 90),
        new WeightedService("payments-v2", 10)));
    Translation served = translator.translate(withSplits(older, split(1, "payments", 50, "payments-v2", 50)), GROUPS);
    assertThat(weights(served)).containsExactly(50, 50);

    // The canary now names payments-v1, the root of the older split.
    Translation nested = translator.translate(withSplits(older, split(2, "payments", 50, "payments-v1", 50)), GROUPS);

    assertThat(nested.configs()).isEqualTo(served.configs());
    assertThat(nested.rejections()).singleElement().satisfies(r -> {
      assertThat(r.source().generation()).isEqualTo(2);
      assertThat(r.reason()).isEqualTo("spec.backends[1].service: Service shop/payments-v1 is the root of the older "
          + "TrafficSplit shop/v1-split, and splits do not nest, so the older one applies; name the Services behind "
          + "payments-v1 here instead, or delete one of the two splits");
    });
  }

  private static MeshState withSplits(TrafficSplitRule... splits) {
    return state(List.of(PAYMENTS, V1, V2), Arrays.asList(splits), List.of());
  }

  private static TrafficSplitRule split(long generation, String first, int firstWeight, String second,
      int secondWeight) {
    return new TrafficSplitRule(new SourceRef("TrafficSplit", SHOP, "canary", generation, "2026-01-01T00:00:00Z"),
        key("payments"), List.of(new WeightedService(first, firstWeight), new WeightedService(second, secondWeight)));
  }

  private static List<Integer> weights(Translation translation) {
    RouteAction route = translation.config(WEB).routes().stream()
        .flatMap(r -> r.getVirtualHostsList().stream())
        .filter(vh -> vh.getDomainsList().contains("payments"))
        .findFirst().orElseThrow()
        .getRoutes(0).getRoute();
    return route.getWeightedClusters().getClustersList().stream().map(c -> c.getWeight().getValue()).toList();
  }
}
