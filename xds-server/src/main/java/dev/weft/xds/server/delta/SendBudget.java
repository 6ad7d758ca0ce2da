package dev.weft.xds.server.delta;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bound on the bytes of responses written to streams whose clients have not read them yet, over
 * all delta streams of the server. gRPC serializes a response into direct (off-heap) buffers as
 * it is written, and its own flow control stops a stream only after a response: when 2,000
 * sidecars connect at once, each first response (up to a few MB at 1,000 Services) would sit in
 * those buffers together, and a 256 MiB process ran out of direct memory. With the budget, a
 * stream whose response does not fit waits in line and is resumed, first come first served, as
 * other streams' clients read theirs.
 *
 * <p>A stream holds budget for what it wrote until its call reports it ready again (its buffer
 * drained).
 */
public final class SendBudget {

  /** Something waiting for budget. */
  interface Waiter {
    /** Retries its send; false only when it had to queue again for lack of budget. */
    boolean resume();
  }

  private final long limit;
  /**
   * Read without the lock on every push (the publishing thread checks it for each of thousands of
   * streams while gRPC threads give budget back), so that admitting under the limit never waits
   * for the monitor; only queueing and resuming take it.
   */
  private final AtomicLong inFlight = new AtomicLong();
  /** In arrival order; a set, so a waiter asking again keeps its place. Guarded by this. */
  private final Set<Waiter> waiting = new LinkedHashSet<>();

  public SendBudget(long limitBytes) {
    if (limitBytes <= 0) {
      throw new IllegalArgumentException("the send budget must be positive, was " + limitBytes);
    }
    this.limit = limitBytes;
  }

  /** The budget a server with this heap limit gets: a quarter of it (gRPC's direct buffers default to the same limit). */
  public static SendBudget forHeap(long maxHeapBytes) {
    return new SendBudget(Math.max(4L << 20, maxHeapBytes / 4));
  }

  /**
   * Whether a stream may write now: while the bytes in flight are under the limit, yes; otherwise
   * {@code waiter} is queued, once, to be resumed when budget comes back. The check comes before
   * the response is built (a response waiting for budget would sit on the heap: 2,000 of them did
   * not fit in 256 MiB), so the limit is soft: each admitted write may pass it by one response.
   */
  boolean admit(Waiter waiter) {
    if (inFlight.get() < limit) {
      return true;
    }
    synchronized (this) {
      // Checked again under the lock release() resumes waiters with: budget given back since the
      // first look is seen here, or this waiter is seen there.
      if (inFlight.get() < limit) {
        return true;
      }
      waiting.add(waiter);
      return false;
    }
  }

  /** Counts {@code bytes} written by an admitted stream. */
  void spend(long bytes) {
    inFlight.addAndGet(bytes);
  }

  /** Gives back {@code bytes} and resumes waiters in order while they get through. Call holding no stream's monitor. */
  void release(long bytes) {
    inFlight.addAndGet(-bytes);
    while (true) {
      Waiter next;
      synchronized (this) {
        if (inFlight.get() >= limit || waiting.isEmpty()) {
          return;
        }
        Iterator<Waiter> first = waiting.iterator();
        next = first.next();
        first.remove();
      }
      if (!next.resume()) {
        return; // it queued itself again: the budget is spoken for until more comes back
      }
    }
  }

  /** Forgets a waiter that went away (its stream closed). */
  synchronized void forget(Waiter waiter) {
    waiting.remove(waiter);
  }

  /** Bytes written and not yet known to be read. */
  public long inFlight() {
    return inFlight.get();
  }

  /** Streams waiting for budget. */
  public synchronized int waiting() {
    return waiting.size();
  }
}
