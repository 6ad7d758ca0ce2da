package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** What MeshStatus reports: proxy sync counts, xDS replicas, certificates, the newest NACK. */
@JsonClassDescription("What the operator observed, summed over the live xDS replicas: proxy counts, the "
    + "replicas, the stale and NACKed proxies, the newest rejection, the workload certificates and the Ready "
    + "and CertificatesIssued conditions.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MeshStatusStatus {

  /** How many stale or NACKed proxies are listed by name; the counts cover all of them. */
  public static final int MAX_LISTED_PROXIES = 50;

  @JsonPropertyDescription("Proxy counts across all xDS replicas.")
  private ProxyCounts proxies = new ProxyCounts();

  @Min(0)
  @JsonPropertyDescription("xDS server replicas that reported recently.")
  private Integer xdsReplicas;

  // Unset, not zeros, when the operator issues no certificates (turned off, or no pass yet): the
  // CERTS-EXPIRING column stays empty instead of claiming that none expire.
  @JsonPropertyDescription("Workload certificates issued by the mesh CA: how many, how many expire soon and which. Unset when the operator issues none (certificates turned off) or has not looked yet.")
  private CertificateCounts certificates;

  @JsonPropertyDescription("The most recent configuration a proxy rejected, with Envoy's reason.")
  private ProxyReport lastNack;

  @Size(max = MAX_LISTED_PROXIES)
  @JsonPropertyDescription("Proxies that have not acknowledged the newest configuration, oldest first (at most 50 listed).")
  private List<ProxyReport> staleProxies = new ArrayList<>();

  @Size(max = MAX_LISTED_PROXIES)
  @JsonPropertyDescription("Proxies whose last response was a rejection (NACK), with Envoy's reason (at most 50 listed).")
  private List<ProxyReport> nackedProxies = new ArrayList<>();

  @Size(max = 8)
  @JsonPropertyDescription("Ready: the mesh control plane is up and every connected proxy is synced. CertificatesIssued: the mesh CA is usable and no workload certificate missed its renewal.")
  private List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("When the operator last refreshed this status (RFC 3339).")
  private String lastUpdateTime;

  public ProxyCounts getProxies() {
    return proxies;
  }

  public void setProxies(ProxyCounts proxies) {
    this.proxies = proxies;
  }

  public Integer getXdsReplicas() {
    return xdsReplicas;
  }

  public void setXdsReplicas(Integer xdsReplicas) {
    this.xdsReplicas = xdsReplicas;
  }

  public CertificateCounts getCertificates() {
    return certificates;
  }

  public void setCertificates(CertificateCounts certificates) {
    this.certificates = certificates;
  }

  public ProxyReport getLastNack() {
    return lastNack;
  }

  public void setLastNack(ProxyReport lastNack) {
    this.lastNack = lastNack;
  }

  public List<ProxyReport> getStaleProxies() {
    return staleProxies;
  }

  public void setStaleProxies(List<ProxyReport> staleProxies) {
    this.staleProxies = staleProxies == null ? new ArrayList<>() : new ArrayList<>(staleProxies);
  }

  public List<ProxyReport> getNackedProxies() {
    return nackedProxies;
  }

  public void setNackedProxies(List<ProxyReport> nackedProxies) {
    this.nackedProxies = nackedProxies == null ? new ArrayList<>() : new ArrayList<>(nackedProxies);
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : new ArrayList<>(conditions);
  }

  public String getLastUpdateTime() {
    return lastUpdateTime;
  }

  public void setLastUpdateTime(String lastUpdateTime) {
    this.lastUpdateTime = lastUpdateTime;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MeshStatusStatus s
        && Objects.equals(proxies, s.proxies)
        && Objects.equals(xdsReplicas, s.xdsReplicas)
        && Objects.equals(certificates, s.certificates)
        && Objects.equals(lastNack, s.lastNack)
        && Objects.equals(staleProxies, s.staleProxies)
        && Objects.equals(nackedProxies, s.nackedProxies)
        && Objects.equals(conditions, s.conditions)
        && Objects.equals(lastUpdateTime, s.lastUpdateTime);
  }

  @Override
  public int hashCode() {
    return Objects.hash(proxies, xdsReplicas, certificates, lastNack, staleProxies, nackedProxies, conditions,
        lastUpdateTime);
  }
}
