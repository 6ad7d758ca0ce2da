package dev.weft.xds.server;

import io.envoyproxy.controlplane.cache.Resources;
import java.util.Arrays;

/** The xDS resource types Weft serves, with the short names used in metrics and debug output. */
public enum XdsType {
  CDS(Resources.V3.CLUSTER_TYPE_URL),
  EDS(Resources.V3.ENDPOINT_TYPE_URL),
  LDS(Resources.V3.LISTENER_TYPE_URL),
  RDS(Resources.V3.ROUTE_TYPE_URL),
  SDS(Resources.V3.SECRET_TYPE_URL);

  final String typeUrl;

  XdsType(String typeUrl) {
    this.typeUrl = typeUrl;
  }

  String shortName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The short name for a type URL; an unknown URL stays as it is, so nothing is hidden. */
  public static String shortName(String typeUrl) {
    return Arrays.stream(values())
        .filter(t -> t.typeUrl.equals(typeUrl))
        .findFirst()
        .map(XdsType::shortName)
        .orElse(typeUrl);
  }
}
