package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Conditions on a request that must all hold for a rule to apply. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@ValidationRule(
    value = "has(self.path) || has(self.method) || (has(self.headers) && size(self.headers) > 0)",
    message = "a match needs at least one of path, headers or method; to match every request, leave matches empty instead")
public class RouteMatch {

  @JsonPropertyDescription("Match on the request path.")
  private PathMatch path;

  @Size(max = 16)
  @ValidationRule(
      value = "self.all(h, self.exists_one(o, o.name == h.name))",
      message = "each header may be matched once per match; combine the conditions into one")
  @JsonPropertyDescription("Every listed header must match.")
  private List<HeaderMatch> headers = new ArrayList<>();

  @JsonPropertyDescription("Match on the HTTP method.")
  private HttpMethod method;

  public PathMatch getPath() {
    return path;
  }

  public void setPath(PathMatch path) {
    this.path = path;
  }

  public List<HeaderMatch> getHeaders() {
    return headers;
  }

  public void setHeaders(List<HeaderMatch> headers) {
    this.headers = headers == null ? new ArrayList<>() : new ArrayList<>(headers);
  }

  public HttpMethod getMethod() {
    return method;
  }

  public void setMethod(HttpMethod method) {
    this.method = method;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RouteMatch m
        && Objects.equals(path, m.path)
        && Objects.equals(headers, m.headers)
        && method == m.method;
  }

  @Override
  public int hashCode() {
    return Objects.hash(path, headers, method);
  }
}
