package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Re2ProgramSizeTest {

  /**
   * Program sizes Envoy 1.40 reported for these regexes (runtime error level 1, so that it names the
   * size of each), and how far above them the bound may be. The last rows are shapes where RE2
   * copies instructions: loops over operands that match empty or are repetitions themselves.
   */
  @ParameterizedTest
  @CsvSource(delimiter = '\t', quoteCharacter = '"', textBlock = """
      a	5	0
      abc	7	0
      .	6	0
      [a-z0-9]	6	0
      [^a-z]	6	1
      \\W	9	0
      \\S	8	0
      a+	6	1
      (a)	7	0
      a|b|c	5	6
      ^a$	4	3
      \\ba	6	0
      é	6	0
      [^é]	7	1
      .+	7	1
      a{2,5}	12	3
      a{2,}	7	1
      (ab){3}	16	0
      (?P<n>a)	7	0
      (?<n>a)	7	0
      [[:alpha:]]	5	0
      \\pL	11	0
      \\p{Greek}	1	4
      \\PL+	13	1
      \\Q.*\\E	6	0
      (?i)k	5	0
      (?i)é	6	2
      /api/v[0-9]+/users/[a-z0-9-]+	23	2
      ^/(foo|bar|baz)/.*$	16	11
      [A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}	20	3
      (?i)bearer [a-z0-9]{8,16}	51	8
      /items/\\d{1,6}	22	5
      /[^/]+/[^/]+	12	2
      x{0,20}	44	20
      ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$	70	4
      ^*	9	2
      (?:a*b*)*	11	10
      a+|b+|c+|d+	20	2
      (?:[acegikmoqsuwy]+?)*	31	8
      (?:[acegikmoqsuwy]+?){0,3}	53	11
      [\\x00-\\xff]+	7	1
      (?:[\\x00-\\xff]+)??	10	3
      """)
  void boundsWhatEnvoyMeasuredFromAbove(String regex, int measuredByEnvoy, int slack) {
    assertThat(Re2ProgramSize.of(regex)).isBetween((long) measuredByEnvoy, (long) measuredByEnvoy + slack);
  }

  @Test
  void countsARepetitionAfterANonAsciiCharacterOnItsLastByteAsEnvoyDoes() {
    // Envoy reads é as two Latin-1 characters, so é{0} keeps the first one.
    assertThat(Re2ProgramSize.of("é{0}")).isGreaterThanOrEqualTo(5);
    assertThat(Re2ProgramSize.of("é{40}")).isLessThan(Re2ProgramSize.of("(?:é){40}"));
  }

  @Test
  void repeatsWhatCameBeforeAFlagGroup() {
    assertThat(Re2ProgramSize.of("[a-z](?i){50}")).isGreaterThanOrEqualTo(Re2ProgramSize.of("[a-z]{50}"));
  }

  @Test
  void refusesWhatIsNotRe2() {
    assertThatThrownBy(() -> Re2ProgramSize.of("(a")).isInstanceOf(IllegalArgumentException.class);
  }
}
