package dev.weft.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CommandTest {

  @Test
  void capturesExitCodeAndBothOutputs() {
    CommandResult result = Command.run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"));

    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.stdout()).isEqualTo("out\n");
    assertThat(result.stderr()).isEqualTo("err\n");
    assertThat(result.succeeded()).isFalse();
  }

  @Test
  void feedsStdinAndEnvironment() {
    CommandResult result = Command.run(List.of("sh", "-c", "cat; echo \"$GREETING\""),
        Map.of("GREETING", "hello"), "from stdin\n", Duration.ofSeconds(10));

    assertThat(result.requireSuccess().stdout()).isEqualTo("from stdin\nhello\n");
  }

  @Test
  void requireSuccessShowsTheCommandAndItsOutput() {
    CommandResult result = Command.run(List.of("sh", "-c", "echo nope >&2; exit 1"));

    assertThatThrownBy(result::requireSuccess)
        .hasMessageContaining("`sh -c echo nope >&2; exit 1` exited 1")
        .hasMessageContaining("nope");
  }

  @Test
  void killsACommandThatOutlastsItsBound() {
    long started = System.nanoTime();

    assertThatThrownBy(() -> Command.run(List.of("sh", "-c", "echo started; sleep 30"), Map.of(), null,
        Duration.ofMillis(300)))
        .hasMessageContaining("did not finish within")
        .hasMessageContaining("started");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
  }
}
