package dev.weft.xds.translate;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.UInt32Value;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.xds.tls.MutualTls;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.network.direct_response.v3.Config;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * LDS: how traffic enters a proxy.
 *
 * <p><b>Sidecar, outbound</b> ({@value ResourceNames#OUTBOUND_LISTENER}, on
 * {@code <inboundAddress>:15001}, with the {@code original_dst} listener filter so that
 * connections redirected by iptables are matched on the address the application dialled): one
 * filter chain per TCP Service port, matching the destination port and the Service's cluster IP
 * (/32 or /128) and proxying bytes to the port's default destination (its TrafficSplit, if any);
 * in capture mode (inbound address 0.0.0.0, iptables) also one filter chain per HTTP Service port
 * with a cluster IP, matched the same way, whose HTTP connection manager takes that port's own
 * route configuration ({@link ResourceNames#serviceRoutes}) over RDS; then a filter chain without
 * conditions for everything else (in capture mode the passthrough below), an HTTP connection
 * manager that routes by Host header with the route configuration of the client's namespace,
 * preceded by the same catch-all matching only the
 * destination port for each port the chains above use (Envoy picks the port before the address, so
 * without it an unknown address on such a port would match no chain and be reset). In local mode
 * (a pod address, no iptables: applications call the sidecar itself) the catch-all is the only
 * HTTP path, so it names every HTTP Service port; in capture mode it names only those without a
 * chain (headless Services).
 *
 * <p><b>Passthrough (capture mode).</b> iptables sends the sidecar every outbound TCP connection
 * of its pod, not only those to the mesh, and they must keep working. So in capture mode the last
 * chain, without conditions, is a TCP proxy to the ORIGINAL_DST cluster
 * {@value ResourceNames#PASSTHROUGH}: a connection to a destination the mesh does not know goes
 * on, bytes untouched, to where it was headed. The per-port catch-alls exist for every port of a
 * mesh Service (with or without cluster IP): an HTTP one routes by Host header (headless Services
 * by name) and passes every other Host through ({@link RouteTranslator#outboundWithPassthrough});
 * one on a port only TCP Services use passes the connection through as bytes. A last chain for
 * destination port 15001 closes what was not redirected but dialled to the listener itself, which
 * passthrough would otherwise send back to itself forever.
 * Routing by destination address is what keeps a weight edit small: it changes one Service port's
 * route configuration, not one holding every Service of the mesh.
 * The catch-all is a filter chain rather than {@code default_filter_chain}: Envoy treats them the
 * same, and java-control-plane's snapshot consistency check only looks at filter chains. TCP ports
 * of headless Services have no cluster IP to match and are not proxied; their HTTP ports are
 * reached by name.
 *
 * <p><b>Sidecar, inbound</b>, in one of two modes, chosen by the group's inbound address:
 * <ul>
 *   <li>{@code 0.0.0.0} (iptables mode): inbound traffic is redirected to one listener
 *       {@value ResourceNames#INBOUND_LISTENER} on 0.0.0.0:15006 with the {@code original_dst}
 *       listener filter; a filter chain per application port (matched on the original destination
 *       port) proxies to {@code inbound|<port>}, which is 127.0.0.1:{@code <port>}.
 *   <li>a pod address (local mode, no iptables, e.g. a demo on one machine): the sidecar stands in
 *       front of the application, with one listener {@code inbound|<port>} per application port
 *       bound on {@code <address>:<port>} that proxies to 127.0.0.1:{@code <port>}.
 * </ul>
 * Application ports that are sidecar ports (15000, 15001, 15006, 15021, 15090) are not proxied and are
 * reported: they would collide with the sidecar's own listeners.
 * Under iptables the redirect takes inbound connections to every port, so the inbound listener
 * ends with a chain without conditions that passes the others to the application through the
 * ORIGINAL_DST cluster {@value ResourceNames#INBOUND_PASSTHROUGH} (Istio's
 * InboundPassthroughCluster), under the same mTLS mode as the declared ports, so a port the pod
 * leaves out of its Services is no way around strict mTLS; plus a chain closing connections
 * dialled to 15006 itself. The listener exists even without application ports.
 * A sidecar with an identity (an SDS directory) terminates mTLS on every inbound chain and
 * requires a client certificate from the trust domain ({@link MutualTls.InboundMode#STRICT}); in a
 * namespace labelled {@code weft.dev/mtls=permissive} each chain also has a plaintext twin, told
 * apart by the TLS inspector ({@link MutualTls.InboundMode#PERMISSIVE}). A sidecar without an
 * identity cannot terminate TLS and gets plaintext chains.
 *
 * <p><b>Proxyless gRPC</b>: no outbound or inbound listener; one API listener per HTTP Service
 * port, named as grpc-java asks for it ({@link ResourceNames#apiListener}), holding an HTTP
 * connection manager with RDS over ADS and the router filter, the shape gRPC's xDS client requires.
 */
public final class ListenerTranslator {

  public static final int OUTBOUND_PORT = 15001;
  public static final int INBOUND_PORT = 15006;
  /** Where an injected sidecar answers the app's rewritten kubelet probes (its bootstrap's own listener). */
  public static final int APP_HEALTH_PORT = 15021;
  /** Envoy admin, outbound, inbound, app probes and Prometheus stats: the sidecar's own ports. */
  public static final Set<Integer> SIDECAR_PORTS =
      Set.of(15000, OUTBOUND_PORT, INBOUND_PORT, APP_HEALTH_PORT, 15090);

  static final String HTTP_CONNECTION_MANAGER = "envoy.filters.network.http_connection_manager";
  static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";
  static final String ROUTER = "envoy.filters.http.router";
  static final String ORIGINAL_DST = "envoy.filters.listener.original_dst";
  static final String DIRECT_RESPONSE = "envoy.filters.network.direct_response";

  private static final ConfigSource ADS = ConfigSource.newBuilder()
      .setAds(AggregatedConfigSource.getDefaultInstance())
      .setResourceApiVersion(ApiVersion.V3)
      .build();
  private static final ListenerFilter ORIGINAL_DST_FILTER = ListenerFilter.newBuilder()
      .setName(ORIGINAL_DST)
      .setTypedConfig(Any.pack(OriginalDst.getDefaultInstance()))
      .build();
  private static final HttpFilter ROUTER_FILTER = HttpFilter.newBuilder()
      .setName(ROUTER)
      .setTypedConfig(Any.pack(Router.getDefaultInstance()))
      .build();

  private final MeshState state;
  private final String trustDomain;
  /** The last translation's chains and listeners, reused where their inputs did not change. */
  private final TranslationCache cache;
  /** TCP chains, in Service order; every sidecar's outbound listener has them. */
  private final List<FilterChain> tcpChains = new ArrayList<>();
  /** HTTP chains by destination, in Service order; only capture-mode listeners have them. */
  private final List<FilterChain> httpChains = new ArrayList<>();
  /** The virtual hosts (HTTP Service ports) that {@link #httpChains} route, so the catch-all can leave them out. */
  private final Set<String> capturedHosts = new LinkedHashSet<>();
  /** Every port number some Service declares HTTP on, cluster IP or not: capture mode routes them by Host. */
  private final Set<Integer> httpPorts = new TreeSet<>();
  private final List<Rejection> rejections = new ArrayList<>();

  public ListenerTranslator(MeshState state, TrafficPlan plan) {
    this(state, plan, MutualTls.DEFAULT_TRUST_DOMAIN);
  }

  /** A TCP Service port's chain is made of exactly this. */
  private record TcpChainKey(ServiceKey service, ServicePort port, String clusterIp, TrafficPlan.Destination destination) {}

  /** A cluster IP and port that one Service's chain matches. */
  private record Claim(String clusterIp, int port) {}

  /** An HTTP Service port's chain (capture mode) is made of exactly this. */
  private record HttpChainKey(ServiceKey service, ServicePort port, String clusterIp) {}

  /** Listeners whose inbound side accepts client certificates of {@code trustDomain}. */
  public ListenerTranslator(MeshState state, TrafficPlan plan, String trustDomain) {
    this(state, plan, trustDomain, new TranslationCache());
  }

  /**
   * Listeners whose filter chains and listeners are the objects {@code cache} holds from the last
   * translation wherever their inputs are unchanged.
   */
  ListenerTranslator(MeshState state, TrafficPlan plan, String trustDomain, TranslationCache cache) {
    this.state = state;
    this.trustDomain = trustDomain;
    this.cache = cache;
    Map<Claim, MeshService> claimed = new HashMap<>();
    for (MeshService service : state.services().values()) {
      List<HttpPort> http = HttpPort.of(service, cache);
      for (HttpPort port : http) {
        httpPorts.add(port.port().port());
      }
      if (!IpLiteral.isValid(service.clusterIp())) {
        continue;
      }
      // The HTTP ports, named, come in the Service's port order: the n-th HTTP port is http's n-th.
      int httpIndex = 0;
      for (ServicePort port : service.ports()) {
        boolean isHttp = port.protocol().isHttp();
        String virtualHost = isHttp ? http.get(httpIndex++).virtualHost() : null;
        MeshService owner = claimed.putIfAbsent(new Claim(service.clusterIp(), port.port()), service);
        if (owner != null) {
          // Two Services on one cluster IP cannot happen in Kubernetes; two equal filter chain
          // matches would make Envoy refuse the listener, so the first by name keeps it.
          rejections.add(new Rejection(serviceRef(service), new FieldError("spec.clusterIP",
              FieldError.Reason.CONFLICTED, service.clusterIp() + " port " + port.port() + " is also claimed by "
              + "Service " + owner.key() + "; traffic sent to that address goes to " + owner.key())));
          continue;
        }
        if (isHttp) {
          httpChains.add(cache.computeIfAbsent(new HttpChainKey(service.key(), port, service.clusterIp()),
              () -> httpChain(service, port)));
          capturedHosts.add(virtualHost);
        } else {
          TrafficPlan.Destination destination = plan.defaultDestination(service.key(), port);
          tcpChains.add(cache.computeIfAbsent(new TcpChainKey(service.key(), port, service.clusterIp(), destination),
              () -> tcpChain(service, port, destination)));
        }
      }
    }
  }

  /** The ports of the outbound listener's catch-all chains, without and with capture; each found once. */
  private Set<Integer> catchAllPorts;
  private Set<Integer> captureCatchAllPorts;

  /**
   * The destination ports of the Service chains, which each need a catch-all; in capture mode
   * also every HTTP port. The same for every namespace's listener, so found once per translation.
   */
  private synchronized Set<Integer> catchAllPorts(boolean capture) {
    Set<Integer> known = capture ? captureCatchAllPorts : catchAllPorts;
    if (known != null) {
      return known;
    }
    Set<Integer> ports = new TreeSet<>();
    tcpChains.forEach(c -> ports.add(c.getFilterChainMatch().getDestinationPort().getValue()));
    if (capture) {
      httpChains.forEach(c -> ports.add(c.getFilterChainMatch().getDestinationPort().getValue()));
      // Headless Services' HTTP ports too: the last chain passes bytes through, it routes no Host.
      ports.addAll(httpPorts);
      // The loop guard holds this port.
      ports.remove(OUTBOUND_PORT);
    }
    Set<Integer> found = Collections.unmodifiableSet(ports);
    if (capture) {
      captureCatchAllPorts = found;
    } else {
      catchAllPorts = found;
    }
    return found;
  }

  /** Problems found while building the shared listener parts. */
  public List<Rejection> rejections() {
    return List.copyOf(rejections);
  }

  /**
   * The outbound listener bound on {@code bindAddress}:15001, with the catch-all routing HTTP by
   * Host header with {@code routeConfigName}. In capture mode ({@code bindAddress} 0.0.0.0) it
   * also has a chain per HTTP Service port with a cluster IP, routing by destination address, and
   * passes what the mesh does not know through to its original destination.
   */
  public Listener outbound(String bindAddress, String routeConfigName) {
    boolean capture = isCaptureMode(bindAddress);
    Listener.Builder listener = Listener.newBuilder()
        .setName(ResourceNames.OUTBOUND_LISTENER)
        .setAddress(EndpointTranslator.socketAddress(bindAddress, OUTBOUND_PORT))
        .setTrafficDirection(TrafficDirection.OUTBOUND)
        .addListenerFilters(ORIGINAL_DST_FILTER)
        .addAllFilterChains(tcpChains);
    if (capture) {
      listener.addAllFilterChains(httpChains);
    }
    // Envoy narrows the chains by destination port before it looks at the address, and never
    // widens again: a connection to an address no chain matches, on a port some chain uses, would
    // match nothing and be reset. So each such port gets a catch-all of its own.
    // The catch-alls depend on nothing but what their key names, so a mesh change keeps them.
    for (int port : catchAllPorts(capture)) {
      FilterChainMatch match = FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(port)).build();
      if (capture && !httpPorts.contains(port)) {
        listener.addFilterChains(cache.computeIfAbsent(new TranslationCache.Named("passthroughChain", port),
            () -> passthroughChain(ResourceNames.PASSTHROUGH + "|" + port, match)));
      } else {
        listener.addFilterChains(cache.computeIfAbsent(
            new TranslationCache.Named("hostChain", List.of(port, routeConfigName)),
            () -> FilterChain.newBuilder()
                .setName("http|" + port)
                .setFilterChainMatch(match)
                .addFilters(httpConnectionManager(routeConfigName))
                .build()));
      }
    }
    if (!capture) {
      return listener
          .addFilterChains(cache.computeIfAbsent(new TranslationCache.Named("hostChain", routeConfigName),
              () -> FilterChain.newBuilder()
                  .setName("http")
                  .addFilters(httpConnectionManager(routeConfigName))
                  .build()))
          .build();
    }
    return listener
        .addFilterChains(cache.computeIfAbsent(new TranslationCache.Named("loopGuard", OUTBOUND_PORT),
            () -> loopGuard(OUTBOUND_PORT)))
        .addFilterChains(cache.computeIfAbsent(new TranslationCache.Named("passthroughChain", "any"),
            () -> passthroughChain(ResourceNames.PASSTHROUGH, FilterChainMatch.getDefaultInstance())))
        .build();
  }

  /**
   * True when the outbound listener on {@code bindAddress} has a chain that routes by Host header,
   * so its route configuration must be sent: always in local mode; in capture mode only when some
   * Service declares an HTTP port, since everything else passes through as bytes.
   */
  public boolean routesByHost(String bindAddress) {
    return !isCaptureMode(bindAddress) || httpPorts.stream().anyMatch(port -> port != OUTBOUND_PORT);
  }

  /**
   * True when the sidecar's traffic is redirected to it by iptables, so the original destination
   * is the address the application dialled; otherwise (a pod address, local mode) applications
   * call the sidecar itself and only the Host header names the Service.
   */
  public static boolean isCaptureMode(String inboundAddress) {
    return ProxyGroup.ANY_ADDRESS.equals(inboundAddress);
  }

  /**
   * The virtual hosts (named as {@link ResourceNames#virtualHost}) that capture-mode listeners
   * route by destination address, each with a route configuration of its own; the others (headless
   * Services, a port whose cluster IP another Service claimed) are reached by Host header only.
   */
  public Set<String> capturedHosts() {
    return Collections.unmodifiableSet(capturedHosts);
  }

  /**
   * The inbound listener(s) of a sidecar group, for the ports {@link #proxiedAppPorts} keeps, and
   * under iptables for every other port through {@value ResourceNames#INBOUND_PASSTHROUGH}.
   */
  public List<Listener> inbound(ProxyGroup group) {
    List<Listener> listeners = new ArrayList<>();
    for (Listener listener : freshInbound(group)) {
      // Equal groups (apart from the service account) have equal inbound listeners.
      listeners.add(cache.same(new TranslationCache.Named("inboundListener", Arrays.asList(group.namespace(),
          group.inboundAddress(), group.appPorts(), group.sdsDirectory(), listener.getName())), listener));
    }
    return listeners;
  }

  private List<Listener> freshInbound(ProxyGroup group) {
    List<Integer> ports = proxiedAppPorts(group);
    MutualTls.InboundMode mode = state.isPermissive(group.namespace())
        ? MutualTls.InboundMode.PERMISSIVE : MutualTls.InboundMode.STRICT;
    if (isCaptureMode(group.inboundAddress())) {
      Listener.Builder listener = Listener.newBuilder()
          .setName(ResourceNames.INBOUND_LISTENER)
          .setAddress(EndpointTranslator.socketAddress(ProxyGroup.ANY_ADDRESS, INBOUND_PORT))
          .setTrafficDirection(TrafficDirection.INBOUND)
          .addListenerFilters(ORIGINAL_DST_FILTER);
      for (int port : ports) {
        listener.addAllFilterChains(secured(group, mode, FilterChain.newBuilder()
            .setName(ResourceNames.inboundCluster(port))
            .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(port)))
            .addFilters(inboundProxy(port))
            .build()));
      }
      listener.addAllFilterChains(secured(group, mode, FilterChain.newBuilder()
              .setName(ResourceNames.INBOUND_PASSTHROUGH)
              .addFilters(tcpProxy(ResourceNames.INBOUND_PASSTHROUGH,
                  TrafficPlan.Destination.of(ResourceNames.INBOUND_PASSTHROUGH)))
              .build()))
          .addFilterChains(loopGuard(INBOUND_PORT));
      if (group.hasIdentity()) {
        listener.addAllListenerFilters(MutualTls.listenerFilters(mode));
      }
      return List.of(listener.build());
    }
    List<Listener> listeners = new ArrayList<>();
    for (int port : ports) {
      Listener.Builder listener = Listener.newBuilder()
          .setName(ResourceNames.inboundListener(port))
          .setAddress(EndpointTranslator.socketAddress(group.inboundAddress(), port))
          .setTrafficDirection(TrafficDirection.INBOUND);
      if (group.hasIdentity()) {
        // Named, so that a permissive listener's two chains have distinct names.
        listener.addAllFilterChains(secured(group, mode, FilterChain.newBuilder()
                .setName(ResourceNames.inboundCluster(port))
                .addFilters(inboundProxy(port))
                .build()))
            .addAllListenerFilters(MutualTls.listenerFilters(mode));
      } else {
        listener.addFilterChains(FilterChain.newBuilder().addFilters(inboundProxy(port)));
      }
      listeners.add(listener.build());
    }
    return listeners;
  }

  /** {@code plaintext} behind mTLS as {@code mode} says, when the group has an identity; else as it is. */
  private List<FilterChain> secured(ProxyGroup group, MutualTls.InboundMode mode, FilterChain plaintext) {
    if (!group.hasIdentity()) {
      return List.of(plaintext);
    }
    return MutualTls.inbound(plaintext, mode, group.sdsDirectory(), trustDomain);
  }

  /** The API listeners of proxyless gRPC clients, one per HTTP Service port, sorted by name. */
  public List<Listener> proxyless() {
    List<Listener> listeners = new ArrayList<>();
    for (MeshService service : state.services().values()) {
      for (ServicePort port : service.ports()) {
        if (!port.protocol().isHttp()) {
          continue;
        }
        String name = ResourceNames.apiListener(service.key(), port.port());
        HttpConnectionManager http = HttpConnectionManager.newBuilder()
            .setStatPrefix(name)
            .setRds(Rds.newBuilder().setConfigSource(ADS).setRouteConfigName(name))
            .addHttpFilters(ROUTER_FILTER)
            .build();
        listeners.add(cache.same(new TranslationCache.Named("apiListener", name), Listener.newBuilder()
            .setName(name)
            .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(http)))
            .build()));
      }
    }
    listeners.sort(Comparator.comparing(Listener::getName));
    return listeners;
  }

  /**
   * The application ports of a group that get an inbound listener and cluster: valid port numbers
   * that are not sidecar ports, in ascending order.
   */
  public static List<Integer> proxiedAppPorts(ProxyGroup group) {
    return group.appPorts().stream()
        .filter(p -> p >= 1 && p <= 65535 && !SIDECAR_PORTS.contains(p))
        .toList();
  }

  /**
   * A chain that proxies the bytes of what {@code match} selects (everything, when it is empty)
   * to {@value ResourceNames#PASSTHROUGH}.
   */
  private static FilterChain passthroughChain(String name, FilterChainMatch match) {
    FilterChain.Builder chain = FilterChain.newBuilder()
        .setName(name)
        .addFilters(tcpProxy(ResourceNames.PASSTHROUGH, TrafficPlan.Destination.of(ResourceNames.PASSTHROUGH)));
    if (!match.equals(FilterChainMatch.getDefaultInstance())) {
      chain.setFilterChainMatch(match);
    }
    return chain.build();
  }

  /**
   * A chain that closes connections whose destination is the listener's own {@code port}: they
   * were dialled to the sidecar directly, not redirected, and passing them through would connect
   * the sidecar to itself again and again.
   */
  private static FilterChain loopGuard(int port) {
    return FilterChain.newBuilder()
        .setName("loop|" + port)
        .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(port)))
        .addFilters(Filter.newBuilder()
            .setName(DIRECT_RESPONSE)
            .setTypedConfig(Any.pack(Config.getDefaultInstance())))
        .build();
  }

  private FilterChain tcpChain(MeshService service, ServicePort port, TrafficPlan.Destination destination) {
    String cluster = ResourceNames.outboundCluster(service.key(), port.port());
    return FilterChain.newBuilder()
        .setName(cluster)
        .setFilterChainMatch(destinationMatch(service, port))
        .addFilters(tcpProxy(cluster, destination))
        .build();
  }

  /**
   * The chain for one HTTP Service port in capture mode: its own route configuration, so a weight
   * or rule change re-sends that small resource and not every Service's routes.
   */
  private static FilterChain httpChain(MeshService service, ServicePort port) {
    return FilterChain.newBuilder()
        .setName(ResourceNames.outboundCluster(service.key(), port.port()))
        .setFilterChainMatch(destinationMatch(service, port))
        .addFilters(httpConnectionManager(ResourceNames.serviceRoutes(service.key(), port.port())))
        .build();
  }

  /** The Service's cluster IP (/32 or /128) and port, as the original destination of a connection. */
  private static FilterChainMatch destinationMatch(MeshService service, ServicePort port) {
    return FilterChainMatch.newBuilder()
        .setDestinationPort(UInt32Value.of(port.port()))
        .addPrefixRanges(CidrRange.newBuilder()
            .setAddressPrefix(service.clusterIp())
            .setPrefixLen(UInt32Value.of(IpLiteral.hostPrefixLength(service.clusterIp()))))
        .build();
  }

  private static Filter httpConnectionManager(String routeConfigName) {
    HttpConnectionManager http = HttpConnectionManager.newBuilder()
        .setStatPrefix("outbound_http")
        .setCodecType(HttpConnectionManager.CodecType.AUTO)
        .setRds(Rds.newBuilder().setConfigSource(ADS).setRouteConfigName(routeConfigName))
        // Paths are matched after normalisation, so /api/../admin cannot sneak past a prefix rule.
        .setNormalizePath(BoolValue.of(true))
        .addHttpFilters(ROUTER_FILTER)
        .build();
    return Filter.newBuilder().setName(HTTP_CONNECTION_MANAGER).setTypedConfig(Any.pack(http)).build();
  }

  private static Filter inboundProxy(int port) {
    String cluster = ResourceNames.inboundCluster(port);
    return tcpProxy(cluster, TrafficPlan.Destination.of(cluster));
  }

  private static Filter tcpProxy(String statPrefix, TrafficPlan.Destination destination) {
    TcpProxy.Builder proxy = TcpProxy.newBuilder().setStatPrefix(statPrefix);
    if (destination.isSingleCluster()) {
      proxy.setCluster(destination.backends().get(0).cluster());
    } else {
      TcpProxy.WeightedCluster.Builder weighted = TcpProxy.WeightedCluster.newBuilder();
      for (TrafficPlan.Backend backend : destination.backends()) {
        weighted.addClusters(TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
            .setName(backend.cluster())
            .setWeight(backend.weight()));
      }
      proxy.setWeightedClusters(weighted);
    }
    return Filter.newBuilder().setName(TCP_PROXY).setTypedConfig(Any.pack(proxy.build())).build();
  }

  private static SourceRef serviceRef(MeshService service) {
    return new SourceRef("Service", service.key().namespace(), service.key().name(), 0, "");
  }
}
