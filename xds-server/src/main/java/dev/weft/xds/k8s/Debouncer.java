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
 * Coalesces a burst of signals into one run of an action: the run comes once the signals have
 * paused for a quiet period, and never later than a maximum delay after the burst's first signal.
 */
public final class Debouncer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Debouncer.class);

  private final ScheduledExecutorService scheduler;
  private final long quietNanos;
  private final long maxDelayNanos;
  private final IntConsumer action;

  // Guarded by this. Timing comes only from the scheduler's delays, so a test can drive a burst
  // on a virtual-time scheduler without a clock.
  private int pending;
  private long burst;
  private ScheduledFuture<?> quietTimer;
  private ScheduledFuture<?> deadline;
  private boolean closed;

  /**
   * Runs {@code action} on {@code scheduler} with the number of signals the run covers. A single-
   * threaded scheduler makes runs sequential; signals that arrive during a run start the next burst.
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
    long current = burst;
    if (quietTimer != null) {
      quietTimer.cancel(false);
    }
    quietTimer = scheduler.schedule(() -> fire(current), quietNanos, TimeUnit.NANOSECONDS);
    if (deadline == null) {
      deadline = scheduler.schedule(() -> fire(current), maxDelayNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void fire(long firedBurst) {
    int coalesced;
    synchronized (this) {
      // The other timer of the burst may have fired already, or this one raced a cancel.
      if (closed || firedBurst != burst || pending == 0) {
        return;
      }
      coalesced = pending;
      pending = 0;
      burst++;
      quietTimer.cancel(false);
      deadline.cancel(false);
      quietTimer = null;
      deadline = null;
    }
    try {
      action.accept(coalesced);
    } catch (RuntimeException e) {
      // An exception would vanish into the scheduler's future; the next signal runs the action again.
      LOG.error("Debounced action failed after {} signal(s)", coalesced, e);
    }
  }

  /** Drops the pending burst and ignores later signals; does not shut the scheduler down. */
  @Override
  public synchronized void close() {
    closed = true;
    if (quietTimer != null) {
      quietTimer.cancel(false);
    }
    if (deadline != null) {
      deadline.cancel(false);
    }
  }
}
