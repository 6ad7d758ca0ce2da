package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Objects;

/**
 * A caller identity: a namespace, a service account, or both. It stands for the SPIFFE IDs
 * {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>} it covers.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "has(self.namespace) || has(self.serviceAccount)",
    message = "a 'from' entry needs namespace, serviceAccount or both; to allow any meshed caller, leave 'from' out of the rule")
public class AccessSource {

  @Size(min = 1, max = 63)
  @Pattern(WeftApi.DNS_LABEL_PATTERN)
  @JsonPropertyDescription("The caller's namespace. Unset with serviceAccount set: the policy's own namespace. Unset alone: not allowed.")
  private String namespace;

  @Size(min = 1, max = 253)
  @Pattern(WeftApi.DNS_SUBDOMAIN_PATTERN)
  @JsonPropertyDescription("The caller's ServiceAccount name. Unset: every ServiceAccount of the namespace.")
  private String serviceAccount;

  public AccessSource() {}

  public AccessSource(String namespace, String serviceAccount) {
    this.namespace = namespace;
    this.serviceAccount = serviceAccount;
  }

  public String getNamespace() {
    return namespace;
  }

  public void setNamespace(String namespace) {
    this.namespace = namespace;
  }

  public String getServiceAccount() {
    return serviceAccount;
  }

  public void setServiceAccount(String serviceAccount) {
    this.serviceAccount = serviceAccount;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AccessSource s
        && Objects.equals(namespace, s.namespace)
        && Objects.equals(serviceAccount, s.serviceAccount);
  }

  @Override
  public int hashCode() {
    return Objects.hash(namespace, serviceAccount);
  }
}
