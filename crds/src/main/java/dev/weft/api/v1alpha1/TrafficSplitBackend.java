package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.Objects;

/** One backend of a TrafficSplit: a Service in the same namespace and its relative weight. */
public class TrafficSplitBackend {

  /** Weights are relative; this bound keeps the sum of 16 backends far below Envoy's uint32 limit. */
  public static final int MAX_WEIGHT = 10_000;

  @Required
  @Size(min = 1, max = 63)
  @Pattern(WeftApi.SERVICE_NAME_PATTERN)
  @JsonPropertyDescription("A Service in the TrafficSplit's namespace that exposes the root Service's ports (e.g. payments-v2).")
  private String service;

  @Required
  @Min(0)
  @Max(MAX_WEIGHT)
  @JsonPropertyDescription("Relative weight, 0 to 10000: this backend gets weight / (sum of weights) of the requests. 0 sends it nothing but keeps it listed.")
  private Integer weight;

  public TrafficSplitBackend() {}

  public TrafficSplitBackend(String service, int weight) {
    this.service = service;
    this.weight = weight;
  }

  public String getService() {
    return service;
  }

  public void setService(String service) {
    this.service = service;
  }

  public Integer getWeight() {
    return weight;
  }

  public void setWeight(Integer weight) {
    this.weight = weight;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrafficSplitBackend b && Objects.equals(service, b.service) && Objects.equals(weight, b.weight);
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, weight);
  }
}
