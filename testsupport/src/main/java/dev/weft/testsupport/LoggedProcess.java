package dev.weft.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** An external process whose output goes to a log file under target/, stopped with SIGTERM, then SIGKILL. */
public final class LoggedProcess implements AutoCloseable {

  private static final int TAIL_LINES = 30;

  private final String label;
  private final List<String> command;
  private final ProcessLogs.Entry log;
  private final Process process;
  private final Thread killOnExit;
  private volatile boolean stopped;

  private LoggedProcess(String label, List<String> command, ProcessLogs.Entry log, Process process) {
    this.label = label;
    this.command = List.copyOf(command);
    this.log = log;
    this.process = process;
    // Backstop for a JVM that ends without close(): a test killed mid-way must not leave
    // an apiserver or Envoy behind holding ports for the next run.
    this.killOnExit = new Thread(this::killNow, "kill " + label);
    Runtime.getRuntime().addShutdownHook(killOnExit);
  }

  /** Starts {@code command} with stdout and stderr appended to a new log file named after {@code label}. */
  public static LoggedProcess start(String label, List<String> command, Map<String, String> environment) {
    ProcessLogs.Entry log = ProcessLogs.newLogFile(label);
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.file().toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
    builder.environment().putAll(environment);
    try {
      return new LoggedProcess(label, command, log, builder.start());
    } catch (IOException e) {
      log.closed();
      throw new UncheckedIOException("cannot start " + label + ": " + String.join(" ", command), e);
    }
  }

  public String label() {
    return label;
  }

  public List<String> command() {
    return command;
  }

  public Path logFile() {
    return log.file();
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** The last lines of the log, for failure messages. */
  public String logTail() {
    return ProcessLogs.tail(log.file(), TAIL_LINES);
  }

  /**
   * Fails with the exit code and the end of the log when the process has died: waiting loops call
   * this so a crash shows at once instead of as a timeout.
   */
  public void requireAlive() {
    if (!process.isAlive()) {
      throw new IllegalStateException(label + " exited with code " + process.exitValue()
          + "; last lines of " + log.file() + ":\n" + logTail());
    }
  }

  /** SIGTERM to the process and its children, then SIGKILL for whatever is left after {@code grace}. */
  public void stop(Duration grace) {
    if (stopped) {
      return;
    }
    stopped = true;
    try {
      process.descendants().forEach(ProcessHandle::destroy);
      process.destroy();
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        killNow();
        process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      killNow();
      Thread.currentThread().interrupt();
    } finally {
      log.closed();
      removeShutdownHook();
    }
  }

  @Override
  public void close() {
    stop(Duration.ofSeconds(10));
  }

  @Override
  public String toString() {
    return label + "[pid " + process.pid() + ", log " + log.file() + "]";
  }

  private void killNow() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }

  private void removeShutdownHook() {
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException alreadyShuttingDown) {
      // The hook runs anyway and finds the process gone.
    }
  }

  private static File nullDevice() {
    return new File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
  }
}
