package dev.weft.xds.server.delta;

import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One delta ADS stream: per resource type, what the client subscribed to and which snapshot's
 * resources, under which subscription, its view was last brought to. Requests (on the stream's
 * gRPC thread), pushes (on the publishing thread) and the call becoming ready take the stream's
 * monitor and then {@linkplain #catchUp() catch up}: bring each type, in push order, from where
 * the client's view is to the group's snapshot, one response at a time, while the call is ready
 * and the server's {@link SendBudget} has room. Nothing is tracked per resource name: a stream
 * that falls behind simply catches up later, in one step, from the diff of where it is to where
 * the group is.
 *
 * <p>A rejected response (NACK) therefore parks the rejected resources until they change again,
 * which is what Envoy wants (resending them would be rejected again). Every subscribed type gets a
 * response when its version changes, even when none of the changed resources is subscribed: the
 * response carries the type's new version, which is how the registry knows the client is current.
 */
final class DeltaStream implements StreamObserver<DeltaDiscoveryRequest>, SendBudget.Waiter {

  /** What java-control-plane's response callback is given as the request: ours never reads it. */
  private static final DeltaDiscoveryRequest NO_REQUEST = DeltaDiscoveryRequest.getDefaultInstance();

  private final DeltaStreams streams;
  private final long id;
  private final Outbound out;

  // All guarded by this.
  private String groupId;
  /** The group's newest snapshot, where every type is headed; null until the group has one. */
  private Snapshot snapshot;
  private final Map<String, TypeState> types = new HashMap<>();
  /** Budget held for bytes written while the call was not ready. */
  private long held;
  /** When the stream began to hold budget ({@link System#nanoTime()} scale); meaningful while {@code held > 0}. */
  private long heldSince;
  /** Budget to give back once the monitor is released (giving back resumes other streams). */
  private long releasable;
  private long nonces;
  private boolean closed;

  DeltaStream(DeltaStreams streams, long id, Outbound out) {
    this.streams = streams;
    this.id = id;
    this.out = out;
    out.onReady(this::ready);
  }

  @Override
  public void onNext(DeltaDiscoveryRequest request) {
    RequestException refused = null;
    synchronized (this) {
      if (closed) {
        return;
      }
      try {
        streams.callbacks.onV3StreamDeltaRequest(id, request);
        if (groupId == null) {
          groupId = streams.groupOf(request);
          snapshot = streams.join(groupId, this);
        }
      } catch (RequestException e) {
        refused = e;
      } catch (IllegalArgumentException e) {
        refused = new RequestException(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
      }
      if (refused == null) {
        subscribe(request);
      }
    }
    if (refused == null) {
      catchUp();
    } else if (close()) {
      out.fail(refused);
      streams.callbacks.onStreamCloseWithError(id, DeltaStreams.ADS_TYPE_URL, refused);
    }
  }

  /** Takes in the request's subscription changes (or its first subscription of a type). */
  private void subscribe(DeltaDiscoveryRequest request) {
    TypeState type = types.get(request.getTypeUrl());
    if (type == null) {
      type = new TypeState(streams.firstSubscription(groupId, request.getTypeUrl(),
          request.getResourceNamesSubscribeList()));
      if (request.getInitialResourceVersionsCount() > 0) {
        type.initialVersions = new HashMap<>(request.getInitialResourceVersionsMap());
      }
      types.put(request.getTypeUrl(), type);
    } else {
      type.subscription = type.subscription.change(request.getResourceNamesSubscribeList(),
          request.getResourceNamesUnsubscribeList());
    }
  }

  /** The group has a new snapshot. */
  void push(Snapshot next) {
    synchronized (this) {
      if (closed || next == snapshot) {
        return;
      }
      snapshot = next;
    }
    catchUp();
  }

  /** The call drained what was written: the budget it held is free, and the stream may go on. */
  private void ready() {
    synchronized (this) {
      releasable += held;
      held = 0;
    }
    catchUp();
  }

  @Override
  public boolean resume() {
    return catchUp();
  }

  /** Sends what the client lacks while it can; false when it queued for budget. */
  private boolean catchUp() {
    boolean sending;
    long release;
    synchronized (this) {
      sending = closed || catchUpHoldingMonitor();
      release = releasable;
      releasable = 0;
    }
    if (release > 0) {
      streams.budget.release(release);
    }
    return sending;
  }

  private boolean catchUpHoldingMonitor() {
    if (snapshot == null) {
      return true; // answered when the group's first snapshot is set
    }
    while (true) {
      if (!out.isReady()) {
        // ready() goes on, from where the group is by then: changes meanwhile coalesce into one response
        return true;
      }
      if (!streams.budget.admit(this)) {
        return false; // resume() goes on
      }
      DeltaResponse response = nextResponse();
      if (response == null) {
        return true;
      }
      long size = response.size();
      streams.budget.spend(size);
      // Recorded before it can be acknowledged; the ACK takes this stream's monitor, held here.
      streams.callbacks.onV3StreamDeltaResponse(id, NO_REQUEST, response.header());
      out.send(response);
      if (out.isReady()) {
        releasable += size; // written through: the client is reading
      } else {
        if (held == 0) {
          heldSince = streams.nanos.getAsLong();
        }
        held += size;
      }
    }
  }

  /** The next type's response in push order, advancing the client's view; null when it is current. */
  private DeltaResponse nextResponse() {
    for (String typeUrl : DeltaStreams.PUSH_ORDER) {
      TypeState type = types.get(typeUrl);
      SnapshotResources<?> target = type == null ? null : DeltaStreams.resourcesOf(snapshot, typeUrl);
      if (target == null || (type.known == target && type.sent == type.subscription)) {
        continue;
      }
      DeltaResponse response = type.known == null
          ? everything(typeUrl, type, target)
          : changes(typeUrl, type, target);
      type.known = target;
      type.sent = type.subscription;
      type.initialVersions = null;
      if (response != null) {
        return response;
      }
    }
    return null;
  }

  /**
   * The type's first answer on this stream: every subscribed resource, minus those the client
   * said it already has at the same version (a reconnect), plus the removal of those it has that
   * no longer exist. Sent even when empty: it tells the client (and the registry) the version.
   */
  private DeltaResponse everything(String typeUrl, TypeState type, SnapshotResources<?> target) {
    if (type.initialVersions == null) {
      // The usual first answer: the same for every stream that subscribes alike, so built once.
      Subscription subscription = type.subscription;
      EncodedResources body = streams.bodies.of(target, subscription,
          () -> encode(subscribed(target, subscription)));
      return response(typeUrl, target.version(), body, List.of());
    }
    Map<String, ? extends VersionedResource<?>> all = target.versionedResources();
    Map<String, String> has = type.initialVersions;
    Map<String, VersionedResource<?>> send = subscribed(target, type.subscription);
    send.entrySet().removeIf(e -> e.getValue().version().equals(has.get(e.getKey())));
    List<String> removed = new ArrayList<>();
    has.keySet().forEach(name -> {
      if (!all.containsKey(name)) {
        removed.add(name);
      }
    });
    return response(typeUrl, target.version(), encode(send), removed);
  }

  /** The resources of {@code target} that {@code subscription} takes in. */
  private static Map<String, VersionedResource<?>> subscribed(SnapshotResources<?> target,
      Subscription subscription) {
    Map<String, ? extends VersionedResource<?>> all = target.versionedResources();
    Map<String, VersionedResource<?>> send = new LinkedHashMap<>();
    if (subscription.wildcard()) {
      all.forEach((name, resource) -> send.put(name, resource));
    } else {
      for (String name : subscription.names()) {
        VersionedResource<?> resource = all.get(name);
        if (resource != null) {
          send.put(name, resource);
        }
      }
    }
    return send;
  }

  /**
   * What the client lacks after its last response: the subscribed part of what changed between
   * the two snapshots, and what it subscribed to since. Null when that is nothing and the type's
   * version is the same.
   */
  private DeltaResponse changes(String typeUrl, TypeState type, SnapshotResources<?> target) {
    Map<String, ? extends VersionedResource<?>> all = target.versionedResources();
    Subscription now = type.subscription;
    Map<String, VersionedResource<?>> send = new LinkedHashMap<>();
    List<String> removed = new ArrayList<>();
    boolean versionChanged = !type.known.version().equals(target.version());
    if (versionChanged) {
      ResourceDiff diff = streams.diffs.between(type.known, target);
      for (String name : diff.changed()) {
        if (now.includes(name)) {
          send.put(name, all.get(name));
        }
      }
      for (String name : diff.removed()) {
        if (now.includes(name)) {
          removed.add(name);
        }
      }
    }
    Subscription before = type.sent;
    if (now != before && now.widens(before)) {
      if (now.wildcard() && !before.wildcard()) {
        all.forEach((name, resource) -> {
          if (!before.includes(name)) {
            send.putIfAbsent(name, resource);
          }
        });
      } else {
        for (String name : now.names()) {
          VersionedResource<?> resource = before.includes(name) ? null : all.get(name);
          if (resource != null) {
            send.putIfAbsent(name, resource);
          }
        }
      }
    }
    return versionChanged || !send.isEmpty() || !removed.isEmpty()
        ? response(typeUrl, target.version(), encode(send), removed)
        : null;
  }

  private EncodedResources encode(Map<String, VersionedResource<?>> send) {
    EncodedResources.Builder body = new EncodedResources.Builder();
    send.forEach((name, resource) -> body.add(streams.wrap(name, resource)));
    return body.build();
  }

  private DeltaResponse response(String typeUrl, String version, EncodedResources body, List<String> removed) {
    return new DeltaResponse(typeUrl, version, Long.toString(++nonces), removed, body);
  }

  /**
   * Closes the stream if its client has not read what it was sent for {@code timeoutNanos}: a proxy
   * that stopped reading would otherwise keep its share of the send budget, and enough of them would
   * stall every other stream. Its proxy reconnects and starts over. True when it was closed.
   */
  boolean closeIfStalled(long now, long timeoutNanos) {
    synchronized (this) {
      if (closed || held == 0 || now - heldSince < timeoutNanos) {
        return false;
      }
    }
    if (!close()) {
      return false;
    }
    RequestException stalled = new RequestException(Status.UNAVAILABLE.withDescription(
        "the proxy did not read its xDS responses for " + timeoutNanos / 1_000_000_000L
            + " s; closing the stream so that it reconnects"));
    out.fail(stalled);
    streams.callbacks.onStreamCloseWithError(id, DeltaStreams.ADS_TYPE_URL, stalled);
    return true;
  }

  long id() {
    return id;
  }

  synchronized String groupId() {
    return groupId;
  }

  @Override
  public void onError(Throwable t) {
    if (close()) {
      streams.callbacks.onStreamCloseWithError(id, DeltaStreams.ADS_TYPE_URL, t);
    }
  }

  @Override
  public void onCompleted() {
    if (close()) {
      streams.callbacks.onStreamClose(id, DeltaStreams.ADS_TYPE_URL);
      out.complete();
    }
  }

  /** Marks the stream closed, leaves its group and gives back its budget; false if it was closed already. */
  private boolean close() {
    long release;
    synchronized (this) {
      if (closed) {
        return false;
      }
      closed = true;
      if (groupId != null) {
        streams.leave(groupId, this);
      }
      release = held + releasable;
      held = 0;
      releasable = 0;
    }
    streams.budget.forget(this);
    if (release > 0) {
      streams.budget.release(release);
    }
    return true;
  }

  /** One resource type on this stream. */
  private static final class TypeState {
    Subscription subscription;
    /** The subscription the client's view was last brought to, with {@link #known}. */
    Subscription sent;
    /** The resources the client's view was last brought to; null before the type's first answer. */
    SnapshotResources<?> known;
    /** What the client said it has on its first request (a reconnect); dropped after the first answer. */
    Map<String, String> initialVersions;

    TypeState(Subscription subscription) {
      this.subscription = subscription;
    }
  }
}
