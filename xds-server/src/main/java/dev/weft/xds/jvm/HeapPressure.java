package dev.weft.xds.jvm;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;

/**
 * Decides, from what each garbage collection leaves behind, whether the heap is too small for what
 * the server holds: an episode starts when a collection leaves the heap nearly full (a major one
 * once, or several in a row, since a young collection also counts old garbage not yet collected),
 * or when collection pauses take a large share of the time; it ends when a collection leaves the
 * heap clearly below that and the pauses have calmed down. Pure: readings in, changes out.
 */
public final class HeapPressure {

  /**
   * When an episode starts and ends: {@code fullRatio} of the maximum heap still used after a
   * collection is "nearly full" (a major collection once, or {@code fullInARow} collections of any
   * kind in a row), {@code clearRatio} is clearly below it; {@code pauseShare} of the last
   * {@code window} spent in collection pauses starts an episode by itself, and an episode ends only
   * below {@code calmPauseShare}.
   */
  public record Settings(double fullRatio, double clearRatio, int fullInARow, Duration window, double pauseShare,
      double calmPauseShare) {

    public Settings {
      Objects.requireNonNull(window, "window");
      if (!(0 < clearRatio && clearRatio <= fullRatio && fullRatio <= 1)) {
        throw new IllegalArgumentException("need 0 < clearRatio <= fullRatio <= 1, got " + clearRatio + ", " + fullRatio);
      }
      if (!(0 < calmPauseShare && calmPauseShare <= pauseShare && pauseShare <= 1)) {
        throw new IllegalArgumentException(
            "need 0 < calmPauseShare <= pauseShare <= 1, got " + calmPauseShare + ", " + pauseShare);
      }
      if (fullInARow < 1 || window.isNegative() || window.isZero()) {
        throw new IllegalArgumentException("need fullInARow >= 1 and a positive window");
      }
    }

    /**
     * 90% full after a major collection or after 3 in a row, clear below 80%; a third of the last
     * 10 s in pauses, calm below a tenth.
     */
    public static Settings defaults() {
      return new Settings(0.90, 0.80, 3, Duration.ofSeconds(10), 0.30, 0.10);
    }
  }

  /**
   * One finished collection: when it ended and how long it took (ms, on one clock), whether it was
   * a major (old generation or full) collection, whether its duration was a pause (concurrent
   * cycles run beside the application and do not count as pause time), and the heap used after it
   * and the most the heap may grow to (bytes).
   */
  public record Reading(long endMillis, long durationMillis, boolean major, boolean pause, long usedAfter, long max) {

    public Reading {
      if (max <= 0 || usedAfter < 0 || durationMillis < 0) {
        throw new IllegalArgumentException("need max > 0, usedAfter >= 0 and durationMillis >= 0");
      }
    }

    /** The share of the maximum heap still used after the collection. */
    public double ratio() {
      return (double) usedAfter / max;
    }
  }

  /** What a reading changed. */
  public enum Change { NONE, STARTED, ENDED }

  private final Settings settings;
  private final Deque<Reading> recentPauses = new ArrayDeque<>();
  private long pausedMillisInWindow;
  private int fullInARow;
  private boolean underPressure;
  private Reading last;
  private double pauseShare;

  public HeapPressure(Settings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** Takes one collection's reading, in the order they happened. */
  public Change onCollection(Reading reading) {
    last = reading;
    pauseShare = pauseShareEndingAt(reading);
    boolean full = reading.ratio() >= settings.fullRatio();
    fullInARow = full ? fullInARow + 1 : 0;
    if (!underPressure) {
      boolean heapFull = full && (reading.major() || fullInARow >= settings.fullInARow());
      if (heapFull || pauseShare >= settings.pauseShare()) {
        underPressure = true;
        return Change.STARTED;
      }
    } else if (reading.ratio() < settings.clearRatio() && pauseShare < settings.calmPauseShare()) {
      underPressure = false;
      return Change.ENDED;
    }
    return Change.NONE;
  }

  /** Whether an episode is going on. */
  public boolean underPressure() {
    return underPressure;
  }

  /** The last reading, or null before the first collection. */
  public Reading last() {
    return last;
  }

  /** The share of the window before the last reading spent in collection pauses, 0 to 1. */
  public double pauseShare() {
    return pauseShare;
  }

  /** The settings this decides by. */
  public Settings settings() {
    return settings;
  }

  private double pauseShareEndingAt(Reading reading) {
    if (reading.pause()) {
      recentPauses.addLast(reading);
      pausedMillisInWindow += reading.durationMillis();
    }
    long windowMillis = settings.window().toMillis();
    long from = reading.endMillis() - windowMillis;
    while (!recentPauses.isEmpty() && recentPauses.peekFirst().endMillis() <= from) {
      pausedMillisInWindow -= recentPauses.removeFirst().durationMillis();
    }
    return Math.min(1.0, (double) pausedMillisInWindow / windowMillis);
  }
}
