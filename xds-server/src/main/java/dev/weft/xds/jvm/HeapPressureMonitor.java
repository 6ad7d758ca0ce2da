package dev.weft.xds.jvm;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.GcInfo;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches this JVM's garbage collections and says when the heap is too small for the mesh: one WARN
 * per episode naming the chart value to raise, and metrics on the server's registry. It changes
 * nothing else: the server keeps serving the snapshots it has.
 */
public final class HeapPressureMonitor implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(HeapPressureMonitor.class);
  private static final double MIB = 1024 * 1024;

  /** The chart value that sets the heap (-Xmx). */
  static final String MAX_HEAP_VALUE = "xds.jvm.maxHeap";
  /** The chart value that must grow with it: the container's memory limit. */
  static final String MEMORY_LIMIT_VALUE = "xds.resources.limits.memory";

  private final HeapPressure pressure;
  private final Set<String> heapPools;
  private final long maxHeap;
  private final Counter episodes;
  private final List<NotificationEmitter> subscribed = new ArrayList<>();
  private final NotificationListener listener = this::onNotification;

  HeapPressureMonitor(HeapPressure pressure, Set<String> heapPools, long maxHeap, MeterRegistry registry) {
    this.pressure = Objects.requireNonNull(pressure, "pressure");
    this.heapPools = Set.copyOf(heapPools);
    this.maxHeap = maxHeap;
    // Registered at zero, so a dashboard sees the series before the first episode.
    Gauge.builder("xds.heap.pressure", this, m -> m.underPressure() ? 1 : 0)
        .description("1 while the heap left after garbage collection is nearly full or pauses take a large"
            + " share of the time (heap too small for the mesh), else 0")
        .register(registry);
    Gauge.builder("xds.heap.after.gc.ratio", this, HeapPressureMonitor::lastRatio)
        .description("heap used after the last garbage collection, as a share of the maximum heap")
        .register(registry);
    Gauge.builder("xds.gc.pause.share", this, HeapPressureMonitor::pauseShare)
        .description("share of the last " + pressure.settings().window().toSeconds()
            + " s spent in garbage collection pauses, as of the last collection")
        .register(registry);
    this.episodes = Counter.builder("xds.heap.pressure.episodes")
        .description("times the heap became too small for what the server holds")
        .register(registry);
  }

  /** Starts watching every collector of this JVM with the default settings. */
  public static HeapPressureMonitor start(MeterRegistry registry) {
    Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(pool -> pool.getType() == MemoryType.HEAP)
        .map(MemoryPoolMXBean::getName)
        .collect(Collectors.toSet());
    HeapPressureMonitor monitor = new HeapPressureMonitor(new HeapPressure(HeapPressure.Settings.defaults()),
        heapPools, Runtime.getRuntime().maxMemory(), registry);
    for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (collector instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(monitor.listener, null, null);
        monitor.subscribed.add(emitter);
      }
    }
    return monitor;
  }

  /** Whether the heap is under pressure now. */
  public synchronized boolean underPressure() {
    return pressure.underPressure();
  }

  /** Stops listening to the collectors. */
  @Override
  public void close() {
    for (NotificationEmitter emitter : subscribed) {
      try {
        emitter.removeNotificationListener(listener);
      } catch (ListenerNotFoundException e) {
        // Already gone: nothing to undo.
      }
    }
    subscribed.clear();
  }

  private void onNotification(Notification notification, Object handback) {
    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
      return;
    }
    GarbageCollectionNotificationInfo info =
        GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
    GcInfo gc = info.getGcInfo();
    record(new HeapPressure.Reading(gc.getEndTime(), gc.getDuration(), isMajor(info), isPause(info),
        usedAfter(gc.getMemoryUsageAfterGc()), maxHeap));
  }

  /** Takes one reading, and logs and counts a change; the seam the tests feed. */
  void record(HeapPressure.Reading reading) {
    HeapPressure.Change change;
    double share;
    synchronized (this) {
      change = pressure.onCollection(reading);
      share = pressure.pauseShare();
    }
    if (change == HeapPressure.Change.STARTED) {
      episodes.increment();
      LOG.warn(warning(reading, share, pressure.settings()));
    } else if (change == HeapPressure.Change.ENDED) {
      LOG.info("Heap pressure over: {} MiB of {} MiB used after garbage collection, {}% of the last {} s in pauses",
          mib(reading.usedAfter()), mib(reading.max()), percent(share), pressure.settings().window().toSeconds());
    }
  }

  /** The one line an operator sees when an episode starts: what is wrong, what still works, what to do. */
  static String warning(HeapPressure.Reading reading, double pauseShare, HeapPressure.Settings settings) {
    return String.format("Heap too small for the mesh: %d MiB of %d MiB (%d%%) still used after garbage collection,"
            + " %d%% of the last %d s spent in collection pauses. Proxies keep the config they have, but pushes"
            + " slow down and the server may die of OutOfMemoryError. Raise the xds-server's heap (helm value %s)"
            + " and its memory limit by as much (%s), or watch fewer namespaces (watchNamespaces)."
            + " Metric: xds_heap_pressure.",
        mib(reading.usedAfter()), mib(reading.max()), percent(reading.ratio()), percent(pauseShare),
        settings.window().toSeconds(), MAX_HEAP_VALUE, MEMORY_LIMIT_VALUE);
  }

  private synchronized double lastRatio() {
    HeapPressure.Reading last = pressure.last();
    return last == null ? 0 : last.ratio();
  }

  private synchronized double pauseShare() {
    return pressure.pauseShare();
  }

  private long usedAfter(Map<String, MemoryUsage> afterGc) {
    long used = 0;
    for (Map.Entry<String, MemoryUsage> pool : afterGc.entrySet()) {
      if (heapPools.contains(pool.getKey())) {
        used += pool.getValue().getUsed();
      }
    }
    return used;
  }

  private static boolean isMajor(GarbageCollectionNotificationInfo info) {
    // HotSpot's actions: "end of minor GC" (young, and G1's mixed), "end of major GC" (old or full).
    return info.getGcAction().contains("major");
  }

  private static boolean isPause(GarbageCollectionNotificationInfo info) {
    // Concurrent cycles (G1 Concurrent GC, ZGC/Shenandoah Cycles) run beside the application.
    String name = info.getGcName();
    return !name.contains("Concurrent") && !name.contains("Cycles");
  }

  private static long mib(long bytes) {
    return Math.round(bytes / MIB);
  }

  private static long percent(double share) {
    return Math.round(share * 100);
  }
}
