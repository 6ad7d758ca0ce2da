package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.Objects;

/** A destination of a routing rule: a Service in the same namespace, a port, a weight. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RouteBackend {

  @Required
  @Size(min = 1, max = 63)
  @Pattern(WeftApi.SERVICE_NAME_PATTERN)
  @JsonPropertyDescription("A Service in the VirtualService's namespace.")
  private String service;

  @Min(1)
  @Max(65535)
  @JsonPropertyDescription("Port of that Service. Unset: the same port number the request came in on.")
  private Integer port;

  @Min(0)
  @Max(TrafficSplitBackend.MAX_WEIGHT)
  @Default("1")
  @JsonPropertyDescription("Relative weight among this rule's backends, 0 to 10000. Default 1.")
  private Integer weight;

  public RouteBackend() {}

  public RouteBackend(String service, Integer port, Integer weight) {
    this.service = service;
    this.port = port;
    this.weight = weight;
  }

  public String getService() {
    return service;
  }

  public void setService(String service) {
    this.service = service;
  }

  public Integer getPort() {
    return port;
  }

  public void setPort(Integer port) {
    this.port = port;
  }

  public Integer getWeight() {
    return weight;
  }

  public void setWeight(Integer weight) {
    this.weight = weight;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RouteBackend b
        && Objects.equals(service, b.service)
        && Objects.equals(port, b.port)
        && Objects.equals(weight, b.weight);
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, port, weight);
  }
}
