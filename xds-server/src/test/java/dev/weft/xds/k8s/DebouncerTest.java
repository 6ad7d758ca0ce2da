package dev.weft.xds.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

class DebouncerTest {

  static final Duration QUIET = Duration.ofMillis(20);
  static final Duration MAX = Duration.ofMillis(100);

  final ManualScheduler scheduler = new ManualScheduler();
  /** Virtual time of each run and the number of signals it covered. */
  final List<Run> runs = new CopyOnWriteArrayList<>();
  final Debouncer debouncer = new Debouncer(scheduler, QUIET, MAX, n -> runs.add(new Run(scheduler.now(), n)));

  record Run(Duration at, int signals) {}

  @Test
  void runsAnIsolatedSignalAtOnce() {
    debouncer.signal();

    scheduler.advance(Duration.ZERO);
    assertThat(runs).containsExactly(new Run(Duration.ZERO, 1));
    scheduler.advance(Duration.ofSeconds(1));
    assertThat(runs).hasSize(1);
    assertThat(scheduler.pendingTasks()).isZero();
  }

  @Test
  void runsEachSignalAtOnceWhenTheyAreAQuietPeriodApart() {
    debouncer.signal();
    scheduler.advance(QUIET);
    debouncer.signal();
    scheduler.advance(Duration.ofMillis(500));
    debouncer.signal();
    scheduler.advance(Duration.ZERO);

    assertThat(runs).containsExactly(
        new Run(Duration.ZERO, 1), new Run(QUIET, 1), new Run(QUIET.plusMillis(500), 1));
  }

  @Test
  void coversSignalsThatArriveBeforeTheImmediateRunStarts() {
    // On a busy scheduler the immediate run waits its turn; what arrives meanwhile rides along.
    debouncer.signal();
    debouncer.signal();
    debouncer.signal();
    scheduler.advance(Duration.ofSeconds(1));

    assertThat(runs).containsExactly(new Run(Duration.ZERO, 3));
    assertThat(scheduler.pendingTasks()).isZero();
  }

  @Test
  void coalescesTheRestOfABurstIntoOneRun() {
    for (int i = 0; i < 100; i++) {
      debouncer.signal();
      scheduler.advance(Duration.ofNanos(500_000));
    }
    scheduler.advance(Duration.ofSeconds(1));

    // The first signal was isolated and ran at once; the other 99 ran once they paused:
    // 50 ms of signals, then the quiet period.
    assertThat(runs).containsExactly(
        new Run(Duration.ZERO, 1),
        new Run(Duration.ofMillis(50).minusNanos(500_000).plus(QUIET), 99));
  }

  @Test
  void treatsASignalJustInsideTheQuietPeriodAsABurst() {
    debouncer.signal();
    scheduler.advance(QUIET.minusNanos(1));
    debouncer.signal();
    scheduler.advance(QUIET.minusNanos(1));
    assertThat(runs).containsExactly(new Run(Duration.ZERO, 1));

    scheduler.advance(Duration.ofNanos(1));
    assertThat(runs).containsExactly(new Run(Duration.ZERO, 1), new Run(QUIET.multipliedBy(2).minusNanos(1), 1));
  }

  @Test
  void restartsTheQuietPeriodWithEverySignalOfABurst() {
    debouncer.signal();
    scheduler.advance(Duration.ofMillis(15));
    debouncer.signal();
    scheduler.advance(Duration.ofMillis(15));
    debouncer.signal();
    scheduler.advance(Duration.ofMillis(15));
    assertThat(runs).containsExactly(new Run(Duration.ZERO, 1));

    scheduler.advance(Duration.ofMillis(5));
    assertThat(runs).containsExactly(new Run(Duration.ZERO, 1), new Run(Duration.ofMillis(50), 2));
  }

  @Test
  void honoursTheMaximumDelayUnderContinuousSignals() {
    // A signal every 5 ms for a second never leaves a quiet period, so after the first signal only
    // the bound makes runs.
    for (int i = 0; i < 200; i++) {
      debouncer.signal();
      scheduler.advance(Duration.ofMillis(5));
    }
    scheduler.advance(Duration.ofSeconds(1));

    assertThat(runs.get(0)).isEqualTo(new Run(Duration.ZERO, 1));
    // The burst starts with the signal at 5 ms and runs its bound later, covering 5 ms to 100 ms.
    assertThat(runs.get(1)).isEqualTo(new Run(Duration.ofMillis(5).plus(MAX), 20));
    assertThat(runs).hasSizeBetween(10, 12);
    assertThat(runs.stream().mapToInt(Run::signals).sum()).isEqualTo(200);
    for (int i = 2; i < runs.size() - 1; i++) {
      // The next burst starts with the first signal after a run, at most 5 ms later.
      assertThat(runs.get(i).at().minus(runs.get(i - 1).at())).isLessThanOrEqualTo(MAX.plusMillis(5));
    }
  }

  @Test
  void runsAtOnceAgainAfterABurstHasPaused() {
    debouncer.signal();
    debouncer.signal();
    scheduler.advance(Duration.ofMillis(1));
    debouncer.signal();
    scheduler.advance(QUIET);
    debouncer.signal();
    scheduler.advance(Duration.ZERO);

    assertThat(runs).containsExactly(
        new Run(Duration.ZERO, 2), new Run(QUIET.plusMillis(1), 1), new Run(QUIET.plusMillis(1), 1));
  }

  @Test
  void keepsRunningAfterTheActionFails() {
    List<Integer> ran = new CopyOnWriteArrayList<>();
    Debouncer failingOnce = new Debouncer(scheduler, QUIET, MAX, n -> {
      ran.add(n);
      if (ran.size() == 1) {
        throw new IllegalStateException("first run fails on purpose");
      }
    });

    failingOnce.signal();
    scheduler.advance(QUIET);
    failingOnce.signal();
    scheduler.advance(QUIET);
    failingOnce.signal();
    scheduler.advance(Duration.ofMillis(1));
    failingOnce.signal();
    scheduler.advance(QUIET);

    assertThat(ran).containsExactly(1, 1, 1, 1);
  }

  @Test
  void dropsThePendingBurstAndLaterSignalsWhenClosed() {
    debouncer.signal();
    debouncer.close();
    debouncer.signal();
    scheduler.advance(Duration.ofSeconds(1));

    assertThat(runs).isEmpty();
  }

  @Test
  void coalescesSignalsFromAnotherThreadOnARealScheduler() throws InterruptedException {
    ScheduledExecutorService real = Executors.newSingleThreadScheduledExecutor();
    List<Integer> counts = new CopyOnWriteArrayList<>();
    try (Debouncer onRealTime = new Debouncer(real, QUIET, MAX, counts::add)) {
      Thread producer = new Thread(() -> {
        for (int i = 0; i < 100; i++) {
          onRealTime.signal();
        }
      });
      producer.start();
      producer.join();

      Awaitility.await("all 100 signals are covered by runs")
          .atMost(Duration.ofSeconds(2))
          .until(() -> counts.stream().mapToInt(Integer::intValue).sum() == 100);
      assertThat(counts).hasSizeBetween(1, 3);
    } finally {
      real.shutdownNow();
      real.awaitTermination(1, TimeUnit.SECONDS);
    }
  }
}
