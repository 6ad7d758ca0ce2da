package dev.weft.xds.translate;

import static dev.weft.xds.translate.Meshes.SHOP;
import static dev.weft.xds.translate.Meshes.http;
import static dev.weft.xds.translate.Meshes.key;
import static dev.weft.xds.translate.Meshes.proxyless;
import static dev.weft.xds.translate.Meshes.ready;
import static dev.weft.xds.translate.Meshes.service;
import static dev.weft.xds.translate.Meshes.sidecar;
import static dev.weft.xds.translate.Meshes.split;
import static dev.weft.xds.translate.Meshes.state;
import static dev.weft.xds.translate.Meshes.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.WeightedService;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.List;
import org.junit.jupiter.api.Test;

class MeshTranslatorTest {

  private static final ServicePort HTTP = http(80);
  private static final MeshService PAYMENTS = Meshes.service(key("payments"), "10.0.0.1", List.of(HTTP, tcp(9000)),
      List.of(ready("10.1.0.1", HTTP)));
  private static final MeshService V2 = service("payments-v2", "10.0.0.2", HTTP);
  private static final ProxyGroup CHECKOUT = sidecar(SHOP, "checkout", "0.0.0.0", 8080);
  private static final ProxyGroup WEB = sidecar("web", "frontend", "0.0.0.0");
  private static final ProxyGroup GRPC = proxyless("web", "grpc-client");

  private final MeshTranslator translator = new MeshTranslator();

  @Test
  void groupsHoldTheVeryListOfEndpointAssignments() {
    ProxyGroup other = sidecar("web", "frontend", "0.0.0.0", 9090);
    Translation translation = translator.translate(state(PAYMENTS, V2), List.of(CHECKOUT, other));

    assertThat(translation.config(other)).isNotSameAs(translation.config(CHECKOUT));
    assertThat(translation.config(other).endpoints()).isSameAs(translation.config(CHECKOUT).endpoints());
  }

