package dev.weft.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A short-lived external command (kubectl, helm, envoy --version) run to completion within a bound. */
public final class Command {

  /** Long enough for a helm install on 2 cores, short enough that a hung command fails the test. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

  private Command() {
  }

  public static CommandResult run(List<String> command) {
    return run(command, Map.of(), null, DEFAULT_TIMEOUT);
  }

  /**
   * Runs {@code command} with extra {@code environment}, feeding it {@code stdin} when not null, and
   * kills it when it outlasts {@code timeout}.
   */
  public static CommandResult run(List<String> command, Map<String, String> environment, String stdin,
      Duration timeout) {
    Path out = null;
    Path err = null;
    Path in = null;
    try {
      // Files rather than pipes: nothing to drain concurrently, so a chatty command cannot
      // block on a full pipe while we wait for it.
      out = Files.createTempFile("weft-cmd", ".out");
      err = Files.createTempFile("weft-cmd", ".err");
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectOutput(out.toFile())
          .redirectError(err.toFile());
      if (stdin != null) {
        in = Files.createTempFile("weft-cmd", ".in");
        Files.writeString(in, stdin, StandardCharsets.UTF_8);
        builder.redirectInput(in.toFile());
      } else {
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      }
      builder.environment().putAll(environment);
      Process process = builder.start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException("`" + String.join(" ", command) + "` did not finish within "
            + timeout + "\n--- stdout ---\n" + Files.readString(out)
            + "\n--- stderr ---\n" + Files.readString(err));
      }
      return new CommandResult(command, process.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run `" + String.join(" ", command) + "`", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running `" + String.join(" ", command) + "`", e);
    } finally {
      deleteQuietly(out);
      deleteQuietly(err);
      deleteQuietly(in);
    }
  }

  private static void deleteQuietly(Path file) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // A leftover temp file is harmless; the command's result matters more.
    }
  }
}
