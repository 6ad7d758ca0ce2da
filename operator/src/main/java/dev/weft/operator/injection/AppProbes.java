package dev.weft.operator.injection;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import dev.weft.xds.translate.ListenerTranslator;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The app's HTTP probes through the sidecar. Under capture the kubelet's plaintext probe of an app
 * port would land on Envoy's inbound listener, which in a strict namespace accepts only mTLS, and
 * the app would never become Ready. So each {@code httpGet} probe of an app container is pointed at
 * the sidecar's {@value #PORT} ({@code /app-health/<container>/<kind>}), whose listener forwards it
 * over loopback to the app's port and original path; the kubelet still sees the app's own answer.
 * HTTPS probes stay as they are; TCP probes are answered by Envoy accepting the connection.
 */
public final class AppProbes {

  /** The sidecar's port for rewritten app probes (never captured). */
  public static final int PORT = ListenerTranslator.APP_HEALTH_PORT;
  static final String LISTENER = "weft-app-probes";

  /** One app probe: the container and kind (liveness, readiness, startup), the app's port and path. */
  public record Rewrite(String container, String kind, int port, String path) {

    public String sidecarPath() {
      return "/app-health/" + container + "/" + kind;
    }

    String cluster() {
      return "weft-app-port-" + port;
    }
  }

  private AppProbes() {}

  /** The app's HTTP probes that go through the sidecar, in container order. */
  public static List<Rewrite> of(Pod pod) {
    List<Rewrite> rewrites = new ArrayList<>();
    for (Container container : pod.getSpec().getContainers()) {
      probe(container, "liveness", container.getLivenessProbe()).ifPresent(rewrites::add);
      probe(container, "readiness", container.getReadinessProbe()).ifPresent(rewrites::add);
      probe(container, "startup", container.getStartupProbe()).ifPresent(rewrites::add);
    }
    return rewrites;
  }

  private static Optional<Rewrite> probe(Container container, String kind, Probe probe) {
    if (probe == null || probe.getHttpGet() == null) {
      return Optional.empty();
    }
    HTTPGetAction get = probe.getHttpGet();
    if (get.getScheme() != null && !"HTTP".equalsIgnoreCase(get.getScheme())) {
      return Optional.empty();
    }
    Optional<Integer> port = port(container, get.getPort());
    String path = get.getPath() == null || get.getPath().isEmpty() ? "/" : get.getPath();
    return port.map(p -> new Rewrite(container.getName(), kind, p, path.startsWith("/") ? path : "/" + path));
  }

  private static Optional<Integer> port(Container container, IntOrString port) {
    if (port == null) {
      return Optional.empty();
    }
    if (port.getIntVal() != null) {
      return Optional.of(port.getIntVal());
    }
    List<ContainerPort> ports = container.getPorts() == null ? List.of() : container.getPorts();
    return ports.stream().filter(p -> port.getStrVal().equals(p.getName())).map(ContainerPort::getContainerPort)
        .findFirst();
  }

  /** {@code probe} pointed at the sidecar; the rest of it (timings, headers) stays. */
  static Probe rewritten(Probe probe, Rewrite rewrite) {
    return new ProbeBuilder(probe).editHttpGet()
        .withPort(new IntOrString(PORT)).withPath(rewrite.sidecarPath()).withScheme("HTTP")
        .endHttpGet().build();
  }

  /** The container with its HTTP probes rewritten. */
  static Container rewritten(Container container, List<Rewrite> rewrites) {
    Container copy = new ContainerBuilder(container).build();
    for (Rewrite rewrite : rewrites) {
      if (!rewrite.container().equals(container.getName())) {
        continue;
      }
      switch (rewrite.kind()) {
        case "liveness" -> copy.setLivenessProbe(rewritten(copy.getLivenessProbe(), rewrite));
        case "readiness" -> copy.setReadinessProbe(rewritten(copy.getReadinessProbe(), rewrite));
        default -> copy.setStartupProbe(rewritten(copy.getStartupProbe(), rewrite));
      }
    }
    return copy;
  }

  /** {@code bootstrap} with the probe listener on {@value #PORT} and a loopback cluster per app port. */
  static Bootstrap withProbes(Bootstrap bootstrap, List<Rewrite> rewrites) {
    if (rewrites.isEmpty()) {
      return bootstrap;
    }
    VirtualHost.Builder host = VirtualHost.newBuilder().setName("app-probes").addDomains("*");
    for (Rewrite rewrite : rewrites) {
      host.addRoutes(Route.newBuilder()
          .setMatch(RouteMatch.newBuilder().setPath(rewrite.sidecarPath()))
          .setRoute(RouteAction.newBuilder().setCluster(rewrite.cluster()).setPrefixRewrite(rewrite.path())));
    }
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
        .setStatPrefix("weft_app_probes")
        .setRouteConfig(RouteConfiguration.newBuilder().setName(LISTENER).addVirtualHosts(host))
        .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router")
            .setTypedConfig(Any.pack(Router.getDefaultInstance())))
        .build();
    Bootstrap.Builder builder = bootstrap.toBuilder();
    builder.getStaticResourcesBuilder().addListeners(Listener.newBuilder()
        .setName(LISTENER)
        .setAddress(address("0.0.0.0", PORT))
        .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
            .setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm)))));
    for (int port : new TreeSet<>(rewrites.stream().map(Rewrite::port).toList())) {
      String name = "weft-app-port-" + port;
      builder.getStaticResourcesBuilder().addClusters(Cluster.newBuilder()
          .setName(name)
          .setType(Cluster.DiscoveryType.STATIC)
          .setConnectTimeout(Duration.newBuilder().setSeconds(1))
          .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(name)
              .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                  .setEndpoint(Endpoint.newBuilder().setAddress(address("127.0.0.1", port)))))));
    }
    return builder.build();
  }

  private static Address address(String host, int port) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port))
        .build();
  }
}
