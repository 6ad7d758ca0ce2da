package dev.weft.xds.k8s;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an action for signals, at once for an isolated signal and coalesced for a burst: a signal
 * with no other signal in the quiet period before it runs the action immediately; the signals that
 * follow it within a quiet period of each other form a burst, whose run comes once they pause for
 * the quiet period, and never later than a maximum delay after the burst's first signal.
 *
 * <p>So a lone change (a weight edit) costs no waiting, and a burst (a rollout) costs one run for
 * its first signal and one for the rest, however many there are.
 */
public final class Debouncer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Debouncer.class);

  private final ScheduledExecutorService scheduler;
  private final long quietNanos;
  private final long maxDelayNanos;
  private final IntConsumer action;

  // Guarded by this. Timing comes only from the scheduler's delays, so a test can drive signals
  // on a virtual-time scheduler without a clock.
  /** Signals not yet handed to a run. */
  private int pending;
  /** Counts runs taken; a scheduled run for an earlier count finds its signals already covered. */
  private long taken;
  /** Counts signals; the quiet timer of an earlier signal is stale. */
  private long signals;
  /** Pending while the last signal is younger than the quiet period; null: the next signal is isolated. */
  private ScheduledFuture<?> quietTimer;
  /** The run the pending signals wait for: immediate for an isolated signal, else the burst's bound. */
  private ScheduledFuture<?> due;
  private boolean closed;

  /**
   * Runs {@code action} on {@code scheduler} with the number of signals the run covers. A single-
   * threaded scheduler makes runs sequential; signals that arrive during a run are covered by the next.
   */
  public Debouncer(ScheduledExecutorService scheduler, Duration quietPeriod, Duration maxDelay, IntConsumer action) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.action = Objects.requireNonNull(action, "action");
    if (quietPeriod.isNegative() || maxDelay.compareTo(quietPeriod) < 0) {
      throw new IllegalArgumentException(
          "need 0 <= quietPeriod <= maxDelay, got quietPeriod " + quietPeriod + " and maxDelay " + maxDelay);
    }
    this.quietNanos = quietPeriod.toNanos();
    this.maxDelayNanos = maxDelay.toNanos();
  }

  /** Notes one change; safe to call from any thread. Ignored once closed. */
  public synchronized void signal() {
    if (closed) {
      return;
    }
    pending++;
    boolean isolated = quietTimer == null;
    if (!isolated) {
      quietTimer.cancel(false);
    }
    long signal = ++signals;
    quietTimer = scheduler.schedule(() -> quietPeriodOver(signal), quietNanos, TimeUnit.NANOSECONDS);
    if (due == null) {
      long run = taken;
      // An isolated signal waits for nothing; the first signal of a burst bounds how long the burst may wait.
      due = scheduler.schedule(() -> runDue(run), isolated ? 0 : maxDelayNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void quietPeriodOver(long signal) {
    int covered;
    synchronized (this) {
      if (closed || signal != signals) {
        return;
      }
      // No signal for a quiet period: the burst (if any) is over, and the next signal is isolated.
      quietTimer = null;
      covered = take();
    }
    run(covered);
  }

  private void runDue(long run) {
    int covered;
    synchronized (this) {
      // An earlier run (the burst's quiet period) may have covered these signals already.
      if (closed || run != taken) {
        return;
      }
      covered = take();
    }
    run(covered);
  }

  /** Hands every pending signal to one run; 0 when there is nothing to run. Caller holds the lock. */
  private int take() {
    int covered = pending;
    if (covered == 0) {
      return 0;
    }
    pending = 0;
    taken++;
    if (due != null) {
      due.cancel(false);
      due = null;
    }
    return covered;
  }

  private void run(int covered) {
    if (covered == 0) {
      return;
    }
    try {
      action.accept(covered);
    } catch (RuntimeException e) {
      // An exception would vanish into the scheduler's future; the next signal runs the action again.
      LOG.error("Debounced action failed after {} signal(s)", covered, e);
    }
  }

  /** Drops the pending signals and ignores later ones; does not shut the scheduler down. */
  @Override
  public synchronized void close() {
    closed = true;
    if (quietTimer != null) {
      quietTimer.cancel(false);
    }
    if (due != null) {
      due.cancel(false);
    }
  }
}
