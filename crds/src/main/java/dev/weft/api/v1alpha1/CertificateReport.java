package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import java.util.Objects;

/** One workload certificate named in MeshStatus, with why it is listed. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CertificateReport {

  @Size(max = 63)
  @JsonPropertyDescription("Namespace of the workload and of its certificate Secret.")
  private String namespace;

  @Size(max = 253)
  @JsonPropertyDescription("The ServiceAccount the certificate speaks for.")
  private String serviceAccount;

  @Size(max = 253)
  @JsonPropertyDescription("The Secret holding the certificate (tls.crt, tls.key, ca.crt).")
  private String secret;

  @Size(max = 512)
  @JsonPropertyDescription("The certificate's SPIFFE ID (its URI SAN).")
  private String identity;

  @JsonPropertyDescription("When the certificate expires (RFC 3339).")
  private String notAfter;

  @Size(max = 1024)
  @JsonPropertyDescription("Why it is listed: expired, or expiring without having been renewed.")
  private String message;

  public String getNamespace() {
    return namespace;
  }

  public void setNamespace(String namespace) {
    this.namespace = namespace;
  }

  public String getServiceAccount() {
    return serviceAccount;
  }

  public void setServiceAccount(String serviceAccount) {
    this.serviceAccount = serviceAccount;
  }

  public String getSecret() {
    return secret;
  }

  public void setSecret(String secret) {
    this.secret = secret;
  }

  public String getIdentity() {
    return identity;
  }

  public void setIdentity(String identity) {
    this.identity = identity;
  }

  public String getNotAfter() {
    return notAfter;
  }

  public void setNotAfter(String notAfter) {
    this.notAfter = notAfter;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CertificateReport r
        && Objects.equals(namespace, r.namespace)
        && Objects.equals(serviceAccount, r.serviceAccount)
        && Objects.equals(secret, r.secret)
        && Objects.equals(identity, r.identity)
        && Objects.equals(notAfter, r.notAfter)
        && Objects.equals(message, r.message);
  }

  @Override
  public int hashCode() {
    return Objects.hash(namespace, serviceAccount, secret, identity, notAfter, message);
  }

  @Override
  public String toString() {
    return secret + " in " + namespace + " (" + identity + ", notAfter " + notAfter + "): " + message;
  }
}
