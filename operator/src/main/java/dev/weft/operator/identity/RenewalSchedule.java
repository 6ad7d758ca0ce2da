package dev.weft.operator.identity;

import java.time.Duration;
import java.time.Instant;

/**
 * When a certificate is renewed: at about two thirds of its life (between 60% and 70%), the
 * exact point spread by a jitter so that the certificates issued together (an operator start, a
 * root rotation) are not all renewed in the same second.
 */
public final class RenewalSchedule {

  static final double EARLIEST = 0.60;
  static final double SPREAD = 0.10;

  private RenewalSchedule() {}

  /** The renewal time; {@code jitter} in [0, 1) picks the point in the window. */
  public static Instant renewAt(Instant notBefore, Instant notAfter, double jitter) {
    if (jitter < 0 || jitter >= 1) {
      throw new IllegalArgumentException("jitter must be in [0, 1), not " + jitter);
    }
    long life = Duration.between(notBefore, notAfter).toMillis();
    return notBefore.plusMillis((long) (life * (EARLIEST + SPREAD * jitter)));
  }

  /**
   * The renewal time of {@code certificate}, its jitter derived from its serial number, so that
   * every operator replica computes the same time for the same certificate without storing it.
   */
  public static Instant renewAt(CertificateInfo certificate) {
    return renewAt(certificate.notBefore(), certificate.notAfter(), jitterOf(certificate.serial()));
  }

  static double jitterOf(String serial) {
    return Math.floorMod(serial.hashCode(), 1000) / 1000.0;
  }
}
