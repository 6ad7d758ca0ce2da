package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class Re2SyntaxTest {

  /** Program sizes Envoy 1.40's RE2 reported for these regexes (runtime error level 1). */
  @ParameterizedTest
  @CsvSource(delimiter = '\t', quoteCharacter = '"', textBlock = """
      a	5
      abc	7
      .	6
      [a-z0-9]	6
      [^a-z]	6
      \\W	9
      \\S	8
      a+	6
      (a)	7
      a|b|c	5
      ^a$	4
      \\ba	6
      é	6
      [^é]	7
      .+	7
      a{2,5}	12
      a{2,}	7
      (ab){3}	16
      (?P<n>a)	7
      [[:alpha:]]	5
      /api/v[0-9]+/users/[a-z0-9-]+	23
      ^/(foo|bar|baz)/.*$	16
      [A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}	20
      (?i)bearer [a-z0-9]{8,16}	51
      /items/\\d{1,6}	22
      /[^/]+/[^/]+	12
      """)
  void estimatesTheProgramSizeFromAbove(String regex, int measuredByEnvoy) {
    assertThat(Re2Syntax.estimatedProgramSize(regex)).isGreaterThanOrEqualTo(measuredByEnvoy);
    assertThat(Re2Syntax.problem(regex)).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '\t', quoteCharacter = '"', textBlock = """
      (?=abc)	lookahead (?= or (?! is not supported by RE2
      (?<!a)b	lookbehind
      (a)\\1	backreferences
      a*+	cannot follow another one
      a**	cannot follow another one
      (?<name>a)	write (?P<name>...)
      \\pL	Unicode classes
      \\Qa.b\\E	\\Q...\\E quoting
      \\x{41}	exactly two hex digits
      (?>a)	atomic groups
      (ab	missing closing )
      ab)	unmatched ')'
      [ab	missing closing ]
      [z-a]	range z-a is reversed
      [[a]]	must be escaped as \\[
      *a	missing argument
      a{1001}	above 1000
      a{3,2}	bounds reversed
      x{,5}	literal '{' must be escaped
      \\Z	unknown escape \\Z
      ^*	must follow something that matches text
      (?x)a	unknown group flag 'x'
      """)
  void rejectsWhatRe2OrRe2jWouldNot(String regex, String reason) {
    assertThat(Re2Syntax.problem(regex)).hasValueSatisfying(p -> assertThat(p).contains(reason));
  }

  @ParameterizedTest
  @ValueSource(ints = {96, 150})
  void rejectsLiteralsAboveEnvoysProgramSizeLimit(int letters) {
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
  @ValueSource(strings = {"/a{120}", "(?i)[a-z]{40}[0-9]{40}"})
  void rejectsRegexesEnvoyFindsTooComplex(String regex) {
    assertThat(Re2Syntax.problem(regex)).hasValueSatisfying(p -> assertThat(p).contains("too complex for Envoy"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "\u0001", "a\ud800"})
  void rejectsEmptyControlAndBrokenText(String regex) {
    assertThat(Re2Syntax.problem(regex)).isPresent();
  }
}
