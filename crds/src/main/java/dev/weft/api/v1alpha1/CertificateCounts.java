package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Workload certificates the mesh issued, how many expire within the warning window (the renewal
 * that should have happened did not), which ones, and when the root expires.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CertificateCounts {

  @Min(0)
  @JsonPropertyDescription("Workload certificates currently issued.")
  private int issued;

  @Min(0)
  @JsonPropertyDescription("Certificates with less than a fifth of their life left, or expired: a healthy one is "
      + "renewed with about a third left, so these missed their renewal.")
  private int expiringSoon;

  @JsonPropertyDescription("The earliest expiry among issued certificates (RFC 3339).")
  private String nextExpiry;

  @Size(max = MeshStatusStatus.MAX_LISTED_PROXIES)
  @JsonPropertyDescription("The certificates counted in expiringSoon, soonest first (at most 50 listed).")
  private List<CertificateReport> expiring = new ArrayList<>();

  @JsonPropertyDescription("When the mesh root CA expires (RFC 3339); rotate it before then.")
  private String rootNotAfter;

  public List<CertificateReport> getExpiring() {
    return expiring;
  }

  public void setExpiring(List<CertificateReport> expiring) {
    this.expiring = expiring == null ? new ArrayList<>() : new ArrayList<>(expiring);
  }

  public String getRootNotAfter() {
    return rootNotAfter;
  }

  public void setRootNotAfter(String rootNotAfter) {
    this.rootNotAfter = rootNotAfter;
  }

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
        && Objects.equals(nextExpiry, c.nextExpiry)
        && Objects.equals(expiring, c.expiring)
        && Objects.equals(rootNotAfter, c.rootNotAfter);
  }

  @Override
  public int hashCode() {
    return Objects.hash(issued, expiringSoon, nextExpiry, expiring, rootNotAfter);
  }
}
