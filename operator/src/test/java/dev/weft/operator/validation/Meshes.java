package dev.weft.operator.validation;

import dev.weft.api.v1alpha1.AccessPolicy;
import dev.weft.api.v1alpha1.AccessPolicySpec;
import dev.weft.api.v1alpha1.AccessRequest;
import dev.weft.api.v1alpha1.AccessRule;
import dev.weft.api.v1alpha1.AccessSource;
import dev.weft.api.v1alpha1.HeaderMatch;
import dev.weft.api.v1alpha1.PathMatch;
import dev.weft.api.v1alpha1.RouteBackend;
import dev.weft.api.v1alpha1.RouteMatch;
import dev.weft.api.v1alpha1.RouteRule;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.TrafficSplitBackend;
import dev.weft.api.v1alpha1.TrafficSplitSpec;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.api.v1alpha1.VirtualServiceSpec;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds namespaces of Services, splits and routes for validation tests, in the namespace "shop". */
final class Meshes {

  static final String NS = "shop";

  private final Map<String, Service> services = new LinkedHashMap<>();
  private final List<TrafficSplit> splits = new ArrayList<>();
  private final List<VirtualService> virtualServices = new ArrayList<>();

  private Meshes() {}

  static Meshes namespace() {
    return new Meshes();
  }

  /** A Service whose ports all speak HTTP. */
  Meshes http(String name, int... ports) {
    return service(name, "http", ports);
  }

  Meshes tcp(String name, int... ports) {
    return service(name, null, ports);
  }

  /** A Service whose ports are named "p" and their number, each declaring {@code appProtocol} (null: TCP). */
  Meshes service(String name, String appProtocol, int... ports) {
    ServiceBuilder service = new ServiceBuilder().withNewMetadata().withNamespace(NS).withName(name).endMetadata()
        .withNewSpec().withClusterIP("10.96.0." + (services.size() + 1)).endSpec();
    for (int port : ports) {
      service.editSpec().addNewPort().withName("p" + port).withPort(port).withAppProtocol(appProtocol).endPort()
          .endSpec();
    }
    services.put(name, service.build());
    return this;
  }

  Meshes externalName(String name) {
    services.put(name, new ServiceBuilder().withNewMetadata().withNamespace(NS).withName(name).endMetadata()
        .withNewSpec().withType("ExternalName").withExternalName(name + ".example.com").endSpec().build());
    return this;
  }

  Meshes with(TrafficSplit split) {
    splits.add(split);
    return this;
  }

  Meshes with(VirtualService vs) {
    virtualServices.add(vs);
    return this;
  }

  NamespaceView view() {
    return new NamespaceView(NS, List.copyOf(services.values()), splits, virtualServices);
  }

  /** A split created at minute {@code minute} of a fixed hour, backends as "name=weight". */
  static TrafficSplit split(String name, int minute, String root, String... backends) {
    List<TrafficSplitBackend> list = Arrays.stream(backends).map(b -> b.split("="))
        .map(b -> new TrafficSplitBackend(b[0], Integer.parseInt(b[1]))).toList();
    TrafficSplit split = new TrafficSplit();
    split.setMetadata(meta(name, minute));
    split.setSpec(new TrafficSplitSpec(root, list));
    return split;
  }

  static VirtualService vs(String name, int minute, String service, Integer port, RouteRule... rules) {
    VirtualService vs = new VirtualService();
    vs.setMetadata(meta(name, minute));
    VirtualServiceSpec spec = new VirtualServiceSpec();
    spec.setService(service);
    spec.setPort(port);
    spec.setRules(List.of(rules));
    vs.setSpec(spec);
    return vs;
  }

  /** A rule sending requests with a path prefix to backends "service" or "service:port". */
  static RouteRule rule(String pathPrefix, String... backends) {
    RouteRule rule = new RouteRule();
    if (pathPrefix != null) {
      RouteMatch match = new RouteMatch();
      match.setPath(new PathMatch(PathMatch.Type.PathPrefix, pathPrefix));
      rule.setMatches(List.of(match));
    }
    rule.setBackends(Arrays.stream(backends).map(b -> b.split(":"))
        .map(b -> new RouteBackend(b[0], b.length > 1 ? Integer.valueOf(b[1]) : null, 1)).toList());
    return rule;
  }

  static RouteRule regexRule(String regex) {
    RouteRule rule = new RouteRule();
    RouteMatch match = new RouteMatch();
    match.setPath(new PathMatch(PathMatch.Type.RegularExpression, regex));
    rule.setMatches(List.of(match));
    return rule;
  }

  static RouteRule headerRegexRule(String header, String regex) {
    RouteRule rule = new RouteRule();
    RouteMatch match = new RouteMatch();
    match.setHeaders(List.of(new HeaderMatch(header, HeaderMatch.Type.RegularExpression, regex)));
    rule.setMatches(List.of(match));
    return rule;
  }

  static AccessPolicy policy(String name, String service, List<Integer> ports, PathMatch... paths) {
    AccessPolicy policy = new AccessPolicy();
    policy.setMetadata(meta(name, 0));
    AccessPolicySpec spec = new AccessPolicySpec();
    spec.setService(service);
    AccessRule rule = new AccessRule();
    rule.setFrom(List.of(new AccessSource(null, "checkout")));
    if (!ports.isEmpty() || paths.length > 0) {
      AccessRequest to = new AccessRequest();
      to.setPorts(ports);
      to.setPaths(List.of(paths));
      rule.setTo(to);
    }
    spec.setRules(List.of(rule));
    policy.setSpec(spec);
    return policy;
  }

  private static io.fabric8.kubernetes.api.model.ObjectMeta meta(String name, int minute) {
    return new ObjectMetaBuilder().withName(name).withNamespace(NS).withGeneration(1L)
        .withCreationTimestamp(String.format("2025-05-01T10:%02d:00Z", minute)).build();
  }

  static String qualified(HasMetadata resource) {
    return resource.getMetadata().getNamespace() + "/" + resource.getMetadata().getName();
  }

}
