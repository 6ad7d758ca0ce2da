package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Conditions on the request in an access rule; every given list must have a match. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@ValidationRule(
    value = "(has(self.ports) && size(self.ports) > 0) || (has(self.methods) && size(self.methods) > 0) || (has(self.paths) && size(self.paths) > 0)",
    message = "'to' needs at least one of ports, methods or paths; to match any request, leave 'to' out of the rule")
public class AccessRequest {

  @Size(max = 16)
  @ValidationRule(
      value = "self.all(p, p >= 1 && p <= 65535)",
      message = "ports must be between 1 and 65535")
  @JsonPropertyDescription("Ports of the Service (service ports, not target ports).")
  private List<Integer> ports = new ArrayList<>();

  @Size(max = 9)
  @JsonPropertyDescription("HTTP methods. Only for HTTP ports.")
  private List<HttpMethod> methods = new ArrayList<>();

  @Size(max = 16)
  @JsonPropertyDescription("HTTP paths. Only for HTTP ports.")
  private List<PathMatch> paths = new ArrayList<>();

  public List<Integer> getPorts() {
    return ports;
  }

  public void setPorts(List<Integer> ports) {
    this.ports = ports == null ? new ArrayList<>() : new ArrayList<>(ports);
  }

  public List<HttpMethod> getMethods() {
    return methods;
  }

  public void setMethods(List<HttpMethod> methods) {
    this.methods = methods == null ? new ArrayList<>() : new ArrayList<>(methods);
  }

  public List<PathMatch> getPaths() {
    return paths;
  }

  public void setPaths(List<PathMatch> paths) {
    this.paths = paths == null ? new ArrayList<>() : new ArrayList<>(paths);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AccessRequest r
        && Objects.equals(ports, r.ports)
        && Objects.equals(methods, r.methods)
        && Objects.equals(paths, r.paths);
  }

  @Override
  public int hashCode() {
    return Objects.hash(ports, methods, paths);
  }
}
