package dev.weft.xds.translate;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiPredicate;
import java.util.function.Supplier;

/**
 * What the last translation built, offered to the next one, so that a change re-translates only
 * the Service ports it touches and every other port keeps the very message objects it had.
 *
 * <p>Each mesh state's translation is one generation. An entry is found by a key: either a record
 * holding every input its message is built from ({@link #computeIfAbsent}: the builder runs only
 * when no translation of the last two built that key), or a name under which a freshly built
 * message is swapped for the last generation's equal one ({@link #same}), for messages that are
 * cheap to build but whose identity matters downstream (composites of reused parts compare fast:
 * protobuf's {@code equals} stops at identical parts). Identity is what the rest of the pipeline
 * memoizes by: {@link ContentVersion}'s digests, the xds-server's consistency facts and checked
 * pairs, its per-list snapshot resources and the delta layer's serialized resources, so an edit of
 * one TrafficSplit costs the digests and checks of that Service's resources, not the mesh's.
 *
 * <p>Entries not used by a generation are dropped at the start of the one after, so the cache
 * holds at most the messages of two translations, and mostly the same ones. Keys must be complete:
 * a key that leaves out an input its message depends on would serve a stale message (the property
 * test {@code IncrementalTranslatorTest} compares against a fresh translation after random edits).
 */
final class TranslationCache {

  /** A key for messages reused by equality: what they are ({@code role}) and which one ({@code name}). */
  record Named(String role, Object name) {}

  /**
   * A key for what was built from one input object, found by that object's identity (a Service
   * the state builder kept is the very instance; its deep {@code equals} and {@code hashCode} walk
   * its endpoints), for {@code role} and {@code detail}.
   */
  record Identity(String role, Object object, Object detail) {

    @Override
    public boolean equals(Object other) {
      return other instanceof Identity that && that.object == object && that.role.equals(role)
          && Objects.equals(that.detail, detail);
    }

    @Override
    public int hashCode() {
      return (System.identityHashCode(object) * 31 + role.hashCode()) * 31 + Objects.hashCode(detail);
    }
  }

  /** A value and the last generation that used it. */
  private static final class Entry {
    Object value;
    long used;

    Entry(Object value, long used) {
      this.value = value;
      this.used = used;
    }
  }

  /**
   * One map for both generations, each entry stamped with the last generation that used it: a
   * lookup hashes its key once, and a new generation re-inserts nothing (with a map per
   * generation, every key was hashed three times and every kept entry copied into a growing map,
   * the largest share of an edit's translation at 1,000 Services).
   */
  private final Map<Object, Entry> entries = new HashMap<>();
  private long generation;

  /** Starts the next translation: the last one's entries are offered to it, older ones dropped. */
  synchronized void nextGeneration() {
    long last = generation++;
    entries.values().removeIf(entry -> entry.used < last);
  }

  /** The message built for {@code key} by this translation or the last one, else {@code build}'s. */
  @SuppressWarnings("unchecked")
  synchronized <V> V computeIfAbsent(Object key, Supplier<V> build) {
    V value = (V) lookup(key);
    if (value == null) {
      // Not Map.computeIfAbsent: a builder may ask for the parts it is made of.
      value = Objects.requireNonNull(build.get(), "built");
      put(key, value);
    }
    return value;
  }

  /** The last generation's value under {@code key} if it equals {@code fresh}, else {@code fresh}. */
  <V> V same(Object key, V fresh) {
    return reuse(key, fresh, Objects::equals);
  }

  /** The last generation's value under {@code key} if {@code equal} says it can stand for {@code fresh}, else {@code fresh}. */
  @SuppressWarnings("unchecked")
  synchronized <V> V reuse(Object key, V fresh, BiPredicate<V, V> equal) {
    V known = (V) lookup(key);
    if (known != null && equal.test(known, fresh)) {
      return known;
    }
    put(key, fresh);
    return fresh;
  }

  /** The value under {@code key} in this generation, or else the last one (carried over), or null. */
  @SuppressWarnings("unchecked")
  synchronized <V> V get(Object key) {
    return (V) lookup(key);
  }

  synchronized void put(Object key, Object value) {
    Entry entry = entries.get(key);
    if (entry == null) {
      entries.put(key, new Entry(value, generation));
    } else {
      entry.value = value;
      entry.used = generation;
    }
  }

  private Object lookup(Object key) {
    Entry entry = entries.get(key);
    if (entry == null) {
      return null;
    }
    entry.used = generation;
    return entry.value;
  }
}
