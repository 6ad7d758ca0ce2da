package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Desired routing: which Service (and optionally which of its ports) and the ordered rules. */
@JsonClassDescription("The routing you want: the Service (and optionally one of its ports) whose HTTP "
    + "requests are routed, and the rules, tried in order.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualServiceSpec {

  @Required
  @Size(min = 1, max = 63)
  @Pattern(WeftApi.SERVICE_NAME_PATTERN)
  @JsonPropertyDescription("The Service, in this namespace, whose HTTP traffic these rules route (e.g. payments). Every name a client uses for it is covered: payments, payments.shop, payments.shop.svc.cluster.local, with or without the port.")
  private String service;

  @Min(1)
  @Max(65535)
  @JsonPropertyDescription("Limit the rules to this port of the Service. Unset: every HTTP port of the Service.")
  private Integer port;

  @Required
  @Size(min = 1, max = 32)
  @ValidationRule(
      value = "self.all(r, !has(r.name) || self.exists_one(o, has(o.name) && o.name == r.name))",
      message = "spec.rules[].name must be unique within the VirtualService; rename one of the rules")
  @JsonPropertyDescription("Rules in priority order: a request takes the first rule whose matches it satisfies. A request that matches no rule goes to the Service as if there were no VirtualService (through its TrafficSplit, if any).")
  private List<RouteRule> rules = new ArrayList<>();

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

  public List<RouteRule> getRules() {
    return rules;
  }

  public void setRules(List<RouteRule> rules) {
    this.rules = rules == null ? new ArrayList<>() : new ArrayList<>(rules);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VirtualServiceSpec s
        && Objects.equals(service, s.service)
        && Objects.equals(port, s.port)
        && Objects.equals(rules, s.rules);
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, port, rules);
  }
}
