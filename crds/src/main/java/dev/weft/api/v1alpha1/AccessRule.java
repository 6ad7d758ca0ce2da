package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** One access rule: which callers, and optionally which of their requests. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@ValidationRule(
    value = "(has(self.from) && size(self.from) > 0) || has(self.to)",
    message = "a rule needs 'from' (which callers) or 'to' (which requests), or both; an empty rule would match everything")
public class AccessRule {

  @Size(max = 32)
  @JsonPropertyDescription("Callers, by mesh identity; the rule matches a caller that matches any entry. Unset: any caller with a mesh identity (mTLS).")
  private List<AccessSource> from = new ArrayList<>();

  @JsonPropertyDescription("Requests, by port, method and path; all given conditions must hold. Unset: any request.")
  private AccessRequest to;

  public List<AccessSource> getFrom() {
    return from;
  }

  public void setFrom(List<AccessSource> from) {
    this.from = from == null ? new ArrayList<>() : new ArrayList<>(from);
  }

  public AccessRequest getTo() {
    return to;
  }

  public void setTo(AccessRequest to) {
    this.to = to;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AccessRule r && Objects.equals(from, r.from) && Objects.equals(to, r.to);
  }

  @Override
  public int hashCode() {
    return Objects.hash(from, to);
  }
}
