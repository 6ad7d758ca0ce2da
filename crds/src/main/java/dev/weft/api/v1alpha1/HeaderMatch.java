package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Objects;

/** A condition on one request header. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.type == 'Present' ? !has(self.value) : has(self.value)",
    message = "a header match of type Present takes no value; every other type needs one")
public class HeaderMatch {

  /** How {@link #getValue()} is compared with the header. */
  public enum Type {
    Exact,
    Prefix,
    RegularExpression,
    Present
  }

  @Required
  @Size(min = 1, max = 256)
  @Pattern("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
  @JsonPropertyDescription("Header name (case-insensitive), e.g. x-canary. Pseudo-headers such as :authority are not allowed.")
  private String name;

  @Default("Exact")
  @JsonPropertyDescription("Exact, Prefix, RegularExpression (RE2, whole value) or Present (the header exists, any value). Default Exact.")
  private Type type = Type.Exact;

  @Size(max = 4096)
  @JsonPropertyDescription("The value, prefix or regular expression. Not allowed with Present.")
  private String value;

  public HeaderMatch() {}

  public HeaderMatch(String name, Type type, String value) {
    this.name = name;
    this.type = type;
    this.value = value;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
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
    return o instanceof HeaderMatch h && Objects.equals(name, h.name) && type == h.type && Objects.equals(value, h.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, type, value);
  }
}
