package dev.weft.operator.certificates;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import io.fabric8.kubernetes.api.model.Secret;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RootRotationTest {

  static final SecureRandom RANDOM = new SecureRandom();
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final IdentitySettings SETTINGS = new IdentitySettings("cluster.local", Duration.ofDays(300),
      Duration.ofHours(24), KeyAlgorithm.ECDSA_P256);
  static final Duration OVERLAP = Duration.ofHours(1);

  static Optional<RootRotation.Step> step(Secret secret, boolean leavesFromOtherRoots, Instant now) {
    return RootRotation.next(secret, CaSecrets.read(secret, RANDOM), leavesFromOtherRoots, SETTINGS, OVERLAP, now,
        RANDOM);
  }

  static CertificateInfo signing(Secret secret) {
    return CaSecrets.read(secret, RANDOM).root();
  }

  @Test
  void rotatesTheRootInThreeStepsEachAfterTheOverlap() {
    CertificateAuthority first = CertificateAuthority.selfSigned(SETTINGS, T0, RANDOM);
    Secret steady = CaSecrets.build("weft-system", "weft-ca", first);
    Instant due = RootRotation.dueAt(CaSecrets.read(steady, RANDOM));
    assertThat(due).isBetween(T0.plus(Duration.ofDays(180)), T0.plus(Duration.ofDays(210)));
    assertThat(step(steady, false, due.minusSeconds(1))).as("not due yet").isEmpty();

    // Step 1: a next root, trusted everywhere, not signing yet.
    Secret introduced = step(steady, false, due).orElseThrow().secret();
    assertThat(introduced.getMetadata().getAnnotations()).containsEntry(RootRotation.PHASE, "introduced")
        .containsEntry(RootRotation.SINCE, due.toString());
    assertThat(introduced.getData()).containsKeys("next.crt", "next.key");
    MeshCa duringOverlap = CaSecrets.read(introduced, RANDOM);
    assertThat(duringOverlap.root().fingerprint()).as("the old root still signs")
        .isEqualTo(first.root().info().fingerprint());
    assertThat(duringOverlap.bundle().roots()).hasSize(2);
    assertThat(step(introduced, false, due.plus(OVERLAP).minusSeconds(1))).as("within the overlap").isEmpty();

    // Step 2: the next root signs, both stay trusted.
    Instant swapAt = due.plus(OVERLAP);
    Secret swapped = step(introduced, false, swapAt).orElseThrow().secret();
    MeshCa afterSwap = CaSecrets.read(swapped, RANDOM);
    assertThat(afterSwap.root().fingerprint()).isNotEqualTo(first.root().info().fingerprint());
    assertThat(afterSwap.root().notAfter())
        .isEqualTo(due.plus(SETTINGS.rootLifetime()).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    assertThat(afterSwap.bundle().roots()).hasSize(2);
    assertThat(swapped.getData()).doesNotContainKeys("next.crt", "next.key");
    assertThat(swapped.getMetadata().getAnnotations()).containsEntry(RootRotation.PHASE, "swapped");

    // Step 3 waits for every leaf to come from the new root, and for the overlap.
    Instant dropAt = swapAt.plus(OVERLAP);
    assertThat(step(swapped, true, dropAt.plus(Duration.ofDays(1)))).as("a leaf of the old root remains").isEmpty();
    assertThat(step(swapped, false, dropAt.minusSeconds(1))).isEmpty();
    Secret done = step(swapped, false, dropAt).orElseThrow().secret();
    MeshCa after = CaSecrets.read(done, RANDOM);
    assertThat(after.bundle().roots()).hasSize(1);
    assertThat(after.root().fingerprint()).isEqualTo(afterSwap.root().fingerprint());
    assertThat(done.getMetadata().getAnnotations()).doesNotContainKeys(RootRotation.PHASE, RootRotation.SINCE);
    assertThat(step(done, false, dropAt.plusSeconds(1))).as("steady until the new root is due").isEmpty();
  }

  @Test
  void aRotationWhoseNextRootWasRemovedByHandStartsOver() {
    CertificateAuthority first = CertificateAuthority.selfSigned(SETTINGS, T0, RANDOM);
    Secret steady = CaSecrets.build("weft-system", "weft-ca", first);
    Instant due = RootRotation.dueAt(CaSecrets.read(steady, RANDOM));
    Secret introduced = step(steady, false, due).orElseThrow().secret();
    introduced.getData().remove("next.key");

    RootRotation.Step reset = step(introduced, false, due.plus(OVERLAP)).orElseThrow();

    assertThat(reset.secret().getMetadata().getAnnotations()).doesNotContainKey(RootRotation.PHASE);
    assertThat(reset.description()).contains("removed by hand");
  }
}
