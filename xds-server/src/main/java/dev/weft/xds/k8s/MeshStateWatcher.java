package dev.weft.xds.k8s;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.convert.MeshStateBuilder;
import dev.weft.convert.MeshedPods;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes source of the mesh: informers on Services, EndpointSlices, Pods (which of them are
 * meshed, and as which ServiceAccount), Namespaces (their {@code weft.dev/inject} and
 * {@code weft.dev/mtls} labels), TrafficSplits and VirtualServices, and a debounced rebuild that hands each new immutable {@link MeshState} to the
 * publisher.
 *
 * <p>The publisher is called on the watcher's single thread, never concurrently, first once every
 * informer has synced (even if the state is empty), then only with a state that differs from the
 * one it got last. While it runs, changes queue up and coalesce into the next rebuild.
 */
public final class MeshStateWatcher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MeshStateWatcher.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  /**
   * What to watch and how long to coalesce: an empty {@code namespaces} set means every namespace;
   * a change with no other change in the {@code quietPeriod} before it is rebuilt at once; the
   * changes that follow it closer together form a burst, rebuilt once they pause for
   * {@code quietPeriod}, at most {@code maxDelay} after the burst's first change.
   */
  public record Options(Set<String> namespaces, Duration quietPeriod, Duration maxDelay) {

    public static final Duration DEFAULT_QUIET_PERIOD = Duration.ofMillis(20);
    public static final Duration DEFAULT_MAX_DELAY = Duration.ofMillis(100);

    public Options {
      namespaces = Set.copyOf(namespaces);
      Objects.requireNonNull(quietPeriod, "quietPeriod");
      Objects.requireNonNull(maxDelay, "maxDelay");
    }

    /** Every namespace, default timings. */
    public static Options defaults() {
      return new Options(Set.of(), DEFAULT_QUIET_PERIOD, DEFAULT_MAX_DELAY);
    }

    /** The same, but only these namespaces (none: every namespace). */
    public Options inNamespaces(Set<String> only) {
      return new Options(only, quietPeriod, maxDelay);
    }

    /** The same, with other debounce timings. */
    public Options debounce(Duration quiet, Duration max) {
      return new Options(namespaces, quiet, max);
    }
  }

  private final Options options;
  private final Consumer<MeshState> publisher;
  private final ScheduledThreadPoolExecutor scheduler;
  private final Debouncer debouncer;
  private final CompletableFuture<MeshState> firstPublished = new CompletableFuture<>();
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final List<SharedIndexInformer<Service>> services;
  private final List<SharedIndexInformer<EndpointSlice>> slices;
  private final List<SharedIndexInformer<Pod>> pods;
  private final List<SharedIndexInformer<Namespace>> namespaceObjects;
  private final List<SharedIndexInformer<TrafficSplit>> splits;
  private final List<SharedIndexInformer<VirtualService>> virtualServices;
  private volatile Thread schedulerThread;
  private boolean started;

  // Confined to the scheduler thread.
  private boolean synced;
  private int unpublishedEvents;
  private Set<String> reportedProblems = Set.of();

  private volatile MeshState published;
  private volatile long rebuilds;
  /** Converts only the informer objects replaced since the last rebuild; the rest keep their mesh records. */
  private final MeshStateBuilder builder = new MeshStateBuilder();

  /** A watcher that does nothing until {@link #start()}. */
  public MeshStateWatcher(KubernetesClient client, Options options, Consumer<MeshState> publisher) {
    Objects.requireNonNull(client, "client");
    this.options = Objects.requireNonNull(options, "options");
    this.publisher = Objects.requireNonNull(publisher, "publisher");
    this.scheduler = new ScheduledThreadPoolExecutor(1, runnable -> {
      Thread thread = new Thread(runnable, "weft-mesh-state");
      thread.setDaemon(true);
      schedulerThread = thread;
      return thread;
    });
    // The debouncer cancels a quiet timer per event; keep the queue from filling with dead ones.
    scheduler.setRemoveOnCancelPolicy(true);
    this.debouncer = new Debouncer(scheduler, options.quietPeriod(), options.maxDelay(), this::rebuild);
    this.services = inform(client.services());
    this.slices = inform(client.discovery().v1().endpointSlices());
    this.pods = inform(client.pods());
    // The mesh reads a few fields of each pod (MeshedPods.trimmed): cache those, not whole pods.
    pods.forEach(informer -> informer.itemStore(new TrimmedPods()));
    // Namespaces are cluster-scoped: all of them, or each watched one by name (which RBAC can grant by name).
    this.namespaceObjects = register(options.namespaces().isEmpty()
        ? List.<Informable<Namespace>>of(client.namespaces())
        : options.namespaces().stream().sorted().<Informable<Namespace>>map(n -> client.namespaces().withName(n))
            .toList());
    this.splits = inform(client.resources(TrafficSplit.class));
    this.virtualServices = inform(client.resources(VirtualService.class));
  }

  /**
   * Starts the informers. The future completes with the first published state, once every informer
   * has listed its objects, or fails if one cannot (for example when the CRDs are not installed or
   * RBAC forbids the list); then nothing is published and the caller should {@link #close()}.
   */
  public synchronized CompletableFuture<MeshState> start() {
    if (started) {
      throw new IllegalStateException("already started");
    }
    started = true;
    LOG.info("Watching Services, EndpointSlices, Pods, Namespaces, TrafficSplits and VirtualServices in {}",
        options.namespaces().isEmpty() ? "all namespaces" : "namespaces " + new TreeSet<>(options.namespaces()));
    List<CompletableFuture<Void>> syncs = informers.stream().map(MeshStateWatcher::started).toList();
    CompletableFuture.allOf(syncs.toArray(CompletableFuture[]::new)).whenComplete((ok, failure) -> {
      if (failure != null) {
        firstPublished.completeExceptionally(failure instanceof CompletionException ? failure.getCause() : failure);
      } else {
        scheduler.execute(this::onSynced);
      }
    });
    // A copy, so that a caller completing or cancelling it cannot fake the watcher's progress.
    return firstPublished.copy();
  }

  /** The state last handed to the publisher, or null before the first one. */
  public MeshState current() {
    return published;
  }

  /** How many times the state was rebuilt since start, published or not; for tests. */
  long rebuilds() {
    return rebuilds;
  }

  /**
   * Stops the informers and the rebuilds. Unless called from the publisher itself, it waits for a
   * running rebuild, so the publisher is not called after this returns.
   */
  @Override
  public synchronized void close() {
    debouncer.close();
    informers.forEach(SharedIndexInformer::close);
    scheduler.shutdownNow();
    firstPublished.cancel(false);
    if (Thread.currentThread() != schedulerThread) {
      try {
        if (!scheduler.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          LOG.warn("A mesh state rebuild was still running {} after close", CLOSE_TIMEOUT);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private <T extends HasMetadata> List<SharedIndexInformer<T>> inform(MixedOperation<T, ?, ?> operation) {
    List<Informable<T>> sources = options.namespaces().isEmpty()
        ? List.of(operation.inAnyNamespace())
        : options.namespaces().stream().sorted().<Informable<T>>map(operation::inNamespace).toList();
    return register(sources);
  }

  private <T extends HasMetadata> List<SharedIndexInformer<T>> register(List<Informable<T>> sources) {
    List<SharedIndexInformer<T>> created = new ArrayList<>();
    for (Informable<T> source : sources) {
      // Not started yet; no resync, which would only replay the cache that a rebuild reads anyway.
      SharedIndexInformer<T> informer = source.runnableInformer(0);
      informer.addEventHandler(new ChangeHandler<>());
      created.add(informer);
      informers.add(informer);
    }
    return created;
  }

  private static CompletableFuture<Void> started(SharedIndexInformer<?> informer) {
    return informer.start().toCompletableFuture().handle((ok, failure) -> {
      if (failure != null) {
        throw new IllegalStateException("Could not list " + informer.getApiTypeClass().getSimpleName()
            + " objects to start watching them; check that the weft.dev CRDs are installed and that the"
            + " xds-server's ServiceAccount may list and watch them", failure);
      }
      return null;
    });
  }

  private void onSynced() {
    synced = true;
    rebuild(0);
  }

  private void rebuild(int events) {
    unpublishedEvents += events;
    if (!synced) {
      // Objects listed before sync arrive as events; the first publish after sync covers them all.
      return;
    }
    long startedAt = System.nanoTime();
    List<String> problems = new ArrayList<>();
    MeshState state = builder.next(cached(services), cached(slices), cached(pods), cached(namespaceObjects),
        cached(splits), cached(virtualServices), problems::add);
    rebuilds++;
    reportNew(problems);
    long micros = (System.nanoTime() - startedAt) / 1000;
    if (state.equals(published)) {
      LOG.debug("Mesh state unchanged after {} event(s), not published (rebuilt in {} us)", unpublishedEvents, micros);
      unpublishedEvents = 0;
      return;
    }
    try {
      publisher.accept(state);
    } catch (RuntimeException e) {
      // Keep the old state as the published one, so the next change retries with a fresh state.
      LOG.error("Publisher failed on a mesh state with {} services; retrying on the next change",
          state.services().size(), e);
      return;
    }
    published = state;
    int endpoints = state.services().values().stream().mapToInt(s -> s.endpoints().size()).sum();
    LOG.info("Published mesh state: {} services, {} endpoints, {} splits, {} routings;"
        + " {} event(s) coalesced, built in {} us",
        state.services().size(), endpoints, state.splits().size(), state.routings().size(), unpublishedEvents, micros);
    if (LOG.isDebugEnabled()) {
      for (MeshService service : state.services().values()) {
        LOG.debug("  service {} ports {} endpoints {}", service.key(), service.ports(), service.endpoints().size());
      }
    }
    unpublishedEvents = 0;
    firstPublished.complete(state);
  }

  private void reportNew(List<String> problems) {
    // Each problem once while it lasts, not once per rebuild.
    Set<String> now = new HashSet<>(problems);
    for (String problem : problems) {
      if (!reportedProblems.contains(problem)) {
        LOG.warn(problem);
      }
    }
    reportedProblems = now;
  }

  private static <T> List<T> cached(List<SharedIndexInformer<T>> informers) {
    List<T> all = new ArrayList<>();
    informers.forEach(informer -> all.addAll(informer.getStore().list()));
    return all;
  }

  /**
   * Whether a Pod update leaves what the mesh reads of it alone: whether it is meshed and as whom
   * (its containers and ServiceAccount cannot change; its opt-out annotation and phase can). Pods
   * change status often; those updates need no rebuild.
   */
  private static boolean sameForTheMesh(Pod before, Pod after) {
    // The cached side is trimmed (TrimmedPods): compare what trimming keeps, on both sides.
    Pod was = MeshedPods.trimmed(before);
    Pod now = MeshedPods.trimmed(after);
    return Objects.equals(was.getMetadata().getAnnotations(), now.getMetadata().getAnnotations())
        && Objects.equals(phase(was), phase(now));
  }

  private static String phase(Pod pod) {
    return pod.getStatus() == null ? null : pod.getStatus().getPhase();
  }

  /** Signals the debouncer on every real change; replays of an unchanged object are ignored. */
  private final class ChangeHandler<T extends HasMetadata> implements ResourceEventHandler<T> {

    @Override
    public void onAdd(T obj) {
      changed("added", obj);
    }

    @Override
    public void onUpdate(T oldObj, T newObj) {
      // A relist after a dropped watch replays every object as an update with its old resourceVersion.
      if (!Objects.equals(oldObj.getMetadata().getResourceVersion(), newObj.getMetadata().getResourceVersion())
          && !(oldObj instanceof Pod oldPod && newObj instanceof Pod newPod && sameForTheMesh(oldPod, newPod))) {
        changed("updated", newObj);
      }
    }

    @Override
    public void onDelete(T obj, boolean deletedFinalStateUnknown) {
      changed("deleted", obj);
    }

    private void changed(String what, T obj) {
      if (LOG.isTraceEnabled()) {
        LOG.trace("{} {} {}/{}", what, obj.getKind(), obj.getMetadata().getNamespace(), obj.getMetadata().getName());
      }
      debouncer.signal();
    }
  }

  /** An informer's store that keeps only what the mesh reads of each pod. */
  private static final class TrimmedPods extends BasicItemStore<Pod> {
    TrimmedPods() {
      super(Cache::metaNamespaceKeyFunc);
    }

    @Override
    public Pod put(String key, Pod pod) {
      return super.put(key, MeshedPods.trimmed(pod));
    }
  }
}
