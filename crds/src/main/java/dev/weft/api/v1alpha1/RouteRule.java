package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** One routing rule: when a request matches, where it goes and how patiently. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class RouteRule {

  @Size(min = 1, max = 63)
  @Pattern(WeftApi.DNS_LABEL_PATTERN)
  @JsonPropertyDescription("Optional name of the rule, shown in status messages and Envoy's route names.")
  private String name;

  @Size(max = 8)
  @JsonPropertyDescription("The rule applies when any one of these matches (OR); inside one match every condition must hold (AND). Empty: every request.")
  private List<RouteMatch> matches = new ArrayList<>();

  @Size(max = 16)
  @ValidationRule(
      value = "self.all(b, self.exists_one(o, o.service == b.service && (has(o.port) ? o.port : 0) == (has(b.port) ? b.port : 0)))",
      message = "backends must name each service (and port) at most once; merge the duplicates and add up their weights")
  @ValidationRule(
      value = "size(self) == 0 || self.exists(b, !has(b.weight) || b.weight > 0)",
      message = "at least one backend needs a weight above 0, otherwise matching requests would have nowhere to go")
  @JsonPropertyDescription("Where matching requests go, split by weight. Empty: the Service itself, through its TrafficSplit if there is one.")
  private List<RouteBackend> backends = new ArrayList<>();

  @Size(max = 32)
  @ValidationRule(
      value = "self.matches('" + WeftApi.DURATION_PATTERN + "')",
      message = "timeout must be a duration such as 500ms, 2s or 1m30s (units h, m, s, ms; no spaces)")
  @JsonPropertyDescription("Time allowed for the whole request including retries, e.g. 5s or 1m30s. 0s disables the timeout. Unset: Envoy's default of 15s.")
  private String timeout;

  @JsonPropertyDescription("How failed requests are retried. Unset: the mesh default.")
  private RetryPolicy retries;

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public List<RouteMatch> getMatches() {
    return matches;
  }

  public void setMatches(List<RouteMatch> matches) {
    this.matches = matches == null ? new ArrayList<>() : new ArrayList<>(matches);
  }

  public List<RouteBackend> getBackends() {
    return backends;
  }

  public void setBackends(List<RouteBackend> backends) {
    this.backends = backends == null ? new ArrayList<>() : new ArrayList<>(backends);
  }

  public String getTimeout() {
    return timeout;
  }

  public void setTimeout(String timeout) {
    this.timeout = timeout;
  }

  public RetryPolicy getRetries() {
    return retries;
  }

  public void setRetries(RetryPolicy retries) {
    this.retries = retries;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RouteRule r
        && Objects.equals(name, r.name)
        && Objects.equals(matches, r.matches)
        && Objects.equals(backends, r.backends)
        && Objects.equals(timeout, r.timeout)
        && Objects.equals(retries, r.retries);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, matches, backends, timeout, retries);
  }
}
