package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import java.util.Objects;

/** Workload certificates the mesh issued, and how many expire within the warning window. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CertificateCounts {

  @Min(0)
  @JsonPropertyDescription("Workload certificates currently issued.")
  private int issued;

  @Min(0)
  @JsonPropertyDescription("Certificates that expire within the warning window without having been renewed.")
  private int expiringSoon;

  @JsonPropertyDescription("The earliest expiry among issued certificates (RFC 3339).")
  private String nextExpiry;

  public int getIssued() {
    return issued;
  }

  public void setIssued(int issued) {
    this.issued = issued;
  }

  public int getExpiringSoon() {
    return expiringSoon;
  }

  public void setExpiringSoon(int expiringSoon) {
    this.expiringSoon = expiringSoon;
  }

  public String getNextExpiry() {
    return nextExpiry;
  }

  public void setNextExpiry(String nextExpiry) {
    this.nextExpiry = nextExpiry;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CertificateCounts c
        && issued == c.issued
        && expiringSoon == c.expiringSoon
        && Objects.equals(nextExpiry, c.nextExpiry);
  }

  @Override
  public int hashCode() {
    return Objects.hash(issued, expiringSoon, nextExpiry);
  }
}
