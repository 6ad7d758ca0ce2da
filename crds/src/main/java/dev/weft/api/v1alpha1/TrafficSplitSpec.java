package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Desired split: the root Service clients call, and the backends that share its traffic. */
@JsonClassDescription("The split you want: the root Service clients call (service) and the Services that share "
    + "its traffic, each with a relative weight (backends).")
public class TrafficSplitSpec {

  /** Upper bound on backends: enough for any canary or A/B/n test, small enough for cheap CEL checks. */
  public static final int MAX_BACKENDS = 16;

  @Required
  @Size(min = 1, max = 63)
  @Pattern(WeftApi.SERVICE_NAME_PATTERN)
  @JsonPropertyDescription("The root Service, in the TrafficSplit's namespace, whose name clients call (e.g. payments). Only one TrafficSplit may claim a root Service.")
  private String service;

  @Required
  @Size(min = 1, max = MAX_BACKENDS)
  @ValidationRule(
      value = "self.all(b, self.exists_one(o, o.service == b.service))",
      message = "spec.backends must name each service at most once; merge the duplicate entries into one and add up their weights")
  @ValidationRule(
      value = "self.exists(b, b.weight > 0)",
      message = "spec.backends needs at least one backend with a weight above 0, otherwise the traffic would have nowhere to go")
  @JsonPropertyDescription("The Services that receive the root Service's traffic, each with a relative weight. A backend may be the root Service itself (its own endpoints). At most 16.")
  private List<TrafficSplitBackend> backends = new ArrayList<>();

  public TrafficSplitSpec() {}

  public TrafficSplitSpec(String service, List<TrafficSplitBackend> backends) {
    this.service = service;
    setBackends(backends);
  }

  public String getService() {
    return service;
  }

  public void setService(String service) {
    this.service = service;
  }

  public List<TrafficSplitBackend> getBackends() {
    return backends;
  }

  public void setBackends(List<TrafficSplitBackend> backends) {
    this.backends = backends == null ? new ArrayList<>() : new ArrayList<>(backends);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrafficSplitSpec s && Objects.equals(service, s.service) && Objects.equals(backends, s.backends);
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, backends);
  }
}
