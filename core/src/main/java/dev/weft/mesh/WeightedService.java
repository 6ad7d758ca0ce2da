package dev.weft.mesh;

/** A Service in the same namespace, its weight, and optionally a port (0: the port the request came in on). */
public record WeightedService(String service, int port, int weight) {

  public WeightedService(String service, int weight) {
    this(service, 0, weight);
  }
}
