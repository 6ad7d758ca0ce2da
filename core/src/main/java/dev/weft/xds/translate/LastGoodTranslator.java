package dev.weft.xds.translate;

import dev.weft.mesh.HttpRouting;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import dev.weft.mesh.SourceRef;
import dev.weft.mesh.TrafficSplitRule;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * A translator that remembers the last accepted version of each TrafficSplit and
 * VirtualService, so that a change it rejects (a backend Service that does not exist, a bad regex)
 * leaves the previous version serving: a canary at 50/50 stays at 50/50 while a typo is fixed,
 * instead of falling back to no split at all. The rejections still name the current version.
 * A deleted resource is forgotten, so deleting never brings an old version back.
 */
public final class LastGoodTranslator implements Translator {

  private final Translator translator;
  private final Map<Name, TrafficSplitRule> splits = new HashMap<>();
  private final Map<Name, HttpRouting> routings = new HashMap<>();

  private final TrafficPlans plans;

  public LastGoodTranslator(Translator translator) {
    this(translator, new TrafficPlans());
  }

  /** The same, planning each state with {@code plans}, shared with the {@link MeshTranslator} behind it. */
  public LastGoodTranslator(Translator translator, TrafficPlans plans) {
    this.translator = translator;
    this.plans = Objects.requireNonNull(plans, "plans");
  }

  /** A user resource by kind, namespace and name: what stays the same across its generations. */
  private record Name(String kind, String namespace, String name) {

    static Name of(SourceRef source) {
      return new Name(source.kind(), source.namespace(), source.name());
    }
  }

  /**
   * Translates {@code state}, with each rejected resource replaced by its last accepted version
   * when it has one; remembers what was accepted this time. Which resources are rejected comes
   * from the traffic plan, which builds no Envoy resources, so the state is translated once, the
   * state actually served.
   */
  @Override
  public synchronized Translation translate(MeshState state, Collection<ProxyGroup> groups) {
    // A join translates the last publish's state instance again: the same substitution applies,
    // and handing the inner translator the same served instance lets it reuse what it built.
    if (last == null || last.input != state) {
      last = substitute(state);
    }
    if (last.substituted.isEmpty()) {
      return translator.translate(state, groups);
    }
    Translation served = translator.translate(last.served, groups);
    // Rejections name what the user wrote: the current generation of a substituted resource, and
    // everything else as the served translation found it. A last good version that no longer
    // translates (its Service is gone) is left out by the served translation too; it stays
    // remembered, as it may translate again once the Service is back.
    List<Rejection> rejections = new ArrayList<>();
    served.rejections().stream().filter(r -> !last.substituted.contains(Name.of(r.source())))
        .forEach(rejections::add);
    last.planned.stream().filter(r -> last.substituted.contains(Name.of(r.source()))).forEach(rejections::add);
    return new Translation(served.configs(), rejections.stream().distinct().sorted().toList(), served.sources());
  }

  /** What to serve for one input state: itself, or a copy with rejected resources swapped for their last good versions. */
  private record Substitution(MeshState input, MeshState served, List<Rejection> planned, Set<Name> substituted) {}

  private Substitution last;

  private Substitution substitute(MeshState state) {
    // Only the plan rejects TrafficSplits and VirtualServices; the listener and group rejections
    // name Services and proxy groups, which no substitution changes.
    List<Rejection> planned = plans.of(state).rejections();
    Set<Name> rejected = new HashSet<>();
    planned.forEach(r -> rejected.add(Name.of(r.source())));

    forgetDeleted(splits, state.splits(), TrafficSplitRule::source);
    forgetDeleted(routings, state.routings(), HttpRouting::source);
    List<TrafficSplitRule> servedSplits = remember(splits, state.splits(), TrafficSplitRule::source, rejected);
    List<HttpRouting> servedRoutings = remember(routings, state.routings(), HttpRouting::source, rejected);
    if (servedSplits.equals(state.splits()) && servedRoutings.equals(state.routings())) {
      return new Substitution(state, state, planned, Set.of());
    }
    Set<Name> substituted = new HashSet<>();
    collectSubstituted(state.splits(), servedSplits, TrafficSplitRule::source, substituted);
    collectSubstituted(state.routings(), servedRoutings, HttpRouting::source, substituted);
    return new Substitution(state, state.withRules(servedSplits, servedRoutings), planned, substituted);
  }

  private static <T> void collectSubstituted(List<T> current, List<T> served, Function<T, SourceRef> source,
      Set<Name> substituted) {
    for (int i = 0; i < current.size(); i++) {
      if (current.get(i) != served.get(i)) {
        substituted.add(Name.of(source.apply(current.get(i))));
      }
    }
  }

  /** Remembers the accepted resources; returns the list with rejected ones swapped for their last good version. */
  private static <T> List<T> remember(Map<Name, T> lastGood, List<T> current, Function<T, SourceRef> source,
      Set<Name> rejected) {
    return current.stream().map(resource -> {
      Name name = Name.of(source.apply(resource));
      if (!rejected.contains(name)) {
        lastGood.put(name, resource);
        return resource;
      }
      return lastGood.getOrDefault(name, resource);
    }).toList();
  }

  private static <T> void forgetDeleted(Map<Name, T> lastGood, List<T> current, Function<T, SourceRef> source) {
    Set<Name> present = new HashSet<>();
    current.forEach(resource -> present.add(Name.of(source.apply(resource))));
    lastGood.keySet().retainAll(present);
  }
}
