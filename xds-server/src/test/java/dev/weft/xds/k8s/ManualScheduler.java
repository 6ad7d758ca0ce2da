package dev.weft.xds.k8s;

import java.time.Duration;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler on virtual time for deterministic tests: nothing runs until {@link #advance}, which
 * runs due tasks in time order on the calling thread. Only what the Debouncer needs is supported.
 */
final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {

  private final PriorityQueue<Task> queue = new PriorityQueue<>();
  private long nowNanos;
  private long sequence;

  /** Virtual time since creation. */
  Duration now() {
    return Duration.ofNanos(nowNanos);
  }

  /** Moves virtual time forward, running every task that falls due, including ones they schedule. */
  void advance(Duration by) {
    long target = nowNanos + by.toNanos();
    while (!queue.isEmpty() && queue.peek().dueNanos <= target) {
      Task task = queue.poll();
      nowNanos = task.dueNanos;
      if (!task.cancelled) {
        task.done = true;
        task.runnable.run();
      }
    }
    nowNanos = target;
  }

  /** Tasks waiting that are not cancelled. */
  long pendingTasks() {
    return queue.stream().filter(t -> !t.cancelled).count();
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    Task task = new Task(command, nowNanos + Math.max(0, unit.toNanos(delay)), sequence++);
    queue.add(task);
    return task;
  }

  @Override
  public void execute(Runnable command) {
    schedule(command, 0, TimeUnit.NANOSECONDS);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void shutdown() {
    queue.clear();
  }

  @Override
  public List<Runnable> shutdownNow() {
    queue.clear();
    return List.of();
  }

  @Override
  public boolean isShutdown() {
    return false;
  }

  @Override
  public boolean isTerminated() {
    return false;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return true;
  }

  private final class Task implements ScheduledFuture<Object> {
    final Runnable runnable;
    final long dueNanos;
    final long order;
    boolean cancelled;
    boolean done;

    Task(Runnable runnable, long dueNanos, long order) {
      this.runnable = runnable;
      this.dueNanos = dueNanos;
      this.order = order;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(dueNanos - nowNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed other) {
      Task o = (Task) other;
      int byTime = Long.compare(dueNanos, o.dueNanos);
      return byTime != 0 ? byTime : Long.compare(order, o.order);
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      if (done || cancelled) {
        return false;
      }
      cancelled = true;
      return true;
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public boolean isDone() {
      return done || cancelled;
    }

    @Override
    public Object get() {
      return null;
    }

    @Override
    public Object get(long timeout, TimeUnit unit) {
      return null;
    }
  }
}
