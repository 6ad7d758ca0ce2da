package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The outbound route configurations share the virtual hosts of other namespaces' Services, and
 * are still exactly what building each namespace's configuration on its own gives.
 */
class SharedVirtualHostsTest {

  private static final List<String> CLIENT_NAMESPACES = List.of("shop", "web", "ops", "elsewhere");

  @Test
  void eachNamespaceGetsWhatBuildingItAloneGives() {
    for (long seed = 1; seed <= 200; seed++) {
      MeshState state = new RandomMeshes(seed).state();
      RouteTranslator translator = new RouteTranslator(state, TrafficPlan.of(state));
      for (String namespace : CLIENT_NAMESPACES) {
        assertThat(translator.outbound(namespace)).as("seed %d, namespace %s", seed, namespace)
            .isEqualTo(builtAlone(state, namespace));
      }
    }
  }

  @Test
  void otherNamespacesHostsAreOneObjectAndTheOwnOnesCarryTheShortNames() {
    MeshService payments = new MeshService(new ServiceKey("shop", "payments"), "10.0.0.1",
        List.of(Meshes.http(80)), List.of());
    MeshService cart = new MeshService(new ServiceKey("web", "cart"), "10.0.0.2", List.of(Meshes.http(80)), List.of());
    MeshState state = Meshes.state(List.of(payments, cart), List.of(), List.of());
    RouteTranslator translator = new RouteTranslator(state, TrafficPlan.of(state));

    VirtualHost paymentsFromWeb = host(translator.outbound("web"), "payments");
    VirtualHost paymentsFromOps = host(translator.outbound("ops"), "payments");
    VirtualHost cartFromWeb = host(translator.outbound("web"), "cart");
    VirtualHost cartFromOps = host(translator.outbound("ops"), "cart");

    assertThat(paymentsFromWeb).isSameAs(paymentsFromOps);
    assertThat(paymentsFromWeb.getDomainsList()).doesNotContain("payments");
    assertThat(cartFromWeb.getDomainsList()).startsWith("cart", "cart:80", "cart.web", "cart.web:80");
    assertThat(cartFromOps.getDomainsList()).startsWith("cart.web", "cart.web:80");
  }

  private static VirtualHost host(RouteConfiguration routes, String service) {
    return routes.getVirtualHostsList().stream().filter(h -> h.getName().contains(service)).findFirst().orElseThrow();
  }

  /** The straightforward way: every domain of every Service port, deduplicated per namespace. */
  private static RouteConfiguration builtAlone(MeshState state, String clientNamespace) {
    RouteTranslator templates = new RouteTranslator(state, TrafficPlan.of(state));
    RouteConfiguration.Builder routes = RouteConfiguration.newBuilder()
        .setName(ResourceNames.outboundRoutes(clientNamespace));
    Set<String> taken = new HashSet<>();
    for (MeshService service : state.services().values()) {
      Optional<ServicePort> primary = RouteTranslator.primaryPort(service);
      for (ServicePort port : service.ports()) {
        if (!port.protocol().isHttp()) {
          continue;
        }
        List<String> domains = new ArrayList<>();
        for (String domain : RouteTranslator.domains(service, port, primary.get().port() == port.port(),
            clientNamespace)) {
          if (taken.add(domain)) {
            domains.add(domain);
          }
        }
        if (!domains.isEmpty()) {
          routes.addVirtualHosts(VirtualHost.newBuilder()
              .setName(ResourceNames.virtualHost(service.key(), port.port()))
              .addAllRoutes(templates.routes(service, port, RouteTranslator.Dialect.ENVOY))
              .addAllDomains(domains));
        }
      }
    }
    return routes.build();
  }
}
