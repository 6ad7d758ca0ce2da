package dev.weft.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class WorkloadIdentityTest {

  @Test
  void spiffeIdNamesTrustDomainNamespaceAndServiceAccount() {
    WorkloadIdentity identity = new WorkloadIdentity("cluster.local", "shop", "web");

    assertThat(identity.spiffeId()).isEqualTo("spiffe://cluster.local/ns/shop/sa/web");
    assertThat(WorkloadIdentity.parse(identity.spiffeId())).contains(identity);
  }

  @Test
  void parsesOnlyWeftShapedSpiffeIds() {
    assertThat(WorkloadIdentity.parse("spiffe://cluster.local/ns/shop")).isEmpty();
    assertThat(WorkloadIdentity.parse("https://cluster.local/ns/shop/sa/web")).isEmpty();
    assertThat(WorkloadIdentity.parse("spiffe://Cluster.Local/ns/shop/sa/web")).isEmpty();
    assertThat(WorkloadIdentity.parse(null)).isEmpty();
  }

  @Test
  void refusesATrustDomainThatCannotBeInASpiffeId() {
    assertThatThrownBy(() -> new WorkloadIdentity("Cluster Local", "shop", "web"))
        .hasMessageContaining("trust domain 'Cluster Local' is not valid");
  }

  @Test
  void renewsAtAboutTwoThirdsOfTheLife() {
    Instant start = Instant.parse("2026-11-30T00:00:00Z");
    Instant end = start.plus(Duration.ofHours(24));

    assertThat(RenewalSchedule.renewAt(start, end, 0.0)).isEqualTo(start.plus(Duration.ofMinutes(864)));
    assertThat(RenewalSchedule.renewAt(start, end, 0.999))
        .isBefore(start.plus(Duration.ofMinutes(1008))).isAfter(start.plus(Duration.ofHours(16)));
    assertThatThrownBy(() -> RenewalSchedule.renewAt(start, end, 1.0)).hasMessageContaining("[0, 1)");
  }

  @Test
  void theJitterSpreadsCertificatesIssuedTogether() {
    Instant start = Instant.parse("2026-11-30T00:00:00Z");
    Instant end = start.plus(Duration.ofHours(24));
    long distinct = java.util.stream.IntStream.range(0, 100)
        .mapToObj(i -> RenewalSchedule.renewAt(new CertificateInfo(java.util.List.of(), start, end,
            Integer.toHexString(0x5eed0000 + i * 7919), "", "", "", false)))
        .distinct().count();

    assertThat(distinct).isGreaterThan(50);
  }
}
