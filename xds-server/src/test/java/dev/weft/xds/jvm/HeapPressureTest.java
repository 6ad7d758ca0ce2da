package dev.weft.xds.jvm;

import static dev.weft.xds.jvm.HeapPressure.Change.ENDED;
import static dev.weft.xds.jvm.HeapPressure.Change.NONE;
import static dev.weft.xds.jvm.HeapPressure.Change.STARTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.xds.jvm.HeapPressure.Reading;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class HeapPressureTest {

  static final long MAX = 256L << 20;

  final HeapPressure pressure = new HeapPressure(HeapPressure.Settings.defaults());
  long now = 100_000;

  /** A young pause of 5 ms, a second after the previous collection, leaving {@code percent} of the heap used. */
  Reading young(int percent) {
    now += 1000;
    return new Reading(now, 5, false, true, MAX * percent / 100, MAX);
  }

  Reading major(int percent) {
    now += 1000;
    return new Reading(now, 50, true, true, MAX * percent / 100, MAX);
  }

  @Test
  void staysCalmWhileCollectionsFreeTheHeap() {
    for (int i = 0; i < 50; i++) {
      assertThat(pressure.onCollection(young(40 + i % 30))).isEqualTo(NONE);
    }
    assertThat(pressure.onCollection(major(70))).isEqualTo(NONE);
    assertThat(pressure.underPressure()).isFalse();
  }

  @Test
  void startsAnEpisodeWhenAMajorCollectionLeavesTheHeapNearlyFull() {
    assertThat(pressure.onCollection(young(60))).isEqualTo(NONE);
    assertThat(pressure.onCollection(major(93))).isEqualTo(STARTED);
    assertThat(pressure.underPressure()).isTrue();
    assertThat(pressure.last().ratio()).isCloseTo(0.93, org.assertj.core.data.Offset.offset(0.001));
  }

  @Test
  void waitsForSeveralYoungCollectionsInARowBeforeCallingTheHeapFull() {
    // A young collection counts old garbage the next major one may free: one alone proves little.
    assertThat(pressure.onCollection(young(95))).isEqualTo(NONE);
    assertThat(pressure.onCollection(young(95))).isEqualTo(NONE);
    assertThat(pressure.onCollection(young(60))).isEqualTo(NONE);
    assertThat(pressure.onCollection(young(92))).isEqualTo(NONE);
    assertThat(pressure.onCollection(young(92))).isEqualTo(NONE);
    assertThat(pressure.onCollection(young(91))).isEqualTo(STARTED);
  }

  @Test
  void reportsAnEpisodeOnceWhileItLasts() {
    assertThat(pressure.onCollection(major(95))).isEqualTo(STARTED);
    for (int i = 0; i < 20; i++) {
      assertThat(pressure.onCollection(i % 2 == 0 ? major(97) : young(85))).isEqualTo(NONE);
    }
    assertThat(pressure.underPressure()).isTrue();
  }

  @Test
  void endsAnEpisodeOnlyWhenTheHeapIsClearlyBelowFull() {
    assertThat(pressure.onCollection(major(95))).isEqualTo(STARTED);
    // Between the two ratios: no flapping around the threshold.
    assertThat(pressure.onCollection(major(85))).isEqualTo(NONE);
    assertThat(pressure.onCollection(major(91))).isEqualTo(NONE);
    assertThat(pressure.onCollection(major(79))).isEqualTo(ENDED);
    assertThat(pressure.underPressure()).isFalse();
    // A later episode is reported again.
    assertThat(pressure.onCollection(major(96))).isEqualTo(STARTED);
  }

  @Test
  void startsAnEpisodeWhenPausesTakeAThirdOfTheTime() {
    // A collection every 100 ms, each pausing 40 ms, with the heap only 60% full after each.
    HeapPressure.Change change = NONE;
    int collections = 0;
    while (change == NONE && collections < 200) {
      now += 100;
      change = pressure.onCollection(new Reading(now, 40, false, true, MAX * 60 / 100, MAX));
      collections++;
    }
    assertThat(change).isEqualTo(STARTED);
    // 30% of a 10 s window is 3 s of pauses: the 75th collection of 40 ms.
    assertThat(collections).isEqualTo(75);
    assertThat(pressure.pauseShare()).isGreaterThanOrEqualTo(0.30);
  }

  @Test
  void forgetsPausesOlderThanTheWindow() {
    for (int i = 0; i < 70; i++) {
      now += 100;
      assertThat(pressure.onCollection(new Reading(now, 40, false, true, MAX / 2, MAX))).isEqualTo(NONE);
    }
    assertThat(pressure.pauseShare()).isCloseTo(0.28, org.assertj.core.data.Offset.offset(0.001));
    // Ten quiet seconds later the earlier pauses are out of the window.
    now += 10_000;
    assertThat(pressure.onCollection(new Reading(now, 5, false, true, MAX / 2, MAX))).isEqualTo(NONE);
    assertThat(pressure.pauseShare()).isCloseTo(0.0005, org.assertj.core.data.Offset.offset(0.0001));
  }

  @Test
  void doesNotCountConcurrentCyclesAsPauses() {
    for (int i = 0; i < 20; i++) {
      now += 1000;
      assertThat(pressure.onCollection(new Reading(now, 900, false, false, MAX / 2, MAX))).isEqualTo(NONE);
    }
    assertThat(pressure.pauseShare()).isZero();
  }

  @Test
  void endsAPauseEpisodeOnlyOnceThePausesCalmDown() {
    for (int i = 0; i < 75; i++) {
      now += 100;
      pressure.onCollection(new Reading(now, 40, false, true, MAX / 2, MAX));
    }
    assertThat(pressure.underPressure()).isTrue();
    // The heap is fine but the pauses still fill the window.
    now += 100;
    assertThat(pressure.onCollection(new Reading(now, 40, false, true, MAX / 2, MAX))).isEqualTo(NONE);
    now += 10_000;
    assertThat(pressure.onCollection(new Reading(now, 5, false, true, MAX / 2, MAX))).isEqualTo(ENDED);
  }

  @Test
  void refusesSettingsThatCannotEndAnEpisode() {
    assertThatThrownBy(() -> new HeapPressure.Settings(0.8, 0.9, 3, Duration.ofSeconds(10), 0.3, 0.1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new HeapPressure.Settings(0.9, 0.8, 3, Duration.ofSeconds(10), 0.1, 0.3))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new HeapPressure.Settings(0.9, 0.8, 0, Duration.ofSeconds(10), 0.3, 0.1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
