package dev.weft.testsupport;

import java.util.List;

/** What a finished command printed and how it exited. */
public record CommandResult(List<String> command, int exitCode, String stdout, String stderr) {

  public CommandResult {
    command = List.copyOf(command);
  }

  public boolean succeeded() {
    return exitCode == 0;
  }

  /** This result when the command exited 0, else an exception that shows the command and both outputs. */
  public CommandResult requireSuccess() {
    if (!succeeded()) {
      throw new AssertionError(this.toString());
    }
    return this;
  }

  @Override
  public String toString() {
    return "`" + String.join(" ", command) + "` exited " + exitCode
        + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
  }
}
