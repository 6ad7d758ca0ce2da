package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.ArrayList;
import java.util.Collections;
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

  @Test
  void splitRouteAndServiceEditsGiveExactlyWhatAFullTranslationGives() {
    int translations = 0;
    for (long seed = 1; seed <= 120; seed++) {
      RandomMeshes meshes = new RandomMeshes(seed);
      Random random = new Random(seed);
      MeshState state = meshes.state();
      List<ProxyGroup> groups = seed % 2 == 0 ? meshes.groups(state)
          : RandomMeshes.withIdentity(meshes.groups(state), "/etc/weft/identity");
      IncrementalTranslator incremental = new IncrementalTranslator(new MeshTranslator());
      incremental.translate(state, groups);
      for (int step = 1; step <= 8; step++) {
        String edit = EDITS.get(random.nextInt(EDITS.size()));
        state = edited(state, edit, random, new RandomMeshes(seed * 1000 + step).state());
        // A translator without a past: what the incremental one must give, config for config.
        assertThat(incremental.translate(state, groups)).as("seed %d, step %d: %s", seed, step, edit)
            .isEqualTo(new MeshTranslator().translate(state, groups));
        translations++;
      }
    }
    assertThat(translations).isEqualTo(960);
  }

  @Test
  void aWeightEditKeepsEveryMessageItDoesNotTouch() {
    ServicePort http = Meshes.http(80);
    ServicePort tcp = Meshes.tcp(5432);
    List<MeshService> services = List.of(
        Meshes.service("payments", "10.0.0.1", http, tcp), Meshes.service("payments-v1", "10.0.0.2", http, tcp),
        Meshes.service("payments-v2", "10.0.0.3", http, tcp), Meshes.service("cart", "10.0.0.4", http, tcp));
    MeshState before = Meshes.state(services, List.of(canary(90, 10)), List.of());
    MeshState after = Meshes.state(services, List.of(canary(50, 50)), List.of());
    ProxyGroup sidecar = Meshes.sidecar(Meshes.SHOP, "client", "0.0.0.0", 8080);
    List<ProxyGroup> groups = List.of(sidecar, Meshes.sidecar(Meshes.SHOP, "local", "127.0.0.9", 8080),
        Meshes.proxyless(Meshes.SHOP, "grpc"));
    IncrementalTranslator incremental = new IncrementalTranslator(new MeshTranslator());
    Translation first = incremental.translate(before, groups);

    Translation second = incremental.translate(after, groups);

    ProxyConfig was = first.config(sidecar);
    ProxyConfig is = second.config(sidecar);
    assertThat(is.clusters()).isSameAs(was.clusters());
    assertThat(is.endpoints()).isSameAs(was.endpoints());
    String edited = ResourceNames.serviceRoutes(Meshes.key("payments"), 80);
    for (int i = 0; i < is.routes().size(); i++) {
      RouteConfiguration routes = is.routes().get(i);
      if (routes.getName().equals(edited)) {
        assertThat(routes).isNotEqualTo(was.routes().get(i));
      } else {
        assertThat(routes).as(routes.getName()).isSameAs(was.routes().get(i));
      }
    }
    // The TCP port's split is in the outbound listener: a new listener, but every other chain is the last one's.
    Listener outbound = listener(is, ResourceNames.OUTBOUND_LISTENER);
    Listener outboundBefore = listener(was, ResourceNames.OUTBOUND_LISTENER);
    String tcpChain = ResourceNames.outboundCluster(Meshes.key("payments"), 5432);
    for (int i = 0; i < outbound.getFilterChainsCount(); i++) {
      FilterChain chain = outbound.getFilterChains(i);
      if (!chain.getName().equals(tcpChain)) {
        assertThat(chain).as(chain.getName()).isSameAs(outboundBefore.getFilterChains(i));
      }
    }
    assertThat(listener(is, ResourceNames.INBOUND_LISTENER)).isSameAs(listener(was, ResourceNames.INBOUND_LISTENER));
    // Removing a TCP port changes clusters and listeners; every route configuration stays, so the list does.
    MeshState cartEdit = Meshes.state(services.stream()
        .map(s -> s.key().name().equals("cart") ? Meshes.service("cart", "10.0.0.4", http) : s).toList(),
        List.of(canary(50, 50)), List.of());
    Translation third = incremental.translate(cartEdit, groups);
    assertThat(third.config(sidecar).clusters()).isNotEqualTo(is.clusters());
    assertThat(third.config(sidecar).routes()).isSameAs(is.routes());
    // An edit that changes nothing gives the very configs.
    MeshState resync = Meshes.state(List.copyOf(cartEdit.services().values()), cartEdit.splits(), cartEdit.routings());
    assertThat(incremental.translate(resync, groups).config(sidecar)).isSameAs(third.config(sidecar));
  }

  private static final List<String> EDITS = List.of("weights", "add split", "remove split", "change routing",
      "add routing", "remove routing", "add Service", "remove Service", "change port", "change cluster IP",
      "churn endpoints", "nothing");

  private static TrafficSplitRule canary(int v1, int v2) {
    return Meshes.split("canary", "2026-01-01T00:00:00Z", "payments",
        new WeightedService("payments-v1", 0, v1), new WeightedService("payments-v2", 0, v2));
  }

  private static Listener listener(ProxyConfig config, String name) {
    return config.listeners().stream().filter(l -> l.getName().equals(name)).findFirst().orElseThrow();
  }

  /** {@code state} after one edit of kind {@code edit}; {@code donor} is a mesh to take new things from. */
  private static MeshState edited(MeshState state, String edit, Random random, MeshState donor) {
    Map<ServiceKey, MeshService> services = new LinkedHashMap<>(state.services());
    List<TrafficSplitRule> splits = new ArrayList<>(state.splits());
    List<HttpRouting> routings = new ArrayList<>(state.routings());
    List<ServiceKey> keys = new ArrayList<>(services.keySet());
    switch (edit) {
      case "weights" -> {
        if (!splits.isEmpty()) {
          int i = random.nextInt(splits.size());
          TrafficSplitRule split = splits.get(i);
          splits.set(i, new TrafficSplitRule(split.source(), split.root(), split.backends().stream()
              .map(b -> new WeightedService(b.service(), b.port(), random.nextInt(101))).toList()));
        }
      }
      case "add split" -> {
        if (!donor.splits().isEmpty()) {
          splits.add(donor.splits().get(random.nextInt(donor.splits().size())));
        }
      }
      case "remove split" -> {
        if (!splits.isEmpty()) {
          splits.remove(random.nextInt(splits.size()));
        }
      }
      case "change routing" -> {
        if (!routings.isEmpty()) {
          int i = random.nextInt(routings.size());
          HttpRouting routing = routings.get(i);
          List<HttpRouting.Rule> rules = new ArrayList<>(routing.rules());
          if (!rules.isEmpty() && random.nextBoolean()) {
            rules.remove(random.nextInt(rules.size()));
          } else if (!donor.routings().isEmpty()) {
            rules.addAll(donor.routings().get(random.nextInt(donor.routings().size())).rules());
          }
          Collections.shuffle(rules, random);
          routings.set(i, new HttpRouting(routing.source(), routing.service(), routing.port(), rules));
        }
      }
      case "add routing" -> {
        if (!donor.routings().isEmpty()) {
          routings.add(donor.routings().get(random.nextInt(donor.routings().size())));
        }
      }
      case "remove routing" -> {
        if (!routings.isEmpty()) {
          routings.remove(random.nextInt(routings.size()));
        }
      }
      case "add Service" -> {
        List<MeshService> candidates = List.copyOf(donor.services().values());
        if (!candidates.isEmpty()) {
          MeshService added = candidates.get(random.nextInt(candidates.size()));
          services.put(added.key(), added);
        }
      }
      case "remove Service" -> {
        if (!keys.isEmpty()) {
          services.remove(keys.get(random.nextInt(keys.size())));
        }
      }
      case "change port" -> {
        if (!keys.isEmpty()) {
          MeshService service = services.get(keys.get(random.nextInt(keys.size())));
          List<ServicePort> ports = new ArrayList<>(service.ports());
          if (!ports.isEmpty()) {
            int i = random.nextInt(ports.size());
            ServicePort port = ports.get(i);
            Protocol[] protocols = Protocol.values();
            ports.set(i, random.nextBoolean()
                ? new ServicePort(port.name(), port.port(), protocols[random.nextInt(protocols.length)])
                : new ServicePort(port.name(), 1 + random.nextInt(9000), port.protocol()));
          }
          services.put(service.key(), new MeshService(service.key(), service.clusterIp(), ports, service.endpoints(),
              service.serviceAccounts()));
        }
      }
      case "change cluster IP" -> {
        if (!keys.isEmpty()) {
          MeshService service = services.get(keys.get(random.nextInt(keys.size())));
          String ip = random.nextInt(4) == 0 ? "" : "10.96.7." + (1 + random.nextInt(250));
          services.put(service.key(), new MeshService(service.key(), ip, service.ports(), service.endpoints(),
              service.serviceAccounts()));
        }
      }
      case "churn endpoints" -> {
        return withChurnedEndpoints(state, random);
      }
      default -> {
        // An equal state, another instance: a resync that changed nothing.
      }
    }
    return new MeshState(services, splits, routings, state.aliases(), state.permissiveNamespaces());
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
