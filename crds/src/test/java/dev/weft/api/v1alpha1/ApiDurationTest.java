package dev.weft.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ApiDurationTest {

  @ParameterizedTest
  @CsvSource({
      "500ms, PT0.5S",
      "2s, PT2S",
      "0s, PT0S",
      "1m30s, PT1M30S",
      "90m, PT1H30M",
      "1h2m3s500ms, PT1H2M3.5S",
      "1m1m, PT2M",
      "99999h, PT99999H",
  })
  void parsesDurations(String text, Duration expected) {
    assertThat(ApiDuration.parse(text)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "2 seconds", "1d", "1.5s", "-1s", "2", "s", "123456s", "1h1m1s1ms1h", "2S"})
  void rejectsWhatTheSchemaRejects(String text) {
    assertThatThrownBy(() -> ApiDuration.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "' is not a duration such as 500ms");
  }
}
