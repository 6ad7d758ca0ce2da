package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.Objects;

/** One proxy named in MeshStatus, with why it is listed. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProxyReport {

  @Required
  @Size(max = 253)
  @JsonPropertyDescription("The proxy's node id as it told the xDS server.")
  private String proxy;

  @Size(max = 63)
  @JsonPropertyDescription("Namespace of the proxy's workload.")
  private String namespace;

  @Size(max = 512)
  @JsonPropertyDescription("The workload's SPIFFE identity.")
  private String identity;

  @Size(max = 253)
  @JsonPropertyDescription("The xDS server replica the proxy is connected to.")
  private String xdsReplica;

  @Size(max = 256)
  @JsonPropertyDescription("The xDS resource type concerned, e.g. type.googleapis.com/envoy.config.route.v3.RouteConfiguration.")
  private String typeUrl;

  @Size(max = 128)
  @JsonPropertyDescription("The configuration version the proxy last acknowledged, or the one it rejected.")
  private String version;

  @Size(max = 4096)
  @JsonPropertyDescription("Why it is listed: Envoy's error_detail for a NACK, or how long it has been behind.")
  private String message;

  @JsonPropertyDescription("Since when (RFC 3339).")
  private String since;

  public String getProxy() {
    return proxy;
  }

  public void setProxy(String proxy) {
    this.proxy = proxy;
  }

  public String getNamespace() {
    return namespace;
  }

  public void setNamespace(String namespace) {
    this.namespace = namespace;
  }

  public String getIdentity() {
    return identity;
  }

  public void setIdentity(String identity) {
    this.identity = identity;
  }

  public String getXdsReplica() {
    return xdsReplica;
  }

  public void setXdsReplica(String xdsReplica) {
    this.xdsReplica = xdsReplica;
  }

  public String getTypeUrl() {
    return typeUrl;
  }

  public void setTypeUrl(String typeUrl) {
    this.typeUrl = typeUrl;
  }

  public String getVersion() {
    return version;
  }

  public void setVersion(String version) {
    this.version = version;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  public String getSince() {
    return since;
  }

  public void setSince(String since) {
    this.since = since;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ProxyReport r
        && Objects.equals(proxy, r.proxy)
        && Objects.equals(namespace, r.namespace)
        && Objects.equals(identity, r.identity)
        && Objects.equals(xdsReplica, r.xdsReplica)
        && Objects.equals(typeUrl, r.typeUrl)
        && Objects.equals(version, r.version)
        && Objects.equals(message, r.message)
        && Objects.equals(since, r.since);
  }

  @Override
  public int hashCode() {
    return Objects.hash(proxy, namespace, identity, xdsReplica, typeUrl, version, message, since);
  }
}
