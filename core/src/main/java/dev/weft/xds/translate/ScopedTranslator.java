package dev.weft.xds.translate;

import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.SameObjects;
import dev.weft.mesh.ServiceKey;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Outbound scoping: the groups of a namespace annotated {@code weft.dev/outbound-namespaces} get the
 * mesh as far as their namespace reaches ({@link MeshState#outboundScope}): the Services of those
 * namespaces, and the TrafficSplits and VirtualServices there (which name Services of their own
 * namespace only). Each distinct scope is translated as a mesh of its own, by a translator of its
 * own, so that what it caches stays per scope; groups whose namespace reaches everything go to the
 * translator of the whole mesh, as without scoping.
 *
 * <p>Why: every sidecar of a 1,000-Service mesh is otherwise sent every Service's cluster, endpoint
 * assignment, route configuration and filter chain (about 2.8 MB each), and every weight edit goes
 * to every sidecar. A namespace that calls three others gets a fraction of that, and only edits
 * there. A Service outside the scope is not routed by the sidecar: calls to it go out as the
 * passthrough does, without mTLS, which a strict destination refuses.
 *
 * <p>A scope's narrowed state is reused, the very instance, while its Services, splits and routings
 * are the very objects (an edit elsewhere), so the translator behind it finds nothing changed.
 * The scopes (and the whole mesh) are translated on the executor given, side by side: they share
 * nothing but immutable input, and at a cold start, with the JIT not yet warm, twenty scopes
 * translated one after another took seconds on one core while the other idled.
 */
public final class ScopedTranslator implements Translator {

  private final Translator whole;
  private final Supplier<Translator> perScope;
  private final TrafficPlans plans;
  private final Executor executor;

  /** The translator of each scope in use, and the narrowed state it was last handed. */
  private final Map<Set<String>, Scope> scopes = new HashMap<>();
  private MeshState lastState;

  /**
   * Translates unscoped groups with {@code whole}, and each scope with a translator from
   * {@code perScope}; {@code plans} plans the whole state (the rejections of resources no group
   * reaches are still reported) and is the one {@code whole} uses, so a state is planned once.
   */
  public ScopedTranslator(Translator whole, Supplier<Translator> perScope, TrafficPlans plans) {
    this(whole, perScope, plans, Runnable::run);
  }

  /** The same, translating the scopes side by side on {@code executor}. */
  public ScopedTranslator(Translator whole, Supplier<Translator> perScope, TrafficPlans plans, Executor executor) {
    this.whole = Objects.requireNonNull(whole, "whole");
    this.perScope = Objects.requireNonNull(perScope, "perScope");
    this.plans = Objects.requireNonNull(plans, "plans");
    this.executor = Objects.requireNonNull(executor, "executor");
  }

  private record Scope(Translator translator, MeshState input, MeshState narrowed) {}

  @Override
  public synchronized Translation translate(MeshState state, Collection<ProxyGroup> groups) {
    List<ProxyGroup> unscoped = new ArrayList<>();
    Map<Set<String>, List<ProxyGroup>> scoped = new LinkedHashMap<>();
    for (ProxyGroup group : groups) {
      state.outboundScope(group.namespace()).ifPresentOrElse(
          scope -> scoped.computeIfAbsent(scope, s -> new ArrayList<>()).add(group),
          () -> unscoped.add(group));
    }
    boolean newState = state != lastState;
    lastState = state;
    if (newState) {
      // A publish asks for every group: a scope no group uses any more is forgotten. A join asks
      // for its groups only, with the state of the last publish, and forgets nothing.
      scopes.keySet().retainAll(scoped.keySet());
    }
    if (scoped.isEmpty()) {
      return whole.translate(state, groups);
    }
    List<Supplier<Translation>> parts = new ArrayList<>();
    if (!unscoped.isEmpty()) {
      parts.add(() -> whole.translate(state, unscoped));
    }
    scoped.forEach((scope, itsGroups) -> {
      Scope known = scopes.get(scope);
      MeshState narrowed;
      if (known != null && known.input == state) {
        narrowed = known.narrowed;
      } else {
        narrowed = narrowed(state, scope, known == null ? null : known.narrowed);
      }
      Translator translator = known == null ? perScope.get() : known.translator;
      scopes.put(scope, new Scope(translator, state, narrowed));
      parts.add(() -> translator.translate(narrowed, itsGroups));
    });
    List<Rejection> planned = plans.of(state).rejections();
    return merged(sideBySide(parts), planned);
  }

  /** Each part's translation, in order; the parts run on the executor, the last one on this thread. */
  private List<Translation> sideBySide(List<Supplier<Translation>> parts) {
    List<CompletableFuture<Translation>> running = new ArrayList<>();
    for (int i = 0; i < parts.size() - 1; i++) {
      running.add(CompletableFuture.supplyAsync(parts.get(i), executor));
    }
    Translation last = parts.get(parts.size() - 1).get();
    List<Translation> done = new ArrayList<>();
    for (CompletableFuture<Translation> part : running) {
      try {
        done.add(part.join());
      } catch (CompletionException e) {
        throw e.getCause() instanceof RuntimeException cause ? cause : e;
      }
    }
    done.add(last);
    return done;
  }

  /**
   * The part of {@code state} that {@code scope} reaches; {@code previous} itself when that holds the
   * very same Services, splits and routings (nothing in the scope changed).
   */
  static MeshState narrowed(MeshState state, Set<String> scope, MeshState previous) {
    Map<ServiceKey, MeshService> services = new TreeMap<>();
    state.services().forEach((key, service) -> {
      if (scope.contains(key.namespace())) {
        services.put(key, service);
      }
    });
    List<TrafficSplitRule> splits = state.splits().stream().filter(s -> scope.contains(s.root().namespace())).toList();
    List<HttpRouting> routings = state.routings().stream()
        .filter(r -> scope.contains(r.service().namespace())).toList();
    Set<ServiceKey> aliases = new TreeSet<>();
    state.aliases().stream().filter(a -> scope.contains(a.namespace())).forEach(aliases::add);
    Set<String> permissive = new TreeSet<>();
    state.permissiveNamespaces().stream().filter(scope::contains).forEach(permissive::add);
    if (previous != null && SameObjects.inOrder(previous.services().values(), services.values())
        && SameObjects.inOrder(previous.splits(), splits) && SameObjects.inOrder(previous.routings(), routings)
        && previous.aliases().equals(aliases) && previous.permissiveNamespaces().equals(permissive)) {
      return previous;
    }
    return new MeshState(services, splits, routings, aliases, permissive);
  }

  /** The parts' configs and provenance in group order, and their rejections with the whole plan's, once each. */
  private static Translation merged(List<Translation> parts, List<Rejection> planned) {
    Map<ProxyGroup, ProxyConfig> configs = new TreeMap<>();
    Map<ProxyGroup, Map<String, Set<SourceRef>>> sources = new HashMap<>();
    List<Rejection> rejections = new ArrayList<>(planned);
    for (Translation part : parts) {
      configs.putAll(part.configs());
      sources.putAll(part.sources());
      rejections.addAll(part.rejections());
    }
    Map<ProxyGroup, Map<String, Set<SourceRef>>> ordered = new LinkedHashMap<>();
    configs.keySet().forEach(group -> {
      Map<String, Set<SourceRef>> its = sources.get(group);
      if (its != null) {
        ordered.put(group, its);
      }
    });
    return new Translation(configs, rejections.stream().distinct().sorted().toList(), ordered);
  }
}
