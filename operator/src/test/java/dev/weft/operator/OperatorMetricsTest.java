package dev.weft.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.operator.certificates.CertificatePlan;
import dev.weft.operator.certificates.CertificateSummary;
import dev.weft.operator.certificates.ServiceAccountRef;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OperatorMetricsTest {

  static final Instant NOW = Instant.parse("2026-11-30T09:00:00Z");

  @Test
  void countsCertificateActionsByCauseAndExposesWhatThePassFound() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    OperatorMetrics metrics = new OperatorMetrics(registry, Clock.fixed(NOW, ZoneOffset.UTC));
    ServiceAccountRef web = new ServiceAccountRef("shop", "web");

    metrics.applied(new CertificatePlan.Action(CertificatePlan.Kind.ISSUE, web, "weft-identity-web",
        CertificatePlan.Cause.RENEWAL, "due"));
    metrics.applied(new CertificatePlan.Action(CertificatePlan.Kind.DELETE, web, "weft-identity-web",
        CertificatePlan.Cause.UNUSED, "gone"));
    metrics.summary(new CertificateSummary(4, List.of(new CertificateSummary.Entry("shop", "web",
        "weft-identity-web", "spiffe://cluster.local/ns/shop/sa/web", NOW, true)), Optional.of(NOW),
        Optional.empty(), Optional.of("CN=root"), Optional.of(NOW.plusSeconds(3600))));

    String scrape = registry.scrape();
    assertThat(scrape)
        .contains("weft_operator_certificate_actions_total{action=\"issue\",cause=\"renewal\"} 1.0")
        .contains("weft_operator_certificate_actions_total{action=\"delete\",cause=\"unused\"} 1.0")
        .contains("weft_operator_certificates{state=\"issued\"} 4.0")
        .contains("weft_operator_certificates{state=\"expiring\"} 1.0")
        .contains("weft_operator_ca_root_expiry_seconds 3600.0");

    metrics.summary(new CertificateSummary(0, List.of(), Optional.empty(), Optional.of("no CA"), Optional.empty(),
        Optional.empty()));
    assertThat(registry.scrape()).contains("weft_operator_ca_root_expiry_seconds -1.0");
  }
}
