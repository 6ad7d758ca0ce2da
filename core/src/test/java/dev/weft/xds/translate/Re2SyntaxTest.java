package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class Re2SyntaxTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "\\pL", "\\p{Greek}", "\\PL+", "\\p{^Greek}", "[\\pL\\pN_-]+", "\\pN{2}", "\\Q.*\\E", "\\Q(?=x)\\1",
      "(?P<name>x)", "(?<name>x)", "(?i)abc", "(?i:Bearer) [a-z]+", "(?U)a*", "(?sm)^a.$", "\\x{41}", "\\x{FF}",
      "\\xE9", "\\012", "\\377", "\\v", "[[:word:]]+", "x{,5}", "^*", "a|", "()", "/é/ü+", "日本", "\u0001",
      "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
      "\\\\p{Unknown}", "\\Q\\x{100}\\E"})
  void acceptsRe2(String regex) {
    assertThat(Re2Syntax.problem(regex)).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '\t', quoteCharacter = '"', textBlock = """
      (?=abc)	lookahead (?= or (?! is not supported by RE2
      (?!abc)	lookahead (?= or (?! is not supported by RE2
      (?<=a)b	lookbehind (?<= or (?<! is not supported by RE2
      (?<!a)b	lookbehind (?<= or (?<! is not supported by RE2
      (a)\\1	backreferences (\\1) are not supported; RE2 has no backreferences
      (?>a)	atomic groups (?>...) are not supported by RE2
      a*+	RE2 has no possessive quantifiers such as a*+
      a**	a repetition operator cannot follow another one (**)
      \\Z	\\Z is not RE2; write the end of text as \\z
      (ab	missing closing ) `(ab`
      ab)	a ')' without its '('
      [ab	missing closing ] `[ab`
      [z-a]	invalid character class range `z-a`
      *a	missing argument to repetition operator `*`
      a{1001}	invalid repeat count `{1001}`
      (?x)a	invalid or unsupported Perl syntax `(?x`
      \\C	invalid escape sequence `\\C`
      \\p{Klingon}	invalid character class range `\\p{Klingon}`
      (?P<n>a)(?P<n>b)	duplicate capture group name `n`
      """)
  void refusesWhatIsNotRe2AndSaysWhy(String regex, String reason) {
    assertThat(Re2Syntax.problem(regex)).hasValueSatisfying(p -> assertThat(p)
        .startsWith("not a regular expression Weft accepts (RE2 syntax): ")
        .contains(reason)
        .endsWith("; rewrite it in RE2 syntax (https://github.com/google/re2/wiki/Syntax)"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '\t', quoteCharacter = '"', textBlock = """
      \\x{100}	Envoy refuses \\x{100}: its RE2 reads regular expressions as Latin-1
      a[\\x{41}-\\x{10FFFF}]	Envoy refuses \\x{10FFFF}
      \\x{0000100}	Envoy refuses \\x{0000100}
      \\400	Envoy refuses the octal escape \\400
      \\p{Unknown}	Envoy's RE2 has no Unicode class \\p{Unknown}
      [\\P{^Unknown}a]	Envoy's RE2 has no Unicode class \\P{^Unknown}
      a\\é	write é without the backslash
      """)
  void refusesWhatRe2jAcceptsButEnvoyDoesNot(String regex, String reason) {
    assertThat(Re2Syntax.problem(regex)).hasValueSatisfying(p -> assertThat(p).contains(reason));
  }

  @ParameterizedTest
  @ValueSource(ints = {96, 150})
  void refusesLiteralsAboveEnvoysProgramSizeLimit(int letters) {
    assertThat(Re2Syntax.problem("/" + "a".repeat(letters))).hasValueSatisfying(p -> assertThat(p)
        .contains("too complex for Envoy").contains("above the limit of 100"));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 95})
  void acceptsLiteralsUpToEnvoysProgramSizeLimit(int letters) {
    // "/" plus 95 letters is exactly Envoy's limit of 100 (measured).
    assertThat(Re2Syntax.problem("/" + "a".repeat(letters))).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/a{120}", "(?i)[a-z]{40}[0-9]{60}", "\\pL{50}", "(?:[acegikmoqsuwy]+?){0,8}",
      "(?:(?:a{10}){10}){10}"})
  void refusesRegexesEnvoyFindsTooComplex(String regex) {
    assertThat(Re2Syntax.problem(regex)).hasValueSatisfying(p -> assertThat(p).contains("too complex for Envoy"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a\ud800", "\udc00b"})
  void refusesEmptyAndBrokenText(String regex) {
    assertThat(Re2Syntax.problem(regex)).isPresent();
  }

  @Test
  void acceptsDeeplyNestedGroupsWithoutOverflowingTheStack() {
    // 4096 characters, the API's bound for a header value, nest 1023 groups deep.
    String regex = "(?:".repeat(1023) + "a" + ")".repeat(1023);

    assertThat(Re2Syntax.problem(regex)).isEmpty();
  }
}
