package dev.weft.xds.server.delta;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.controlplane.server.serializer.ProtoResourcesSerializer;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Weft's incremental (delta) ADS: every delta stream of this replica, by proxy group, and the
 * snapshot each group is served. {@link #setSnapshot} moves each stream of the group to the new
 * snapshot, sending it only the resources it subscribed to that changed.
 *
 * <p>Why not java-control-plane's delta path: it keeps, per stream and type, a map of every
 * resource name it sent to the version sent (plus a copy per watch), and on every snapshot it
 * compares each open watch's names one by one with the snapshot. A capture-mode sidecar subscribes
 * ~6,000 resources at 1,000 Services, so 2,000 sidecars held ~750 MiB of such maps and a weight
 * edit did 2,000 × 6,000 lookups. Here a stream's state per type is two references: its
 * {@link Subscription} (interned, shared by the streams that subscribe alike) and the snapshot
 * resources it was last brought to (shared by its group); what changed between two snapshots is
 * computed once ({@link ResourceDiff.Cache}) and filtered per stream.
 *
 * <p>Every request and response still goes through the server's {@link DiscoveryServerCallbacks}
 * (the connected-proxies registry: identity, ACK and NACK tracking), exactly as on the state of
 * the world path, so status, sync reports and debug pages see no difference.
 */
public final class DeltaStreams {

  private static final Logger LOG = LoggerFactory.getLogger(DeltaStreams.class);

  /**
   * Delta stream ids start here, clear of the ids java-control-plane gives state-of-the-world
   * streams from zero: the registry keys both kinds by id.
   */
  static final long FIRST_STREAM_ID = 1L << 40;

  /** The type URL stream callbacks are given for an aggregated stream (java-control-plane's, too). */
  static final String ADS_TYPE_URL = "";

  /** The order resources are pushed in when several types change: what references comes after what it references. */
  static final List<String> PUSH_ORDER = List.of(Resources.V3.CLUSTER_TYPE_URL, Resources.V3.ENDPOINT_TYPE_URL,
      Resources.V3.LISTENER_TYPE_URL, Resources.V3.ROUTE_TYPE_URL, Resources.V3.SECRET_TYPE_URL);

  private static final Map<String, Function<Snapshot, SnapshotResources<?>>> BY_TYPE = Map.of(
      Resources.V3.CLUSTER_TYPE_URL, Snapshot::clusters,
      Resources.V3.ENDPOINT_TYPE_URL, Snapshot::endpoints,
      Resources.V3.LISTENER_TYPE_URL, Snapshot::listeners,
      Resources.V3.ROUTE_TYPE_URL, Snapshot::routes,
      Resources.V3.SECRET_TYPE_URL, Snapshot::secrets);

  final DiscoveryServerCallbacks callbacks;
  final ProtoResourcesSerializer serializer;
  final ResourceDiff.Cache diffs = new ResourceDiff.Cache();
  final SendBudget budget;
  /**
   * Each resource as sent (name, version, packed body), encoded, by the identity of its message,
   * held weakly: a resource goes to every stream that subscribes it, and groups share their
   * messages, so it is wrapped, serialized and encoded once while it lives, not once per stream.
   */
  private final Cache<Message, EncodedResource> wrapped = CacheBuilder.newBuilder().weakKeys().build();
  /** The bodies of first responses, shared by the streams that subscribe alike to the same resources. */
  final ResponseBodies bodies = new ResponseBodies();
  private final Function<DeltaDiscoveryRequest, String> groupOf;
  private final AtomicLong ids = new AtomicLong(FIRST_STREAM_ID);
  private final Map<String, Snapshot> snapshots = new ConcurrentHashMap<>();
  private final Map<String, Set<DeltaStream>> streams = new ConcurrentHashMap<>();
  /** Per group and type, the subscription the group's last first request made (see {@link #firstSubscription}). */
  private final Map<String, Map<String, Subscription>> firstRequests = new ConcurrentHashMap<>();
  /** The clock stalls are measured with ({@link System#nanoTime()}; tests step their own). */
  final LongSupplier nanos;

  /**
   * @param groupOf the group id of a stream's first request, which {@code callbacks} has accepted;
   *     throws {@link IllegalArgumentException} for a node that has no group
   * @param budget bounds the bytes written to all streams and not read yet
   */
  public DeltaStreams(DiscoveryServerCallbacks callbacks, ProtoResourcesSerializer serializer,
      Function<DeltaDiscoveryRequest, String> groupOf, SendBudget budget) {
    this(callbacks, serializer, groupOf, budget, System::nanoTime);
  }

  DeltaStreams(DiscoveryServerCallbacks callbacks, ProtoResourcesSerializer serializer,
      Function<DeltaDiscoveryRequest, String> groupOf, SendBudget budget, LongSupplier nanos) {
    this.nanos = Objects.requireNonNull(nanos, "nanos");
    this.callbacks = Objects.requireNonNull(callbacks, "callbacks");
    this.serializer = Objects.requireNonNull(serializer, "serializer");
    this.groupOf = Objects.requireNonNull(groupOf, "groupOf");
    this.budget = Objects.requireNonNull(budget, "budget");
  }

  /** A new stream answering on {@code out}; returns where its requests go. */
  public StreamObserver<DeltaDiscoveryRequest> open(Outbound out) {
    long id = ids.getAndIncrement();
    try {
      callbacks.onStreamOpen(id, ADS_TYPE_URL);
    } catch (RequestException e) {
      out.fail(e);
      return new StreamObserver<>() {
        @Override
        public void onNext(DeltaDiscoveryRequest value) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };
    }
    return new DeltaStream(this, id, out);
  }

  /** Serves {@code snapshot} to group {@code groupId}: each of its streams gets what changed for it. */
  public void setSnapshot(String groupId, Snapshot snapshot) {
    snapshots.put(groupId, Objects.requireNonNull(snapshot, "snapshot"));
    Set<DeltaStream> members = streams.get(groupId);
    if (members != null) {
      for (DeltaStream stream : members) {
        stream.push(snapshot);
      }
    }
  }

  /**
   * Closes the streams whose clients have not read what they were sent for {@code timeout}
   * (see {@link DeltaStream#closeIfStalled}); returns how many. The server calls it periodically.
   */
  public int closeStalled(Duration timeout) {
    long now = nanos.getAsLong();
    int closed = 0;
    for (Set<DeltaStream> members : streams.values()) {
      for (DeltaStream stream : members) {
        if (stream.closeIfStalled(now, timeout.toNanos())) {
          LOG.warn("closed delta stream {} of group {}: its proxy did not read its xDS responses for {} s, and "
              + "held part of the server's send budget meanwhile; it reconnects and starts over", stream.id(),
              stream.groupId(), timeout.toSeconds());
          closed++;
        }
      }
    }
    return closed;
  }

  /** Forgets the group's snapshot unless a stream still uses it; true when forgotten. */
  public boolean clearSnapshot(String groupId) {
    if (streams.containsKey(groupId)) {
      return false;
    }
    snapshots.remove(groupId);
    return true;
  }

  /** The bound on bytes written and not yet read, shared by every delta stream. */
  public SendBudget budget() {
    return budget;
  }

  /** How many delta streams this replica serves group {@code groupId}. */
  public int streamsOf(String groupId) {
    Set<DeltaStream> members = streams.get(groupId);
    return members == null ? 0 : members.size();
  }

  /** {@code resource}, named {@code name}, as a delta response carries it. */
  EncodedResource wrap(String name, VersionedResource<?> resource) {
    Message message = resource.resource();
    EncodedResource known = wrapped.getIfPresent(message);
    if (known != null && known.version().equals(resource.version()) && known.name().equals(name)) {
      return known;
    }
    EncodedResource fresh = EncodedResource.of(Resource.newBuilder()
        .setName(name)
        .setVersion(resource.version())
        .setResource(serializer.serialize(message, Resources.ApiVersion.V3))
        .build());
    wrapped.put(message, fresh);
    return fresh;
  }

  /**
   * The subscription of a stream's first request for a type in group {@code groupId}. The streams
   * of a group ask alike, in the same order (they were sent the same clusters and listeners): a
   * capture-mode sidecar's first EDS and RDS requests name ~2,000 resources each at 1,000
   * Services, and building and interning a set of them for each of 2,000 streams (hashing every
   * name, probing the interned set) was a sixth of the server's cold-sync time. So the names are
   * first compared, in order, with those of the group's last first request of the type, which costs one
   * {@code equals} per name and no allocation; only a different list builds a subscription.
   */
  Subscription firstSubscription(String groupId, String typeUrl, List<String> names) {
    if (names.isEmpty()) {
      return Subscription.first(names);
    }
    Map<String, Subscription> byType = firstRequests.computeIfAbsent(groupId, id -> new ConcurrentHashMap<>());
    Subscription last = byType.get(typeUrl);
    if (last != null && last.requestedFirstAs(names)) {
      return last;
    }
    Subscription subscription = Subscription.first(names);
    byType.put(typeUrl, subscription);
    return subscription;
  }

  /** The group of a stream's first request. */
  String groupOf(DeltaDiscoveryRequest request) {
    return groupOf.apply(request);
  }

  /** Adds a stream to its group; returns the group's snapshot, or null when it has none yet. */
  Snapshot join(String groupId, DeltaStream stream) {
    // Added before the snapshot is read: a snapshot set meanwhile is either read here or pushed.
    streams.compute(groupId, (id, members) -> {
      Set<DeltaStream> set = members == null ? ConcurrentHashMap.newKeySet() : members;
      set.add(stream);
      return set;
    });
    return snapshots.get(groupId);
  }

  void leave(String groupId, DeltaStream stream) {
    streams.computeIfPresent(groupId, (id, members) -> {
      members.remove(stream);
      if (members.isEmpty()) {
        // Inside the compute: a stream joining meanwhile waits, so it cannot lose what it just stored.
        firstRequests.remove(groupId);
        return null;
      }
      return members;
    });
  }

  /** The resources of {@code typeUrl} in {@code snapshot}; null for a type Weft does not serve. */
  static SnapshotResources<?> resourcesOf(Snapshot snapshot, String typeUrl) {
    Function<Snapshot, SnapshotResources<?>> accessor = BY_TYPE.get(typeUrl);
    return accessor == null ? null : accessor.apply(snapshot);
  }
}
