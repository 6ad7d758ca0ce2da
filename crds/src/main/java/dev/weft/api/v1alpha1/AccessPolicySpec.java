package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Desired access: the protected Service, whether the rules allow or deny, and the rules. */
@JsonClassDescription("The access you want: the protected Service, whether matching requests are allowed or "
    + "denied (action), and the rules a request is matched against.")
public class AccessPolicySpec {

  /** What a matching request gets. */
  public enum Action {
    Allow,
    Deny
  }

  @Required
  @Size(min = 1, max = 63)
  @Pattern(WeftApi.SERVICE_NAME_PATTERN)
  @JsonPropertyDescription("The Service, in this namespace, whose inbound side this policy protects.")
  private String service;

  @Default("Allow")
  @JsonPropertyDescription("Allow: once any Allow policy names a Service, only requests that match one of its rules get through. Deny: requests that match are refused, before any Allow policy is looked at. Default Allow.")
  private Action action = Action.Allow;

  @Required
  @Size(min = 1, max = 32)
  @JsonPropertyDescription("A request matches the policy when it matches any one rule.")
  private List<AccessRule> rules = new ArrayList<>();

  public String getService() {
    return service;
  }

  public void setService(String service) {
    this.service = service;
  }

  public Action getAction() {
    return action;
  }

  public void setAction(Action action) {
    this.action = action;
  }

  public List<AccessRule> getRules() {
    return rules;
  }

  public void setRules(List<AccessRule> rules) {
    this.rules = rules == null ? new ArrayList<>() : new ArrayList<>(rules);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AccessPolicySpec s
        && Objects.equals(service, s.service)
        && action == s.action
        && Objects.equals(rules, s.rules);
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, action, rules);
  }
}
