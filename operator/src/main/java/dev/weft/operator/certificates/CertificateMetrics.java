package dev.weft.operator.certificates;

/** What the certificate controller reports to metrics: each action it took, and each pass's summary. */
public interface CertificateMetrics {

  CertificateMetrics NONE = new CertificateMetrics() {
    @Override
    public void applied(CertificatePlan.Action action) {}

    @Override
    public void summary(CertificateSummary summary) {}
  };

  /** An action the controller applied (a certificate issued, a bundle rewritten, a Secret deleted). */
  void applied(CertificatePlan.Action action);

  /** What a pass found. */
  void summary(CertificateSummary summary);
}
