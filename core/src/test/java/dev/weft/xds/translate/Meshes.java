package dev.weft.xds.translate;

import dev.weft.mesh.Endpoint;
import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.Protocol;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.ServicePort;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import dev.weft.mesh.WeightedService;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Short ways to write mesh state in tests. */
final class Meshes {

  static final String SHOP = "shop";

  private Meshes() {}

  static ServicePort http(int port) {
    return new ServicePort("http-" + port, port, Protocol.HTTP);
  }

  static ServicePort grpc(int port) {
    return new ServicePort("grpc-" + port, port, Protocol.GRPC);
  }

  static ServicePort tcp(int port) {
    return new ServicePort("tcp-" + port, port, Protocol.TCP);
  }

  static Endpoint ready(String address, ServicePort port) {
    return new Endpoint(address, port.port() + 1000, port.name(), Endpoint.Readiness.READY, "");
  }

  static Endpoint endpoint(String address, ServicePort port, Endpoint.Readiness readiness, String zone) {
    return new Endpoint(address, port.port() + 1000, port.name(), readiness, zone);
  }

  static MeshService service(String name, String clusterIp, ServicePort... ports) {
    return new MeshService(new ServiceKey(SHOP, name), clusterIp, Arrays.asList(ports), List.of());
  }

  static MeshService service(ServiceKey key, String clusterIp, List<ServicePort> ports, List<Endpoint> endpoints) {
    return new MeshService(key, clusterIp, ports, endpoints);
  }

  static ServiceKey key(String name) {
    return new ServiceKey(SHOP, name);
  }

  static SourceRef source(String kind, String name, String created) {
    return new SourceRef(kind, SHOP, name, 1, created);
  }

  static TrafficSplitRule split(String name, String created, String root, WeightedService... backends) {
    return new TrafficSplitRule(source("TrafficSplit", name, created), key(root), Arrays.asList(backends));
  }

  static HttpRouting routing(String name, String created, String service, int port, HttpRouting.Rule... rules) {
    return new HttpRouting(source("VirtualService", name, created), key(service), port, Arrays.asList(rules));
  }

  static HttpRouting.Rule rule(String name, List<HttpRouting.Match> matches, List<WeightedService> backends) {
    return new HttpRouting.Rule(name, matches, backends, null, null);
  }

  static HttpRouting.Rule rule(String name, List<HttpRouting.Match> matches, List<WeightedService> backends,
      Duration timeout, HttpRouting.Retries retries) {
    return new HttpRouting.Rule(name, matches, backends, timeout, retries);
  }

  static HttpRouting.Match path(HttpRouting.PathKind kind, String value) {
    return new HttpRouting.Match(new HttpRouting.PathCondition(kind, value), List.of(), null);
  }

  static HttpRouting.Match header(String name, HttpRouting.HeaderKind kind, String value) {
    return new HttpRouting.Match(null, List.of(new HttpRouting.HeaderCondition(name, kind, value)), null);
  }

  static HttpRouting.Match method(String method) {
    return new HttpRouting.Match(null, List.of(), method);
  }

  static MeshState state(List<MeshService> services, List<TrafficSplitRule> splits, List<HttpRouting> routings) {
    Map<ServiceKey, MeshService> byKey = new LinkedHashMap<>();
    services.forEach(s -> byKey.put(s.key(), s));
    return new MeshState(byKey, splits, routings);
  }

  static MeshState state(MeshService... services) {
    return state(List.of(services), List.of(), List.of());
  }

  static ProxyGroup sidecar(String namespace, String serviceAccount, String address, Integer... appPorts) {
    return new ProxyGroup(ProxyGroup.Kind.SIDECAR, namespace, serviceAccount, address, Arrays.asList(appPorts));
  }

  static ProxyGroup proxyless(String namespace, String serviceAccount) {
    return new ProxyGroup(ProxyGroup.Kind.PROXYLESS_GRPC, namespace, serviceAccount, null, List.of());
  }

  static String cluster(String service, int port) {
    return ResourceNames.outboundCluster(key(service), port);
  }
}
