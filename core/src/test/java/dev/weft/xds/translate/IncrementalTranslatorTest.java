package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class IncrementalTranslatorTest {

  private final MeshTranslator plain = new MeshTranslator();

  @Test
  void endpointChangesGiveExactlyWhatAFullTranslationGives() {
    for (long seed = 1; seed <= 150; seed++) {
      RandomMeshes meshes = new RandomMeshes(seed);
      MeshState before = meshes.state();
      List<ProxyGroup> groups = meshes.groups(before);
      IncrementalTranslator incremental = new IncrementalTranslator(plain);
      Translation first = incremental.translate(before, groups);

      MeshState after = withChurnedEndpoints(before, new Random(seed));
      Translation second = incremental.translate(after, groups);

      assertThat(first).as("seed %d, first call", seed).isEqualTo(plain.translate(before, groups));
      assertThat(second).as("seed %d, endpoints changed", seed).isEqualTo(plain.translate(after, groups));
    }
  }

  @Test
  void keepsTheUnchangedTypesAsTheyWereAndSharedConfigsShared() {
    RandomMeshes meshes = new RandomMeshes(3);
    MeshState before = meshes.state();
    List<ProxyGroup> groups = meshes.groups(before);
    IncrementalTranslator incremental = new IncrementalTranslator(plain);
    Translation first = incremental.translate(before, groups);

    Translation second = incremental.translate(withChurnedEndpoints(before, new Random(3)), groups);

    for (ProxyGroup group : groups) {
      assertThat(second.config(group).routes()).isSameAs(first.config(group).routes());
      assertThat(second.config(group).listenersVersion()).isEqualTo(first.config(group).listenersVersion());
    }
    assertThat(second.configs().values().stream().distinct().count())
        .isEqualTo(first.configs().values().stream().distinct().count());
    // Every config holds the one list of assignments (the server builds its endpoints map from it once).
    assertThat(second.configs().values()).extracting(ProxyConfig::endpoints)
        .allSatisfy(endpoints -> assertThat(endpoints).isSameAs(second.config(groups.get(0)).endpoints()));
  }

  @Test
  void aGroupThatJoinsIsAddedAndTheNextEndpointChangeStaysIncremental() {
    for (long seed = 1; seed <= 60; seed++) {
      RandomMeshes meshes = new RandomMeshes(seed);
      MeshState before = meshes.state();
      List<ProxyGroup> groups = List.copyOf(new java.util.TreeSet<>(meshes.groups(before)));
      List<ProxyGroup> early = groups.subList(0, groups.size() - 1);
      ProxyGroup joiner = groups.get(groups.size() - 1);
      IncrementalTranslator incremental = new IncrementalTranslator(plain);
      Translation published = incremental.translate(before, early);

      // A join translates the last publish's state for the new group alone.
      Translation joined = incremental.translate(before, List.of(joiner));
      MeshState after = withChurnedEndpoints(before, new Random(seed));
      Translation next = incremental.translate(after, groups);
      Translation fewer = incremental.translate(after, early);

      assertThat(joined).as("seed %d, join", seed).isEqualTo(plain.translate(before, List.of(joiner)));
      assertThat(next).as("seed %d, endpoints changed after a join", seed).isEqualTo(plain.translate(after, groups));
      assertThat(fewer).as("seed %d, a group left", seed).isEqualTo(plain.translate(after, early));
      // Still incremental after the join: the early groups' routes are the objects published first.
      assertThat(next.config(early.get(0)).routes()).as("seed %d", seed)
          .isSameAs(published.config(early.get(0)).routes());
    }
  }

  @Test
  void anyOtherChangeTranslatesInFull() {
    RandomMeshes meshes = new RandomMeshes(5);
    MeshState before = meshes.state();
    List<ProxyGroup> groups = meshes.groups(before);
    IncrementalTranslator incremental = new IncrementalTranslator(plain);
    incremental.translate(before, groups);

    // One Service fewer: clusters, routes and listeners change too.
    Map<ServiceKey, MeshService> fewer = new LinkedHashMap<>(before.services());
    fewer.remove(fewer.keySet().iterator().next());
    MeshState after = new MeshState(fewer, List.of(), List.of());

    assertThat(incremental.translate(after, groups)).isEqualTo(plain.translate(after, groups));
    List<ProxyGroup> oneGroupLess = groups.subList(0, groups.size() - 1);
    assertThat(incremental.translate(after, oneGroupLess)).isEqualTo(plain.translate(after, oneGroupLess));
  }

  /**
   * Every Service loses an endpoint, gains one, or sees one change readiness, under the same
   * identities (pods of the same ServiceAccounts come and go).
   */
  private static MeshState withChurnedEndpoints(MeshState state, Random random) {
    Map<ServiceKey, MeshService> services = new LinkedHashMap<>();
    state.services().forEach((key, service) -> {
      List<Endpoint> endpoints = new ArrayList<>(service.endpoints());
      int choice = random.nextInt(3);
      if (choice == 0 && !endpoints.isEmpty()) {
        endpoints.remove(random.nextInt(endpoints.size()));
      } else if (choice == 1 && !service.ports().isEmpty()) {
        var port = service.ports().get(random.nextInt(service.ports().size()));
        endpoints.add(new Endpoint("10.9." + random.nextInt(250) + "." + (1 + random.nextInt(250)),
            port.port() + 1000, port.name(), Endpoint.Readiness.READY, "zone-a"));
      } else if (!endpoints.isEmpty()) {
        int i = random.nextInt(endpoints.size());
        Endpoint e = endpoints.get(i);
        endpoints.set(i, new Endpoint(e.address(), e.port(), e.portName(), Endpoint.Readiness.DRAINING, e.zone(),
            e.serviceAccount()));
      }
      services.put(key, new MeshService(key, service.clusterIp(), service.ports(), endpoints, service.serviceAccounts()));
    });
    return new MeshState(services, state.splits(), state.routings(), state.aliases(), state.permissiveNamespaces());
  }
}
