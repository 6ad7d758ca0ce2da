package dev.weft.api.v1alpha1;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the API's Gateway-API-style durations ({@code 500ms}, {@code 1m30s}) into {@link Duration}s. */
public final class ApiDuration {

  private static final Pattern WHOLE = Pattern.compile(WeftApi.DURATION_PATTERN);
  // "ms" before "m" so that 500ms is not read as 500 minutes followed by garbage.
  private static final Pattern PART = Pattern.compile("([0-9]+)(ms|h|m|s)");

  private ApiDuration() {}

  /**
   * The duration {@code text} stands for; units may repeat and add up ({@code 1m1m} is two
   * minutes), as the schema pattern allows.
   *
   * @throws IllegalArgumentException when {@code text} does not match {@link WeftApi#DURATION_PATTERN}
   */
  public static Duration parse(String text) {
    if (text == null || !WHOLE.matcher(text).matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration such as 500ms, 2s or 1m30s (units h, m, s, ms; no spaces)");
    }
    Duration total = Duration.ZERO;
    Matcher part = PART.matcher(text);
    while (part.find()) {
      long amount = Long.parseLong(part.group(1));
      total = total.plus(switch (part.group(2)) {
        case "h" -> Duration.ofHours(amount);
        case "m" -> Duration.ofMinutes(amount);
        case "s" -> Duration.ofSeconds(amount);
        default -> Duration.ofMillis(amount);
      });
    }
    return total;
  }
}
