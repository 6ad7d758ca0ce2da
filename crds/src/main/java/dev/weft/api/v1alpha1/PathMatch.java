package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Objects;

/** A condition on the request path. */
@ValidationRule(
    value = "self.type == 'RegularExpression' || self.value.startsWith('/')",
    message = "an Exact or PathPrefix path must start with '/', e.g. /api/v2")
@ValidationRule(
    value = "self.type != 'PathPrefix' || self.value == '/' || !self.value.endsWith('/')",
    message = "a PathPrefix must not end with '/' (it matches whole path segments: /api matches /api and /api/x, not /apix); write /api instead of /api/")
public class PathMatch {

  /** How {@link #getValue()} is compared with the path. */
  public enum Type {
    Exact,
    PathPrefix,
    RegularExpression
  }

  @Default("PathPrefix")
  @JsonPropertyDescription("Exact, PathPrefix (whole path segments) or RegularExpression (RE2 syntax, must match the whole path). Default PathPrefix.")
  private Type type = Type.PathPrefix;

  @Required
  @Size(min = 1, max = 1024)
  @JsonPropertyDescription("The path, path prefix or regular expression.")
  private String value;

  public PathMatch() {}

  public PathMatch(Type type, String value) {
    this.type = type;
    this.value = value;
  }

  public Type getType() {
    return type;
  }

  public void setType(Type type) {
    this.type = type;
  }

  public String getValue() {
    return value;
  }

  public void setValue(String value) {
    this.value = value;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PathMatch p && type == p.type && Objects.equals(value, p.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(type, value);
  }
}
