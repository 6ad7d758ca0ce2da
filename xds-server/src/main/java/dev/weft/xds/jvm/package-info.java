/**
 * What the server watches in its own JVM: {@link dev.weft.xds.jvm.HeapPressure} decides from each
 * garbage collection whether the heap is too small for the mesh, and
 * {@link dev.weft.xds.jvm.HeapPressureMonitor} feeds it from the collectors' notifications, logs one
 * warning per episode and keeps the {@code xds_heap_*} metrics.
 */
package dev.weft.xds.jvm;
