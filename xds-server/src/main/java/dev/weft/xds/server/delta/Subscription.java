package dev.weft.xds.server.delta;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What one delta stream subscribed to for one resource type: every resource (wildcard), a set of
 * names, or both (a wildcard stream may also name resources, which matters once it drops the
 * wildcard). Immutable and interned: the 2,000 sidecars of a mesh subscribe a handful of distinct
 * name sets between them (a capture-mode sidecar names ~6,000 EDS and RDS resources at 1,000
 * Services), so each distinct set is held once, not once per stream.
 */
public final class Subscription {

  /** The name a client subscribes to, or unsubscribes from, to mean every resource of the type. */
  public static final String WILDCARD_NAME = "*";

  private static final Interner<Subscription> INTERNED = Interners.newWeakInterner();

  /** Subscribed to nothing. */
  public static final Subscription NONE = INTERNED.intern(new Subscription(false, Set.of(), null));

  private final boolean wildcard;
  private final Set<String> names;
  private final int hash;
  /**
   * The names, in the order a first request listed them, when a first request made this
   * instance; the same String objects as {@link #names}. See {@link #requestedFirstAs}.
   */
  private final List<String> requested;

  private Subscription(boolean wildcard, Set<String> names, List<String> requested) {
    this.wildcard = wildcard;
    this.names = names;
    this.hash = 31 * Boolean.hashCode(wildcard) + names.hashCode();
    this.requested = requested;
  }

  /**
   * The subscription a stream's first request for a type asks for: with no names, every resource
   * (the protocol's legacy wildcard, which Envoy uses for clusters and listeners).
   */
  public static Subscription first(List<String> subscribe) {
    if (subscribe.isEmpty()) {
      return of(true, Set.of(), null);
    }
    if (subscribe.contains(WILDCARD_NAME)) {
      return NONE.change(subscribe, List.of());
    }
    Set<String> names = Set.copyOf(subscribe);
    // Without repeated names the set holds the very String objects of the list, so remembering
    // the order costs only references.
    List<String> requested = names.size() == subscribe.size() ? List.copyOf(subscribe) : null;
    return INTERNED.intern(new Subscription(false, names, requested));
  }

  /**
   * Whether a first request listing exactly {@code subscribe}, in this order, makes this
   * subscription: an {@code equals} per name, no set built or hashed. False when unsure.
   */
  public boolean requestedFirstAs(List<String> subscribe) {
    return requested != null && requested.equals(subscribe);
  }

  /** This subscription after a request that subscribes and unsubscribes these names. */
  public Subscription change(List<String> subscribe, List<String> unsubscribe) {
    if (subscribe.isEmpty() && unsubscribe.isEmpty()) {
      return this;
    }
    boolean all = wildcard;
    Set<String> next = new HashSet<>(names);
    for (String name : unsubscribe) {
      if (WILDCARD_NAME.equals(name)) {
        all = false;
      } else {
        next.remove(name);
      }
    }
    for (String name : subscribe) {
      if (WILDCARD_NAME.equals(name)) {
        all = true;
      } else {
        next.add(name);
      }
    }
    return of(all, next, null);
  }

  private static Subscription of(boolean wildcard, Set<String> names, List<String> requested) {
    return INTERNED.intern(new Subscription(wildcard, Set.copyOf(names), requested));
  }

  public boolean wildcard() {
    return wildcard;
  }

  /** Whether a resource named {@code name} is in this subscription. */
  public boolean includes(String name) {
    return wildcard || names.contains(name);
  }

  /** Whether this subscription takes in a resource {@code before} did not. */
  public boolean widens(Subscription before) {
    return (wildcard && !before.wildcard) || (!before.wildcard && !before.names.containsAll(names));
  }

  /** The explicitly named resources (without the wildcard). */
  public Set<String> names() {
    return names;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Subscription that && hash == that.hash && wildcard == that.wildcard
        && names.equals(that.names);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return (wildcard ? "* + " : "") + names.size() + " names";
  }
}
