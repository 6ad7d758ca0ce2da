package dev.weft.testsupport;

/** Tear-down of what a test or the demo started: every part is closed even when one fails. */
public final class Closeables {

  private Closeables() {}

  /** Closes each non-null part in order; a failure is printed and does not stop the others. */
  public static void closeAll(AutoCloseable... parts) {
    for (AutoCloseable part : parts) {
      if (part != null) {
        try {
          part.close();
        } catch (Exception e) {
          System.err.println("closing " + part + ": " + e);
        }
      }
    }
  }
}
