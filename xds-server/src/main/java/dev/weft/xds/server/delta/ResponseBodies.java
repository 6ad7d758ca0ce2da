package dev.weft.xds.server.delta;

import io.envoyproxy.controlplane.cache.SnapshotResources;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The encoded resources of a type's first response, by the identity of the snapshot resources and
 * the subscription it answers. Groups with equal configs share their resources, and the streams
 * of a group mostly subscribe alike (subscriptions are interned), so on a cold start the
 * 2,000 streams of 100 groups ask for a few dozen distinct bodies: each is built once (a lookup
 * and an encoding per resource) and every other stream's response is that body plus its own
 * nonce.
 *
 * <p>An entry holds references to encoded resources, not a copy of their bytes; the most recent
 * {@value #ENTRIES} are kept, and entries whose resources or subscription were collected go first.
 */
final class ResponseBodies {
  static final int ENTRIES = 256;

  private final Map<WeakPair, Body> bodies = new LinkedHashMap<>(ENTRIES * 2, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<WeakPair, Body> eldest) {
      return size() > ENTRIES;
    }
  };

  /** The body for {@code resources} under {@code subscription}, built by {@code build} at most once while it is kept. */
  EncodedResources of(SnapshotResources<?> resources, Subscription subscription, Supplier<EncodedResources> build) {
    WeakPair key = new WeakPair(resources, subscription);
    Body body;
    synchronized (bodies) {
      body = bodies.get(key);
      if (body == null) {
        expungeCleared();
        body = new Body();
        bodies.put(key, body);
      }
    }
    // Built outside the map's lock; streams asking for the same body meanwhile wait for this one.
    return body.get(build);
  }

  int size() {
    synchronized (bodies) {
      return bodies.size();
    }
  }

  private void expungeCleared() {
    for (Iterator<WeakPair> keys = bodies.keySet().iterator(); keys.hasNext(); ) {
      if (keys.next().cleared()) {
        keys.remove();
      }
    }
  }

  private static final class Body {
    private EncodedResources built;

    synchronized EncodedResources get(Supplier<EncodedResources> build) {
      if (built == null) {
        built = build.get();
      }
      return built;
    }
  }
}
