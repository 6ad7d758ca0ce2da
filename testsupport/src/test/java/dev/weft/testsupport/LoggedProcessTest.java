package dev.weft.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoggedProcessTest {

  @Test
  void writesOutputToItsLogFileAndStopsOnSigterm() {
    long mark = ProcessLogs.mark();
    LoggedProcess process = LoggedProcess.start("talker",
        List.of("sh", "-c", "echo to-stdout; echo to-stderr >&2; exec sleep 60"), Map.of());
    await("talker to log both lines").atMost(Duration.ofSeconds(10))
        .until(() -> process.logTail().contains("to-stderr"));

    assertThat(process.logTail()).contains("to-stdout");
    assertThat(process.logFile()).startsWith(ProcessLogs.directory());
    assertThat(ProcessLogs.openSince(mark)).extracting(ProcessLogs.Entry::file).contains(process.logFile());

    process.stop(Duration.ofSeconds(5));

    assertThat(process.isAlive()).isFalse();
    // Still listed: a test that saw the process run wants its log even after it stopped.
    assertThat(ProcessLogs.openSince(mark)).extracting(ProcessLogs.Entry::file).contains(process.logFile());
    assertThat(ProcessLogs.openSince(ProcessLogs.mark())).extracting(ProcessLogs.Entry::file)
        .doesNotContain(process.logFile());
  }

  @Test
  void killsAProcessThatIgnoresSigterm() {
    LoggedProcess stubborn = LoggedProcess.start("stubborn",
        List.of("sh", "-c", "trap '' TERM; echo trapped; while true; do sleep 1; done"), Map.of());
    await("the trap to be set").atMost(Duration.ofSeconds(10)).until(() -> stubborn.logTail().contains("trapped"));
    long started = System.nanoTime();

    stubborn.stop(Duration.ofMillis(500));

    assertThat(stubborn.isAlive()).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void requireAliveReportsTheExitCodeAndTheLogTail() {
    LoggedProcess crasher = LoggedProcess.start("crasher", List.of("sh", "-c", "echo fatal: bad flag; exit 7"),
        Map.of());
    await("crasher to exit").atMost(Duration.ofSeconds(10)).until(() -> !crasher.isAlive());

    assertThatThrownBy(crasher::requireAlive)
        .hasMessageContaining("crasher exited with code 7")
        .hasMessageContaining("fatal: bad flag");
    crasher.close();
  }

  @Test
  void tailKeepsOnlyTheLastLines() throws Exception {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("tail", ".log");
    try {
      java.nio.file.Files.writeString(file, "1\n2\n3\n4\n5\n");
      assertThat(ProcessLogs.tail(file, 2)).isEqualTo("4\n5");
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }
}
