package dev.weft.xds.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.xds.jvm.HeapPressure.Reading;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

class HeapPressureMonitorTest {

  static final long MAX = 256L << 20;

  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final HeapPressureMonitor monitor =
      new HeapPressureMonitor(new HeapPressure(HeapPressure.Settings.defaults()), Set.of("old"), MAX, registry);

  double gauge(String name) {
    return registry.get(name).gauge().value();
  }

  @Test
  void registersItsMetricsAtZero() {
    assertThat(gauge("xds.heap.pressure")).isZero();
    assertThat(gauge("xds.heap.after.gc.ratio")).isZero();
    assertThat(gauge("xds.gc.pause.share")).isZero();
    assertThat(registry.get("xds.heap.pressure.episodes").counter().count()).isZero();
  }

  @Test
  void exposesItsMetricsUnderTheDocumentedNames() {
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new HeapPressureMonitor(new HeapPressure(HeapPressure.Settings.defaults()), Set.of("old"), MAX, prometheus);

    assertThat(prometheus.scrape().lines().filter(line -> !line.startsWith("#")))
        .containsExactlyInAnyOrder("xds_gc_pause_share 0.0", "xds_heap_after_gc_ratio 0.0", "xds_heap_pressure 0.0",
            "xds_heap_pressure_episodes_total 0.0");
  }

  @Test
  void countsEachEpisodeOnceAndShowsItWhileItLasts() {
    monitor.record(new Reading(1_000, 40, true, true, MAX * 95 / 100, MAX));
    monitor.record(new Reading(2_000, 40, true, true, MAX * 96 / 100, MAX));
    assertThat(gauge("xds.heap.pressure")).isEqualTo(1);
    assertThat(gauge("xds.heap.after.gc.ratio")).isEqualTo(0.96, org.assertj.core.data.Offset.offset(0.001));
    assertThat(registry.get("xds.heap.pressure.episodes").counter().count()).isEqualTo(1);

    monitor.record(new Reading(30_000, 40, true, true, MAX / 2, MAX));
    assertThat(gauge("xds.heap.pressure")).isZero();
    monitor.record(new Reading(31_000, 40, true, true, MAX * 95 / 100, MAX));
    assertThat(registry.get("xds.heap.pressure.episodes").counter().count()).isEqualTo(2);
  }

  @Test
  void warningSaysHowFullTheHeapIsAndWhichChartValueToRaise() {
    String line = HeapPressureMonitor.warning(
        new Reading(1_000, 40, true, true, 240L << 20, MAX), 0.42, HeapPressure.Settings.defaults());

    assertThat(line)
        .contains("240 MiB of 256 MiB (94%) still used after garbage collection")
        .contains("42% of the last 10 s")
        .contains("Proxies keep the config they have")
        .contains("helm value xds.jvm.maxHeap")
        .contains("xds.resources.limits.memory")
        .contains("xds_heap_pressure");
  }

  @Test
  void readsTheCollectionsOfThisJvm() {
    SimpleMeterRegistry live = new SimpleMeterRegistry();
    try (HeapPressureMonitor started = HeapPressureMonitor.start(live)) {
      Awaitility.await("a reading from a real collection")
          .atMost(Duration.ofSeconds(10))
          .until(() -> {
            System.gc();
            return live.get("xds.heap.after.gc.ratio").gauge().value() > 0;
          });
      assertThat(started.underPressure()).isFalse();
    }
  }
}
