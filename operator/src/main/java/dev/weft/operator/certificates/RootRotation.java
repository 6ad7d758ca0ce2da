package dev.weft.operator.certificates;

import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.CertificateInfo;
import dev.weft.operator.identity.CertifiedKey;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.Pem;
import dev.weft.operator.identity.RenewalSchedule;
import dev.weft.operator.identity.TrustBundle;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Rotates the operator's self-signed root in the three steps of docs/security.md, one step per
 * call, so that no connection breaks: at about two thirds of the root's life a next root is made
 * and trusted everywhere ({@code introduced}: {@code next.crt}/{@code next.key} kept, both roots in
 * {@code ca.crt}); after the overlap, the next root signs ({@code swapped}: every leaf is reissued
 * by it, both roots still trusted); once no stored leaf comes from the old root and the overlap has
 * passed again, the old root is dropped from the bundle. The phase and its start are annotations on
 * the CA Secret, so a new leader carries on where the last one stopped. Pure: the Secret, what the
 * leaves say and the time in, the next Secret out. A root the user brings is never rotated here.
 */
public final class RootRotation {

  public static final String PHASE = "weft.dev/rotation-phase";
  public static final String SINCE = "weft.dev/rotation-since";
  public static final String INTRODUCED = "introduced";
  public static final String SWAPPED = "swapped";
  public static final String NEXT_CERT = "next.crt";
  public static final String NEXT_KEY = "next.key";

  /** A new content for the CA Secret, and what happened, for the log. */
  public record Step(Secret secret, String description) {}

  private RootRotation() {}

  /**
   * The CA Secret after the step that is due at {@code now}, or empty when none is.
   * {@code leavesFromOtherRoots} says whether any stored workload certificate was not issued by the
   * signing root, which holds the last step back until every leaf has been reissued.
   */
  public static Optional<Step> next(Secret secret, MeshCa ca, boolean leavesFromOtherRoots, IdentitySettings settings,
      Duration overlap, Instant now, SecureRandom random) {
    Map<String, String> annotations = secret.getMetadata().getAnnotations() == null ? Map.of()
        : secret.getMetadata().getAnnotations();
    String phase = annotations.getOrDefault(PHASE, "");
    Instant since = parse(annotations.get(SINCE)).orElse(Instant.EPOCH);
    X509Certificate current = ca.authority().root().certificate();
    switch (phase) {
      case INTRODUCED -> {
        if (now.isBefore(since.plus(overlap))) {
          return Optional.empty();
        }
        Map<String, String> data = secret.getData();
        if (!data.containsKey(NEXT_CERT) || !data.containsKey(NEXT_KEY)) {
          return Optional.of(new Step(with(secret, data, null, now), "the rotation lost its next root ("
              + NEXT_CERT + "/" + NEXT_KEY + " removed by hand); it starts again when the root is due"));
        }
        X509Certificate next = Pem.parseCertificate(CaSecrets.decode(data.get(NEXT_CERT)));
        Map<String, String> content = new HashMap<>(data);
        content.put(CaSecrets.CERT, data.get(NEXT_CERT));
        content.put(CaSecrets.KEY, data.get(NEXT_KEY));
        content.put(CaSecrets.BUNDLE, CaSecrets.base64(TrustBundle.of(next, current).pem()));
        content.remove(NEXT_CERT);
        content.remove(NEXT_KEY);
        return Optional.of(new Step(with(secret, content, SWAPPED, now),
            "the next root " + CertificateInfo.of(next).subject() + " signs now; every workload certificate is "
                + "reissued by it, both roots stay trusted"));
      }
      case SWAPPED -> {
        if (leavesFromOtherRoots || now.isBefore(since.plus(overlap))) {
          return Optional.empty();
        }
        Map<String, String> content = new HashMap<>(secret.getData());
        content.put(CaSecrets.BUNDLE, CaSecrets.base64(TrustBundle.of(current).pem()));
        return Optional.of(new Step(with(secret, content, null, now),
            "the old root is no longer trusted; the rotation is complete"));
      }
      default -> {
        Instant due = RenewalSchedule.renewAt(CertificateInfo.of(current));
        if (now.isBefore(due)) {
          return Optional.empty();
        }
        CertifiedKey next = CertificateAuthority.selfSigned(settings, now, random).root();
        Map<String, String> content = new HashMap<>(secret.getData());
        content.put(NEXT_CERT, CaSecrets.base64(next.certificatePem()));
        content.put(NEXT_KEY, CaSecrets.base64(next.privateKeyPem()));
        content.put(CaSecrets.BUNDLE, CaSecrets.base64(ca.bundle().with(List.of(next.certificate())).pem()));
        return Optional.of(new Step(with(secret, content, INTRODUCED, now),
            "the root " + CertificateInfo.of(current).subject() + " is due for rotation since " + due
                + " (expires " + current.getNotAfter().toInstant() + "); the next root "
                + next.info().subject() + " is trusted everywhere first and signs after the overlap of " + overlap));
      }
    }
  }

  /** When the root in {@code ca} is due for rotation. */
  public static Instant dueAt(MeshCa ca) {
    return RenewalSchedule.renewAt(ca.root());
  }

  private static Secret with(Secret secret, Map<String, String> data, String phase, Instant now) {
    SecretBuilder builder = new SecretBuilder(secret).withData(data);
    if (phase == null) {
      builder.editMetadata().removeFromAnnotations(PHASE).removeFromAnnotations(SINCE).endMetadata();
    } else {
      builder.editMetadata().addToAnnotations(PHASE, phase).addToAnnotations(SINCE, now.toString()).endMetadata();
    }
    return builder.build();
  }

  private static Optional<Instant> parse(String value) {
    try {
      return value == null ? Optional.empty() : Optional.of(Instant.parse(value));
    } catch (java.time.format.DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
