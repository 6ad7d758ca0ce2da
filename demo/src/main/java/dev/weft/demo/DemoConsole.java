package dev.weft.demo;

import dev.weft.testsupport.ProcessLogs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * What the person running the demo sees: one line per step, prefixed with the seconds since the
 * demo started. Logs go to files; only progress and results come here.
 */
final class DemoConsole {

  private final PrintStream out;
  private final long startedAt = System.nanoTime();

  DemoConsole(PrintStream out) {
    this.out = out;
  }

  /** A step that happened, e.g. "kube-apiserver + etcd ready". */
  synchronized void step(String text) {
    out.printf("[%5.1fs] %s%n", (System.nanoTime() - startedAt) / 1e9, text);
    out.flush();
  }

  /** Lines shown as they are (tables, commands), indented under the last step. */
  synchronized void block(String text) {
    text.strip().lines().forEach(line -> out.println("         " + line));
    out.flush();
  }

  /** Whether {@code DEMO_ONCE} asks the demo to exit after its canary. */
  static boolean once() {
    return Set.of("1", "true", "yes").contains(System.getenv().getOrDefault("DEMO_ONCE", "").strip());
  }

  /**
   * Sends every log line of this JVM (and the processes it starts) to files under
   * {@code <repoRoot>/demo/target/demo-logs}, leaving the terminal to the console; call it before
   * any logger exists. Returns this run's log folder.
   */
  static Path logToFiles(Path repoRoot) throws IOException {
    Path logs = repoRoot.resolve("demo/target/demo-logs");
    Files.createDirectories(logs);
    System.setProperty(ProcessLogs.DIR_PROPERTY, logs.toString());
    Files.createDirectories(ProcessLogs.directory());
    System.setProperty("org.slf4j.simpleLogger.logFile", ProcessLogs.directory().resolve("weft.log").toString());
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    return ProcessLogs.directory();
  }

  /** Lines shown flush left (instructions to copy). */
  synchronized void plain(String text) {
    out.println(text);
    out.flush();
  }
}
