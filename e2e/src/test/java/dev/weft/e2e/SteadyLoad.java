package dev.weft.e2e;

import dev.weft.demo.Traffic;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Clients sending one request after another for {@code host} through a sidecar until stopped or
 * until {@code maxRequests} were sent, whichever comes first (a load loop bounded in count; the
 * caller bounds it in time), tallying every answer.
 */
final class SteadyLoad implements AutoCloseable {

  final Traffic.Tally tally = new Traffic.Tally();
  private final Traffic traffic;
  private final String host;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Thread> threads = new ArrayList<>();
  private final long started = System.nanoTime();
  private long stopped;

  SteadyLoad(Traffic traffic, String host, int clients, int maxRequests) {
    this.traffic = traffic;
    this.host = host;
    for (int i = 0; i < clients; i++) {
      Thread thread = new Thread(() -> {
        while (running.get() && tally.total() < maxRequests) {
          tally.add(traffic.sendOne(host));
        }
      }, "load-" + i);
      thread.start();
      threads.add(thread);
    }
  }

  /**
   * {@code extra} requests at once on top of the steady clients, tallied with theirs: more requests
   * in flight than a sidecar's pool has connections make it open new ones (new handshakes).
   * Returns when all have answered, or after about 10 s each at the most.
   */
  void burst(int extra) throws InterruptedException {
    List<Thread> burst = new ArrayList<>();
    CountDownLatch ready = new CountDownLatch(extra);
    CountDownLatch go = new CountDownLatch(1);
    for (int i = 0; i < extra; i++) {
      Thread thread = new Thread(() -> {
        ready.countDown();
        try {
          // Released together, so that they are in flight at once.
          if (go.await(10, TimeUnit.SECONDS)) {
            tally.add(traffic.sendOne(host));
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "burst-" + i);
      thread.start();
      burst.add(thread);
    }
    ready.await(10, TimeUnit.SECONDS);
    go.countDown();
    for (Thread thread : burst) {
      thread.join(10_000);
    }
  }

  /** Stops the clients and waits for their last requests; returns the seconds the load ran. */
  synchronized double stop() throws InterruptedException {
    if (running.getAndSet(false)) {
      for (Thread thread : threads) {
        thread.join();
      }
      stopped = System.nanoTime();
    }
    return (stopped - started) / 1e9;
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
