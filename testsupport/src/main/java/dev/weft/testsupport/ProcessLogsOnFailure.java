package dev.weft.testsupport;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestWatcher;

/** JUnit extension that shows, on a test failure, the log tail of every process (Envoy, kube-apiserver, etcd) that ran during it. */
public final class ProcessLogsOnFailure implements BeforeAllCallback, BeforeEachCallback,
    TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler, TestWatcher {

  /** System property for how many lines of each log to show; 60 by default. */
  public static final String TAIL_LINES_PROPERTY = "weft.process.logs.tail";

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ProcessLogsOnFailure.class);
  private static final String MARK = "mark";
  private static final String ATTACHED = "attached";

  /** The end of one process log, carried as a suppressed exception on a test failure. */
  public static final class ProcessLogTail extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ProcessLogTail(String text) {
      // No stack trace: the trace would point here, which tells the reader nothing.
      super(text, null, false, false);
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getStore(NAMESPACE).put(MARK, ProcessLogs.mark());
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    context.getStore(NAMESPACE).put(MARK, ProcessLogs.mark());
  }

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
    throw attach(context, throwable);
  }

  @Override
  public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable throwable)
      throws Throwable {
    throw attach(context, throwable);
  }

  @Override
  public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable throwable)
      throws Throwable {
    throw attach(context, throwable);
  }

  @Override
  public void handleAfterEachMethodExecutionException(ExtensionContext context, Throwable throwable)
      throws Throwable {
    throw attach(context, throwable);
  }

  @Override
  public void handleAfterAllMethodExecutionException(ExtensionContext context, Throwable throwable)
      throws Throwable {
    throw attach(context, throwable);
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    List<ProcessLogs.Entry> logs = ProcessLogs.openSince(mark(context));
    if (logs.isEmpty()) {
      return;
    }
    System.out.println("Test " + context.getDisplayName() + " failed; process logs:\n"
        + ProcessLogs.describe(logs, tailLines()));
  }

  // Surefire sends test stdout to a file, so the printed tails are not on the console; a
  // suppressed exception is part of the failure's stack trace, which the console and the XML
  // report both show.
  private Throwable attach(ExtensionContext context, Throwable throwable) {
    // Attach once per failure: JUnit may pass the same throwable through several handlers.
    ExtensionContext.Store store = context.getStore(NAMESPACE);
    if (store.get(ATTACHED) == throwable) {
      return throwable;
    }
    store.put(ATTACHED, throwable);
    for (ProcessLogs.Entry log : ProcessLogs.openSince(mark(context))) {
      throwable.addSuppressed(new ProcessLogTail("last " + tailLines() + " lines of " + log.label()
          + " (" + log.file() + "):\n" + ProcessLogs.tail(log.file(), tailLines())));
    }
    return throwable;
  }

  private static long mark(ExtensionContext context) {
    // A method context inherits its class's store, so a class-level failure uses the beforeAll mark.
    Long mark = context.getStore(NAMESPACE).get(MARK, Long.class);
    return Optional.ofNullable(mark).orElse(0L);
  }

  private static int tailLines() {
    return Integer.getInteger(TAIL_LINES_PROPERTY, 60);
  }
}
