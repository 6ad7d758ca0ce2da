package dev.weft.demo;

import java.io.PrintStream;

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

  /** Lines shown flush left (instructions to copy). */
  synchronized void plain(String text) {
    out.println(text);
    out.flush();
  }
}
