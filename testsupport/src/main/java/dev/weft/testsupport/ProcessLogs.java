package dev.weft.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/** The log files of the processes that fixtures start in this JVM, kept under target/ for a post-mortem. */
public final class ProcessLogs {

  /** System property that moves the logs elsewhere than {@code target/process-logs} of the module. */
  public static final String DIR_PROPERTY = "weft.process.logs.dir";

  private static final AtomicInteger FILE_COUNTER = new AtomicInteger();
  // Orders "a process started or stopped" against "a test started", so a failure shows only the
  // logs that were open while that test ran.
  private static final AtomicLong CLOCK = new AtomicLong();
  private static final List<Entry> ENTRIES = new CopyOnWriteArrayList<>();
  private static final Path RUN_DIR = runDir();

  private ProcessLogs() {
  }

  /** One process's log file, and when it was open on the registry's clock. */
  public static final class Entry {
    private final String label;
    private final Path file;
    private final long openedAt;
    private volatile long closedAt = Long.MAX_VALUE;

    private Entry(String label, Path file, long openedAt) {
      this.label = label;
      this.file = file;
      this.openedAt = openedAt;
    }

    public String label() {
      return label;
    }

    public Path file() {
      return file;
    }

    /** Marks the process as stopped; its log stays on disk and stays relevant to a test that saw it run. */
    public void closed() {
      closedAt = CLOCK.incrementAndGet();
    }

    boolean openSince(long mark) {
      return closedAt > mark;
    }

    long openedAt() {
      return openedAt;
    }
  }

  /** The folder of this JVM's logs: one per run so repeated runs do not mix their logs. */
  public static Path directory() {
    return RUN_DIR;
  }

  /** A new, empty log file named after {@code label}, registered so failures print its tail. */
  public static Entry newLogFile(String label) {
    String safe = label.replaceAll("[^A-Za-z0-9._-]", "_");
    Path file = RUN_DIR.resolve(safe + "-" + FILE_COUNTER.incrementAndGet() + ".log");
    try {
      Files.createDirectories(RUN_DIR);
      Files.deleteIfExists(file);
      Files.createFile(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create log file " + file, e);
    }
    Entry entry = new Entry(label, file, CLOCK.incrementAndGet());
    ENTRIES.add(entry);
    return entry;
  }

  /** A point on the registry's clock; {@link #openSince(long)} lists what ran after it. */
  public static long mark() {
    return CLOCK.incrementAndGet();
  }

  /** The logs of processes that were still running at {@code mark} or started after it. */
  public static List<Entry> openSince(long mark) {
    List<Entry> open = new ArrayList<>();
    for (Entry entry : ENTRIES) {
      if (entry.openSince(mark)) {
        open.add(entry);
      }
    }
    return open;
  }

  /** The last {@code lines} lines of a file, or a note saying why there are none. */
  public static String tail(Path file, int lines) {
    if (!Files.isRegularFile(file)) {
      return "(no log file at " + file + ")";
    }
    Deque<String> last = new ArrayDeque<>(lines);
    // Logs of a crashing process may hold bytes that are not UTF-8; decode leniently.
    try (Stream<String> stream = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1).lines()) {
      stream.forEach(line -> {
        if (last.size() == lines) {
          last.removeFirst();
        }
        last.addLast(line);
      });
    } catch (IOException | UncheckedIOException e) {
      return "(cannot read " + file + ": " + e.getMessage() + ")";
    }
    return last.isEmpty() ? "(empty log " + file + ")" : String.join("\n", last);
  }

  /** The tails of several logs as one text, each under a header naming the process and file. */
  public static String describe(List<Entry> entries, int lines) {
    StringBuilder text = new StringBuilder();
    for (Entry entry : entries) {
      text.append("----- last ").append(lines).append(" lines of ").append(entry.label())
          .append(" (").append(entry.file()).append(") -----\n")
          .append(tail(entry.file(), lines)).append('\n');
    }
    return text.toString();
  }

  private static Path runDir() {
    String configured = System.getProperty(DIR_PROPERTY);
    Path base = configured != null && !configured.isBlank()
        ? Path.of(configured)
        : Path.of("target", "process-logs");
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    return base.toAbsolutePath().resolve("run-" + stamp + "-" + ProcessHandle.current().pid());
  }
}
