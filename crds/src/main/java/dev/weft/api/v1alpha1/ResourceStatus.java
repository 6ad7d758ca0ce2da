package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Status shared by the user-written kinds: the generation last looked at and its conditions. */
@JsonClassDescription("What the operator found, written by the operator only: the generation it last checked "
    + "and the conditions (Accepted, ResolvedRefs; Programmed on TrafficSplit and VirtualService; Enforced on "
    + "AccessPolicy). See docs/status.md for every reason.")
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class ResourceStatus {

  @JsonPropertyDescription("The metadata.generation the operator last processed.")
  private Long observedGeneration;

  @Size(max = 8)
  @JsonPropertyDescription("Accepted (the spec is valid), ResolvedRefs (every referenced Service exists), Programmed (the proxies that need it have acknowledged it; TrafficSplit and VirtualService), Enforced (the sidecars apply it; AccessPolicy, False until enforcement exists).")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : new ArrayList<>(conditions);
  }

  /** The condition of the given type, if set. */
  public Optional<Condition> condition(String type) {
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ResourceStatus s
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(conditions, s.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(observedGeneration, conditions);
  }
}
