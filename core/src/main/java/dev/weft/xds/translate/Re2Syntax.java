package dev.weft.xds.translate;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.util.Optional;

/**
 * Decides whether a user's regular expression can become an Envoy {@code safe_regex} and a
 * proxyless gRPC route match; both refuse the whole route configuration over one regex they cannot
 * compile.
 *
 * <p>The syntax is RE2's, as RE2/J parses it (grpc-java matches with RE2/J). On top of that, what
 * Envoy's RE2 refuses and RE2/J does not:
 *
 * <ul>
 *   <li>Envoy 1.40 compiles regexes in Latin-1 mode (measured: {@code ^.$} does not match the header
 *       value {@code é}, {@code ^..$} does): it reads the pattern's UTF-8 bytes as characters, so it
 *       has no escapes for code points above {@code \x{FF}} or octal {@code \377};
 *   <li>its RE2 knows no Unicode class {@code Unknown} and no backslash before a non-ASCII
 *       character;
 *   <li>it refuses a program larger than its runtime value {@code re2.max_program_size.error_level},
 *       100 unless set, and the sidecar bootstrap does not set it: {@link Re2ProgramSize} bounds the
 *       size from above.
 * </ul>
 */
final class Re2Syntax {

  /** Envoy's default {@code re2.max_program_size.error_level}, which Weft's sidecars keep. */
  static final int MAX_PROGRAM_SIZE = 100;

  /** Escapes, taken left to right so that an escaped backslash is not read as the start of one. */
  private static final Pattern ESCAPE = Pattern.compile(
      "\\\\Q(?s:.)*?(?:\\\\E|\\z)|\\\\x\\{0*([^}]*)\\}|\\\\[pP]\\{\\^?([^}]*)\\}|\\\\([0-7]{1,3})|\\\\(?s:.)");
  private static final String SYNTAX = "https://github.com/google/re2/wiki/Syntax";

  private Re2Syntax() {}

  /** Why {@code regex} cannot be used, if it cannot: a sentence without the leading field name. */
  static Optional<String> problem(String regex) {
    if (regex == null || regex.isEmpty()) {
      return Optional.of("a regular expression must not be empty");
    }
    if (!wellFormed(regex)) {
      return Optional.of("the regular expression contains a broken UTF-16 surrogate pair; it must be valid "
          + "Unicode text");
    }
    try {
      Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      return Optional.of("not a regular expression Weft accepts (RE2 syntax): " + reason(e) + "; rewrite it in "
          + "RE2 syntax (" + SYNTAX + ")");
    }
    Optional<String> refused = refusedByEnvoy(regex);
    if (refused.isPresent()) {
      return refused;
    }
    long size = Re2ProgramSize.of(regex);
    if (size > MAX_PROGRAM_SIZE) {
      return Optional.of("the regular expression is too complex for Envoy: its RE2 program can have " + size
          + " instructions, above the limit of " + MAX_PROGRAM_SIZE + " (Envoy's "
          + "re2.max_program_size.error_level); shorten it or use fewer and smaller counted repetitions");
    }
    return Optional.empty();
  }

  /** What Envoy's RE2 refuses in a pattern RE2/J accepted. */
  private static Optional<String> refusedByEnvoy(String regex) {
    Matcher escape = ESCAPE.matcher(regex);
    while (escape.find()) {
      String text = escape.group();
      if (escape.group(1) != null && escape.group(1).length() > 2) {
        return Optional.of("Envoy refuses " + text + ": its RE2 reads regular expressions as Latin-1, where "
            + "escapes above \\x{FF} do not exist; write the character itself instead");
      }
      if ("Unknown".equals(escape.group(2))) {
        return Optional.of("Envoy's RE2 has no Unicode class " + text + "; name a script such as Latin or a "
            + "category such as L");
      }
      if (escape.group(3) != null && Integer.parseInt(escape.group(3), 8) > 0xFF) {
        return Optional.of("Envoy refuses the octal escape " + text + ": its RE2 reads regular expressions as "
            + "Latin-1, where octal escapes end at \\377; write the character itself instead");
      }
      if (text.length() > 1 && !text.startsWith("\\Q") && text.codePointAt(1) >= 0x80) {
        return Optional.of("RE2 allows a backslash only before ASCII characters; write "
            + text.substring(1) + " without the backslash");
      }
    }
    return Optional.empty();
  }

  /** RE2/J's reason, in plainer words for what users bring from Perl, Java or JavaScript. */
  private static String reason(PatternSyntaxException e) {
    String at = e.getPattern();
    if (at.startsWith("(?=") || at.startsWith("(?!")) {
      return "lookahead (?= or (?! is not supported by RE2";
    }
    if (at.startsWith("(?<=") || at.startsWith("(?<!")) {
      return "lookbehind (?<= or (?<! is not supported by RE2";
    }
    if (at.matches("\\\\[1-9].*")) {
      return "backreferences (" + at + ") are not supported; RE2 has no backreferences";
    }
    if (at.startsWith("(?>")) {
      return "atomic groups (?>...) are not supported by RE2";
    }
    if (at.startsWith("\\Z")) {
      return "\\Z is not RE2; write the end of text as \\z";
    }
    if (e.getDescription().contains("nested repetition")) {
      return "a repetition operator cannot follow another one (" + at + "); RE2 has no possessive quantifiers "
          + "such as a*+, and a repetition is repeated by grouping it: (?:a*)+";
    }
    if (e.getMessage().contains("stack underflow")) {
      return "a ')' without its '('"; // how RE2/J's parser reports it
    }
    return e.getDescription() + " `" + at + "`";
  }

  /** Text that UTF-8 can carry: a regex with a lone surrogate would reach Envoy as something else. */
  private static boolean wellFormed(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }
}
