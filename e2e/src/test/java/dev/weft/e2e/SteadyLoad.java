package dev.weft.e2e;

import dev.weft.demo.Traffic;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Clients sending one request after another for {@code host} through a sidecar until stopped or
 * until {@code maxRequests} were sent, whichever comes first (a load loop bounded in count; the
 * caller bounds it in time), tallying every answer.
 */
final class SteadyLoad implements AutoCloseable {

  final Traffic.Tally tally = new Traffic.Tally();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Thread> threads = new ArrayList<>();
  private final long started = System.nanoTime();
  private long stopped;

  SteadyLoad(Traffic traffic, String host, int clients, int maxRequests) {
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
