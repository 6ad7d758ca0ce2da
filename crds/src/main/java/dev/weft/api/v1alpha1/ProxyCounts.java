package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import java.util.Objects;

/** How many proxies are connected, and how many of them are synced, stale or NACKed. */
public class ProxyCounts {

  @Min(0)
  @JsonPropertyDescription("Proxies connected to an xDS replica.")
  private int connected;

  @Min(0)
  @JsonPropertyDescription("Connected proxies that acknowledged the newest configuration of every type.")
  private int synced;

  @Min(0)
  @JsonPropertyDescription("Connected proxies that have not acknowledged the newest configuration yet.")
  private int stale;

  @Min(0)
  @JsonPropertyDescription("Connected proxies whose last response rejected the configuration.")
  private int nacked;

  public ProxyCounts() {}

  public ProxyCounts(int connected, int synced, int stale, int nacked) {
    this.connected = connected;
    this.synced = synced;
    this.stale = stale;
    this.nacked = nacked;
  }

  public int getConnected() {
    return connected;
  }

  public void setConnected(int connected) {
    this.connected = connected;
  }

  public int getSynced() {
    return synced;
  }

  public void setSynced(int synced) {
    this.synced = synced;
  }

  public int getStale() {
    return stale;
  }

  public void setStale(int stale) {
    this.stale = stale;
  }

  public int getNacked() {
    return nacked;
  }

  public void setNacked(int nacked) {
    this.nacked = nacked;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ProxyCounts c
        && connected == c.connected
        && synced == c.synced
        && stale == c.stale
        && nacked == c.nacked;
  }

  @Override
  public int hashCode() {
    return Objects.hash(connected, synced, stale, nacked);
  }
}
