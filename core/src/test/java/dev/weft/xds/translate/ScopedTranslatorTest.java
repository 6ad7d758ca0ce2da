package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import dev.weft.xds.tls.MutualTls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class ScopedTranslatorTest {

  private static final ServicePort HTTP = Meshes.http(80);

  @Test
  void aScopedNamespacesSidecarsGetTheServicesOfTheNamespacesItReachesOnly() {
    MeshState state = mesh(Map.of("shop", Set.of("pay")), 50);
    ProxyGroup shop = Meshes.sidecar("shop", "web", "0.0.0.0", 8080);
    ProxyGroup pay = Meshes.sidecar("pay", "api", "0.0.0.0", 8080);

    Translation translation = scoped().translate(state, List.of(shop, pay));

    assertThat(clusterNamespaces(translation.config(shop))).containsExactly("pay", "shop");
    assertThat(clusterNamespaces(translation.config(pay))).containsExactly("ads", "pay", "shop");
    assertThat(translation.config(shop).routes()).extracting(r -> r.getName())
        .noneMatch(name -> name.contains(".ads."));
    // Only the split in a namespace the group reaches is in its config.
    assertThat(translation.sources(shop, Translation.ROUTE_TYPE_URL)).extracting(SourceRef::namespace)
        .containsExactly("shop");
    assertThat(translation.sources(pay, Translation.ROUTE_TYPE_URL)).extracting(SourceRef::namespace)
        .containsExactlyInAnyOrder("ads", "shop");
  }

  @Test
  void eachGroupGetsWhatATranslationOfItsScopeAloneGives() {
    ExecutorService threads = Executors.newFixedThreadPool(3);
    try {
      eachGroupGetsWhatATranslationOfItsScopeAloneGives(threads);
    } finally {
      threads.shutdownNow();
    }
  }

  private void eachGroupGetsWhatATranslationOfItsScopeAloneGives(Executor threads) {
    for (long seed = 1; seed <= 60; seed++) {
      RandomMeshes meshes = new RandomMeshes(seed);
      MeshState unscoped = meshes.state();
      List<ProxyGroup> groups = meshes.groups(unscoped);
      Random random = new Random(seed);
      Map<String, Set<String>> scopes = new HashMap<>();
      for (String namespace : List.of("shop", "web", "ops", "client-only")) {
        if (random.nextBoolean()) {
          scopes.put(namespace, random.nextBoolean() ? Set.of() : Set.of(List.of("shop", "web", "ops").get(random.nextInt(3))));
        }
      }
      MeshState state = new MeshState(unscoped.services(), unscoped.splits(), unscoped.routings(), unscoped.aliases(),
          unscoped.permissiveNamespaces(), scopes);

      Translation translation = scoped(threads).translate(state, groups);

      for (ProxyGroup group : groups) {
        MeshState alone = state.outboundScope(group.namespace())
            .map(scope -> ScopedTranslator.narrowed(state, scope, null)).orElse(state);
        Translation expected = new MeshTranslator().translate(alone, List.of(group));
        assertThat(translation.config(group)).as("seed %d, %s", seed, group.id()).isEqualTo(expected.config(group));
        assertThat(translation.sources().getOrDefault(group, Map.of()))
            .as("seed %d, %s", seed, group.id()).isEqualTo(expected.sources().getOrDefault(group, Map.of()));
      }
      // Rejections are the whole mesh's, whoever reaches the resource.
      assertThat(translation.rejections()).as("seed %d", seed)
          .containsAll(new MeshTranslator().translate(state, List.of()).rejections());
    }
  }

  @Test
  void anEditOutsideAScopeLeavesItsConfigTheVeryInstance() {
    MeshState before = mesh(Map.of("shop", Set.of("pay")), 50);
    ProxyGroup shop = Meshes.sidecar("shop", "web", "0.0.0.0", 8080);
    ProxyGroup ads = Meshes.sidecar("ads", "api", "0.0.0.0", 8080);
    ScopedTranslator translator = scoped();
    Translation first = translator.translate(before, List.of(shop, ads));

    MeshState after = mesh(Map.of("shop", Set.of("pay")), 30);
    Translation second = translator.translate(withServicesOf(before, after), List.of(shop, ads));

    assertThat(second.config(shop)).isSameAs(first.config(shop));
    assertThat(second.config(ads)).isNotEqualTo(first.config(ads));
    assertThat(second.config(ads)).isEqualTo(new MeshTranslator().translate(after, List.of(ads)).config(ads));
  }

  @Test
  void aJoiningGroupOfAKnownScopeSharesItsTranslation() {
    MeshState state = mesh(Map.of("shop", Set.of("pay")), 50);
    ProxyGroup web = Meshes.sidecar("shop", "web", "0.0.0.0", 8080);
    ProxyGroup api = Meshes.sidecar("shop", "api", "0.0.0.0", 8080);
    ScopedTranslator translator = scoped();
    Translation first = translator.translate(state, List.of(web));

    Translation join = translator.translate(state, List.of(api));

    assertThat(join.configs()).containsOnlyKeys(api);
    assertThat(join.config(api)).isSameAs(first.config(web));
  }

  @Test
  void withoutScopedNamespacesItIsTheWholeMeshTranslation() {
    RandomMeshes meshes = new RandomMeshes(7);
    MeshState state = meshes.state();
    List<ProxyGroup> groups = meshes.groups(state);

    assertThat(scoped().translate(state, groups)).isEqualTo(new MeshTranslator().translate(state, groups));
  }

  private static ScopedTranslator scoped() {
    return scoped(Runnable::run);
  }

  /** Translating the scopes side by side on {@code threads}, as the xds-server does. */
  private static ScopedTranslator scoped(Executor threads) {
    TrafficPlans plans = new TrafficPlans();
    return new ScopedTranslator(new IncrementalTranslator(new MeshTranslator(MutualTls.DEFAULT_TRUST_DOMAIN, plans)),
        () -> new IncrementalTranslator(new MeshTranslator()), plans, threads);
  }

  /** Three namespaces of three Services each, a split on the first of shop and of ads at {@code adsWeight}. */
  private static MeshState mesh(Map<String, Set<String>> scopes, int adsWeight) {
    Map<ServiceKey, MeshService> services = new TreeMap<>();
    int n = 1;
    for (String namespace : List.of("ads", "pay", "shop")) {
      for (int i = 0; i < 3; i++) {
        ServiceKey key = new ServiceKey(namespace, "svc-" + i);
        services.put(key, new MeshService(key, "10.96.0." + n, List.of(HTTP),
            List.of(new Endpoint("10.1.0." + n, 8080, HTTP.name(), Endpoint.Readiness.READY, ""))));
        n++;
      }
    }
    List<TrafficSplitRule> splits = new ArrayList<>();
    splits.add(split("shop", 90));
    splits.add(split("ads", adsWeight));
    return new MeshState(services, splits, List.of(), Set.of(), Set.of(), scopes);
  }

  private static TrafficSplitRule split(String namespace, int rootWeight) {
    return new TrafficSplitRule(new SourceRef("TrafficSplit", namespace, "canary", 1, "2026-01-01T00:00:00Z"),
        new ServiceKey(namespace, "svc-0"), List.of(new WeightedService("svc-0", 0, rootWeight),
            new WeightedService("svc-1", 0, 100 - rootWeight)));
  }

  /**
   * {@code after} with the very Service and split instances of {@code before} where equal, as the
   * state builder keeps unchanged ones.
   */
  private static MeshState withServicesOf(MeshState before, MeshState after) {
    List<TrafficSplitRule> splits = after.splits().stream()
        .map(s -> before.splits().stream().filter(s::equals).findFirst().orElse(s)).toList();
    return new MeshState(before.services(), splits, after.routings(), after.aliases(),
        after.permissiveNamespaces(), after.outboundScopes());
  }

  private static Set<String> clusterNamespaces(ProxyConfig config) {
    Set<String> namespaces = new TreeSet<>();
    for (Cluster cluster : config.clusters()) {
      String name = cluster.getName();
      if (name.startsWith("outbound|")) {
        namespaces.add(name.substring(name.lastIndexOf('|') + 1).split("\\.")[1]);
      }
    }
    return namespaces;
  }
}