  @Test
  void buildsASidecarConfigFromSharedAndOwnParts() {
    ProxyConfig config = translator.translate(state(PAYMENTS, V2), List.of(CHECKOUT)).config(CHECKOUT);

    assertThat(config.clusters()).extracting(Cluster::getName).containsExactly(
        "inbound|8080", "inbound|passthrough", "outbound|80|payments-v2.shop.svc.cluster.local",
        "outbound|80|payments.shop.svc.cluster.local", "outbound|9000|payments.shop.svc.cluster.local", "passthrough");
    // Capture mode: what the mesh does not know goes on to its original destination.
    assertThat(config.clusters()).filteredOn(c -> c.getName().endsWith("passthrough")).allSatisfy(c -> {
      assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
      assertThat(c.getLbPolicy()).isEqualTo(Cluster.LbPolicy.CLUSTER_PROVIDED);
    });
    assertThat(config.endpoints()).extracting(ClusterLoadAssignment::getClusterName).containsExactly(
        "outbound|80|payments-v2.shop.svc.cluster.local", "outbound|80|payments.shop.svc.cluster.local",
        "outbound|9000|payments.shop.svc.cluster.local");
    assertThat(config.listeners()).extracting(Listener::getName).containsExactly("inbound", "outbound");
    // Capture mode: a route configuration per HTTP Service port with a cluster IP, and the
    // Host-header catch-all, which has no Service left to route here, only the passthrough.
    assertThat(config.routes()).extracting(RouteConfiguration::getName).containsExactly(
        "outbound|shop", "payments-v2.shop.svc.cluster.local:80", "payments.shop.svc.cluster.local:80");
    assertThat(config.routes().get(0).getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("passthrough");
    assertThat(config.routes().get(2).getVirtualHostsList()).singleElement()
        .satisfies(h -> assertThat(h.getDomainsList()).containsExactly("*"));
    assertThat(List.of(config.clustersVersion(), config.endpointsVersion(), config.listenersVersion(),
        config.routesVersion())).allSatisfy(v -> assertThat(v).isNotBlank());
  }

  @Test
  void keepsLocalModeWithoutPassthrough() {
    ProxyGroup local = sidecar(SHOP, "checkout", "127.0.0.5", 8080);

    ProxyConfig config = translator.translate(state(PAYMENTS, V2), List.of(local)).config(local);

    // The application calls the sidecar itself: there is no original destination to pass on to.
    assertThat(config.clusters()).extracting(Cluster::getName).noneMatch(name -> name.contains("passthrough"));
    assertThat(config.routes()).singleElement().satisfies(routes -> assertThat(routes.getVirtualHostsList())
        .extracting(VirtualHost::getName).doesNotContain("passthrough"));
    Listener outbound = config.listeners().stream().filter(l -> l.getName().equals("outbound")).findFirst().orElseThrow();
    assertThat(outbound.getFilterChains(outbound.getFilterChainsCount() - 1).getName()).isEqualTo("http");
  }

  @Test
  void givesProxylessClientsApiListenersAndTheirRoutesOnly() {
    ProxyConfig config = translator.translate(state(PAYMENTS, V2), List.of(GRPC)).config(GRPC);

    assertThat(config.listeners()).extracting(Listener::getName)
        .containsExactly("payments-v2.shop.svc.cluster.local:80", "payments.shop.svc.cluster.local:80");
    assertThat(config.listeners()).allSatisfy(l -> assertThat(l.hasApiListener()).isTrue());
    assertThat(config.routes()).extracting(RouteConfiguration::getName)
        .containsExactly("payments-v2.shop.svc.cluster.local:80", "payments.shop.svc.cluster.local:80");
    assertThat(config.clusters()).noneMatch(c -> c.getName().startsWith("inbound|"));
  }

  @Test
  void sharesOneConfigBetweenGroupsThatDifferOnlyInServiceAccount() {
    ProxyGroup other = sidecar(SHOP, "billing", "0.0.0.0", 8080);

    Translation translation = translator.translate(state(PAYMENTS), List.of(CHECKOUT, other, WEB));

    assertThat(translation.config(other)).isSameAs(translation.config(CHECKOUT));
    assertThat(translation.config(WEB).routes()).extracting(RouteConfiguration::getName)
        .containsExactly("outbound|web", "payments.shop.svc.cluster.local:80");
    // The per-Service route configurations are the same objects for every namespace.
    assertThat(translation.config(WEB).routes().get(1)).isSameAs(translation.config(CHECKOUT).routes().get(1));
    assertThat(translation.config(WEB).endpoints()).isEqualTo(translation.config(CHECKOUT).endpoints());
    assertThat(translation.config(WEB).endpointsVersion()).isEqualTo(translation.config(CHECKOUT).endpointsVersion());
    assertThat(translation.config(WEB).routesVersion()).isNotEqualTo(translation.config(CHECKOUT).routesVersion());
  }

  @Test
  void aGroupThatJoinsLaterSharesTheConfigsAndPartsBuiltForTheSameState() {
    MeshState state = state(PAYMENTS, V2);
    ProxyGroup billing = sidecar(SHOP, "billing", "0.0.0.0", 8080);

    Translation first = translator.translate(state, List.of(CHECKOUT));
    Translation joined = translator.translate(state, List.of(billing, WEB));
    Translation rebuilt = translator.translate(state(PAYMENTS, V2), List.of(billing));

    // No copy of the mesh for a group that joins: its config, or the parts of it, exist already.
    assertThat(joined.config(billing)).isSameAs(first.config(CHECKOUT));
    assertThat(joined.config(WEB).endpoints().get(0)).isSameAs(first.config(CHECKOUT).endpoints().get(0));
    assertThat(joined.config(WEB).routes().get(1)).isSameAs(first.config(CHECKOUT).routes().get(1));
    // Another state instance with the same content gives the very config of the last translation:
    // nothing it is made of changed, so everything downstream keyed by identity stays valid.
    assertThat(rebuilt.config(billing)).isSameAs(first.config(CHECKOUT));
  }

  @Test
  void changesOnlyTheVersionsOfTypesWhoseContentChanged() {
    MeshState before = state(PAYMENTS, V2);
    MeshService scaled = Meshes.service(key("payments"), "10.0.0.1", PAYMENTS.ports(),
        List.of(ready("10.1.0.1", HTTP), ready("10.1.0.2", HTTP)));
    MeshState after = state(scaled, V2);

    ProxyConfig first = translator.translate(before, List.of(CHECKOUT)).config(CHECKOUT);
    ProxyConfig again = translator.translate(before, List.of(CHECKOUT)).config(CHECKOUT);
    ProxyConfig second = translator.translate(after, List.of(CHECKOUT)).config(CHECKOUT);

    assertThat(again).isEqualTo(first);
    assertThat(second.endpointsVersion()).isNotEqualTo(first.endpointsVersion());
    assertThat(second.clustersVersion()).isEqualTo(first.clustersVersion());
    assertThat(second.listenersVersion()).isEqualTo(first.listenersVersion());
    assertThat(second.routesVersion()).isEqualTo(first.routesVersion());
  }

  @Test
  void versionsDoNotDependOnTheOrderTheStateWasBuiltIn() {
    MeshState forward = state(List.of(PAYMENTS, V2), List.of(), List.of());
    MeshState backward = state(List.of(V2, PAYMENTS), List.of(), List.of());

    assertThat(translator.translate(forward, List.of(CHECKOUT, GRPC)))
        .isEqualTo(translator.translate(backward, List.of(GRPC, CHECKOUT)));
  }

  @Test
  void reportsRejectionsAndKeepsServingTheRest() {
    MeshState state = state(List.of(PAYMENTS, V2), List.of(split("canary", "2026-01-01T00:00:00Z", "payments",
        new WeightedService("payments-v2", 1), new WeightedService("missing", 1))), List.of());

    Translation translation = translator.translate(state, List.of(CHECKOUT, sidecar(SHOP, "odd", "0.0.0.0", 15001)));

    assertThat(translation.rejections()).extracting(Rejection::toString).containsExactly(
        "ProxyGroup shop/odd: appPorts: 15001 is a sidecar port (15000, 15001, 15006, 15021, 15090), so inbound traffic to "
            + "it is not proxied; move the application to another port",
        "TrafficSplit shop/canary: spec.backends[1].service: Service shop/missing does not exist; create it or "
            + "remove the backend; spec.backends[0].service: Service shop/payments-v2 has no port 9000, which the "
            + "root Service shop/payments exposes; its ports are [80]; add port 9000 to payments-v2 or remove the "
            + "backend (until then, port 9000 of shop/payments serves from its own endpoints)");
    assertThat(translation.config(CHECKOUT).routes().stream()
        .filter(r -> r.getName().equals("payments.shop.svc.cluster.local:80")).findFirst().orElseThrow()
        .getVirtualHosts(0).getRoutes(0).getRoute().getCluster())
        .isEqualTo("outbound|80|payments.shop.svc.cluster.local");
  }

  @Test
  void givesASidecarWithoutAnIpAddressNoListeners() {
    ProxyGroup broken = sidecar(SHOP, "broken", "pod.local", 8080);

    Translation translation = translator.translate(state(PAYMENTS), List.of(broken));

    assertThat(translation.config(broken).listeners()).isEmpty();
    assertThat(translation.config(broken).routes()).isEmpty();
    assertThat(translation.rejections()).singleElement()
        .satisfies(r -> assertThat(r.reason()).startsWith("inboundAddress: 'pod.local' is not an IP address"));
  }

  @Test
  void translatesAnEmptyMesh() {
    Translation translation = translator.translate(MeshState.EMPTY, List.of(CHECKOUT, GRPC));

    assertThat(translation.config(CHECKOUT).listeners()).extracting(Listener::getName)
        .containsExactly("inbound", "outbound");
    // No HTTP port anywhere: the outbound listener passes everything through and routes nothing by Host.
    assertThat(translation.config(CHECKOUT).routes()).isEmpty();
    assertThat(translation.config(CHECKOUT).clusters()).extracting(Cluster::getName)
        .containsExactly("inbound|8080", "inbound|passthrough", "passthrough");
    assertThat(translation.config(GRPC).listeners()).isEmpty();
    assertThat(translation.config(GRPC).routes()).isEmpty();
    assertThat(translation.rejections()).isEmpty();
  }

  @Test
  void keepsEndpointsReadinessOutOfClustersAndRoutes() {
    MeshService draining = Meshes.service(key("payments"), "10.0.0.1", PAYMENTS.ports(),
        List.of(Meshes.endpoint("10.1.0.1", HTTP, Endpoint.Readiness.DRAINING, "")));

    ProxyConfig ready = translator.translate(state(PAYMENTS), List.of(CHECKOUT)).config(CHECKOUT);
    ProxyConfig drained = translator.translate(state(draining), List.of(CHECKOUT)).config(CHECKOUT);

    assertThat(drained.clusters()).isEqualTo(ready.clusters());
    assertThat(drained.endpointsVersion()).isNotEqualTo(ready.endpointsVersion());
  }
}
