package dev.weft.operator.certificates;

import java.util.Optional;

/**
 * Where the workload certificates come from: the operator's own CA
 * ({@link WorkloadCertificateController}) or a cert-manager issuer
 * ({@link CertManagerCertificateController}). Either keeps the same {@code weft-identity-<sa>}
 * Secrets for the sidecars and reports the same summary to MeshStatus.
 */
public interface CertificateSource extends AutoCloseable {

  /** The certificates as last seen by a pass of the leader; empty before the first one. */
  Optional<CertificateSummary> report();

  @Override
  void close();
}
