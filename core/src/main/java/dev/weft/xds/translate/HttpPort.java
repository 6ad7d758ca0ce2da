package dev.weft.xds.translate;

import dev.weft.mesh.MeshService;
import dev.weft.mesh.ServicePort;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** An HTTP port of a Service with its virtual host's name, and whether it is the port the Service's bare names mean. */
record HttpPort(MeshService service, ServicePort port, String virtualHost, boolean primary) {

  /**
   * The HTTP ports of {@code service}, in its port order, spelled once per Service object: the
   * state builder keeps an unchanged Service the very instance, so a change re-spells the names of
   * the Services it touched, not of the mesh (the route and listener translations both walk them).
   */
  static List<HttpPort> of(MeshService service, TranslationCache cache) {
    TranslationCache.Identity key = new TranslationCache.Identity("httpPorts", service, null);
    List<HttpPort> known = cache.get(key);
    if (known != null) {
      return known;
    }
    Optional<ServicePort> primary = RouteTranslator.primaryPort(service);
    List<HttpPort> ports = new ArrayList<>();
    for (ServicePort port : service.ports()) {
      if (port.protocol().isHttp()) {
        ports.add(new HttpPort(service, port, ResourceNames.virtualHost(service.key(), port.port()),
            primary.get().port() == port.port()));
      }
    }
    List<HttpPort> built = List.copyOf(ports);
    cache.put(key, built);
    return built;
  }
}
