package dev.weft.operator.certificates;

import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.TrustBundle;
import java.util.Objects;

/**
 * The mesh CA as read from its Secret: the root that signs, and the bundle of roots workloads
 * trust (the signing root, plus the other root while one is rotated).
 */
public record MeshCa(CertificateAuthority authority, TrustBundle bundle, String secret) {

  public MeshCa {
    Objects.requireNonNull(authority, "authority");
    Objects.requireNonNull(bundle, "bundle");
  }

  public CertificateInfo root() {
    return authority.root().info();
  }
}
