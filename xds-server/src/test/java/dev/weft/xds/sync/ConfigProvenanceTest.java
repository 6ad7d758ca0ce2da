package dev.weft.xds.sync;

import static dev.weft.xds.sync.SyncFixtures.CANARY;
import static dev.weft.xds.sync.SyncFixtures.CANARY_V4;
import static dev.weft.xds.sync.SyncFixtures.CDS;
import static dev.weft.xds.sync.SyncFixtures.RDS;
import static dev.weft.xds.sync.SyncFixtures.ROUTES;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.SourceRef;
import dev.weft.xds.translate.ProxyConfig;
import dev.weft.xds.translate.Translation;
import io.envoyproxy.controlplane.cache.Resources;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConfigProvenanceTest {

  private static final ProxyGroup WEB = new ProxyGroup(ProxyGroup.Kind.SIDECAR, "shop", "web", null, List.of(8080));
  private static final ProxyGroup API = new ProxyGroup(ProxyGroup.Kind.SIDECAR, "shop", "api", null, List.of(9090));

  private final ConfigProvenance provenance = new ConfigProvenance();

  private static ProxyConfig config(String routesVersion) {
    return new ProxyConfig(List.of(), "c1", List.of(), "e1", List.of(), "l1", List.of(), routesVersion);
  }

  private static Translation translation(Map<ProxyGroup, ProxyConfig> configs, SourceRef... inRoutes) {
    Map<ProxyGroup, Map<String, Set<SourceRef>>> sources = new HashMap<>();
    configs.keySet().forEach(g -> sources.put(g, Map.of(Translation.ROUTE_TYPE_URL, Set.of(inRoutes))));
    return new Translation(configs, List.of(), sources);
  }

  @Test
  void recordsWhatEachGroupsVersionOfEachTypeContains() {
    Map<ProxyGroup, ProxyConfig> configs = Map.of(WEB, config("r1"), API, config("r9"));

    provenance.record(configs, translation(configs, CANARY, ROUTES));

    assertThat(provenance.sourcesOf(WEB.id(), RDS, "r1")).containsExactlyInAnyOrder(CANARY, ROUTES);
    assertThat(provenance.sourcesOf(API.id(), RDS, "r9")).containsExactlyInAnyOrder(CANARY, ROUTES);
    assertThat(provenance.sourcesOf(WEB.id(), CDS, "c1")).isEmpty();
    assertThat(provenance.sourcesOf(WEB.id(), RDS, "r9")).as("another group's version").isEmpty();
    assertThat(provenance.sourcesOf("nobody", RDS, "r1")).isEmpty();
  }

  @Test
  void recordsTheVersionsOfTheConfigsServedNotOfTheTranslation() {
    Map<ProxyGroup, ProxyConfig> translated = Map.of(WEB, config("r1"));
    Map<ProxyGroup, ProxyConfig> rewritten = Map.of(WEB, config("reject-r1"));

    provenance.record(rewritten, translation(translated, CANARY));

    assertThat(provenance.sourcesOf(WEB.id(), RDS, "reject-r1")).containsExactly(CANARY);
  }

  @Test
  void aLaterTranslationToTheSameVersionReplacesItsSources() {
    Map<ProxyGroup, ProxyConfig> configs = Map.of(WEB, config("r1"));
    provenance.record(configs, translation(configs, CANARY));

    provenance.record(configs, translation(configs, CANARY_V4));

    assertThat(provenance.sourcesOf(WEB.id(), RDS, "r1")).containsExactly(CANARY_V4);
  }

  @Test
  void keepsOnlyTheNewestVersionsOfEachType() {
    for (int i = 0; i < ConfigProvenance.VERSIONS_KEPT + 2; i++) {
      Map<ProxyGroup, ProxyConfig> configs = Map.of(WEB, config("r" + i));
      provenance.record(configs, translation(configs, CANARY));
    }

    assertThat(provenance.sourcesOf(WEB.id(), RDS, "r0")).isEmpty();
    assertThat(provenance.sourcesOf(WEB.id(), RDS, "r1")).isEmpty();
    assertThat(provenance.sourcesOf(WEB.id(), RDS, "r2")).containsExactly(CANARY);
    assertThat(provenance.sourcesOf(WEB.id(), RDS, "r" + (ConfigProvenance.VERSIONS_KEPT + 1)))
        .containsExactly(CANARY);
  }

  @Test
  void forgetsGroupsThePublisherDropped() {
    Map<ProxyGroup, ProxyConfig> configs = Map.of(WEB, config("r1"), API, config("r9"));
    provenance.record(configs, translation(configs, CANARY));

    provenance.retainGroups(List.of(API.id()));

    assertThat(provenance.sourcesOf(WEB.id(), RDS, "r1")).isEmpty();
    assertThat(provenance.sourcesOf(API.id(), RDS, "r9")).containsExactly(CANARY);
  }

  @Test
  void spellsTypeUrlsAsJavaControlPlaneDoes() {
    assertThat(List.of(Translation.CLUSTER_TYPE_URL, Translation.ENDPOINT_TYPE_URL, Translation.LISTENER_TYPE_URL,
        Translation.ROUTE_TYPE_URL)).containsExactly(Resources.V3.CLUSTER_TYPE_URL, Resources.V3.ENDPOINT_TYPE_URL,
        Resources.V3.LISTENER_TYPE_URL, Resources.V3.ROUTE_TYPE_URL);
  }
}
