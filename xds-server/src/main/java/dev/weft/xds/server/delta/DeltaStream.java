package dev.weft.xds.server.delta;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One delta ADS stream: per resource type, what the client subscribed to and which snapshot's
 * resources it was last brought to. Requests (on the stream's gRPC thread) and pushes (on the
 * publishing thread) take the stream's monitor, so the client's view moves one step at a time.
 *
 * <p>The client's view of a type is the subscribed part of the resources it was last brought to:
 * a push sends the subscribed part of the difference and nothing is tracked per name. A rejected
 * response (NACK) therefore parks the rejected resources until they change again, which is what
 * Envoy wants (resending them would be rejected again). Every type the client subscribed to gets a
 * response when its version changes, even when none of the changed resources is subscribed: the
 * response carries the type's new version, which is how the registry knows the client is current.
 */
final class DeltaStream implements StreamObserver<DeltaDiscoveryRequest> {

  /** What java-control-plane's response callback is given as the request: ours never reads it. */
  private static final DeltaDiscoveryRequest NO_REQUEST = DeltaDiscoveryRequest.getDefaultInstance();

  private final DeltaStreams streams;
  private final long id;
  private final StreamObserver<DeltaDiscoveryResponse> responses;

  // All guarded by this.
  private String groupId;
  /** The group's snapshot this stream was last brought to; null until the group has one. */
  private Snapshot snapshot;
  private final Map<String, TypeState> types = new HashMap<>();
  private long nonces;
  private boolean closed;

  DeltaStream(DeltaStreams streams, long id, StreamObserver<DeltaDiscoveryResponse> responses) {
    this.streams = streams;
    this.id = id;
    this.responses = responses;
  }

  @Override
  public synchronized void onNext(DeltaDiscoveryRequest request) {
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
      refuse(e);
      return;
    } catch (IllegalArgumentException e) {
      refuse(new RequestException(Status.INVALID_ARGUMENT.withDescription(e.getMessage())));
      return;
    }
    String typeUrl = request.getTypeUrl();
    TypeState type = types.get(typeUrl);
    Subscription before;
    if (type == null) {
      type = new TypeState(Subscription.first(request.getResourceNamesSubscribeList()));
      if (request.getInitialResourceVersionsCount() > 0) {
        type.initialVersions = new HashMap<>(request.getInitialResourceVersionsMap());
      }
      types.put(typeUrl, type);
      before = null;
    } else {
      before = type.subscription;
      type.subscription = before.change(request.getResourceNamesSubscribeList(),
          request.getResourceNamesUnsubscribeList());
    }
    if (snapshot == null) {
      return; // answered when the group's first snapshot is set
    }
    if (type.known == null) {
      sendEverything(typeUrl, type, DeltaStreams.resourcesOf(snapshot, typeUrl));
    } else if (before != null && type.subscription.widens(before)) {
      sendNewlySubscribed(typeUrl, type, before);
    }
  }

  /** Brings every subscribed type to {@code next}, the group's new snapshot. */
  synchronized void push(Snapshot next) {
    if (closed || next == snapshot) {
      return;
    }
    snapshot = next;
    for (String typeUrl : DeltaStreams.PUSH_ORDER) {
      TypeState type = types.get(typeUrl);
      if (type == null) {
        continue;
      }
      SnapshotResources<?> resources = DeltaStreams.resourcesOf(next, typeUrl);
      if (type.known == null) {
        sendEverything(typeUrl, type, resources);
      } else if (type.known != resources) {
        if (!type.known.version().equals(resources.version())) {
          sendChanges(typeUrl, type, resources);
        }
        type.known = resources;
      }
    }
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
      responses.onCompleted();
    }
  }

  private synchronized boolean close() {
    if (closed) {
      return false;
    }
    closed = true;
    if (groupId != null) {
      streams.leave(groupId, this);
    }
    return true;
  }

  private void refuse(RequestException e) {
    if (close()) {
      responses.onError(e);
      streams.callbacks.onStreamCloseWithError(id, DeltaStreams.ADS_TYPE_URL, e);
    }
  }

  /**
   * The type's first answer on this stream: every subscribed resource, minus those the client
   * said it already has at the same version (a reconnect), plus the removal of those it has that
   * no longer exist. Sent even when empty: it tells the client (and the registry) the version.
   */
  private void sendEverything(String typeUrl, TypeState type, SnapshotResources<?> resources) {
    if (resources == null) {
      return; // a type Weft serves nothing of
    }
    Map<String, ? extends VersionedResource<?>> all = resources.versionedResources();
    Map<String, String> has = type.initialVersions == null ? Map.of() : type.initialVersions;
    List<Map.Entry<String, ? extends VersionedResource<?>>> send = new ArrayList<>();
    if (type.subscription.wildcard()) {
      all.entrySet().forEach(e -> add(send, has, e.getKey(), e.getValue()));
    }
    for (String name : type.subscription.names()) {
      VersionedResource<?> resource = all.get(name);
      if (resource != null && !type.subscription.wildcard()) {
        add(send, has, name, resource);
      }
    }
    List<String> removed = new ArrayList<>();
    has.keySet().forEach(name -> {
      if (!all.containsKey(name)) {
        removed.add(name);
      }
    });
    type.known = resources;
    type.initialVersions = null;
    send(typeUrl, resources.version(), send, removed);
  }

  private static void add(List<Map.Entry<String, ? extends VersionedResource<?>>> send, Map<String, String> has,
      String name, VersionedResource<?> resource) {
    if (!resource.version().equals(has.get(name))) {
      send.add(Map.entry(name, resource));
    }
  }

  /** What the client subscribed to just now, from the resources it was last brought to. */
  private void sendNewlySubscribed(String typeUrl, TypeState type, Subscription before) {
    Map<String, ? extends VersionedResource<?>> all = type.known.versionedResources();
    List<Map.Entry<String, ? extends VersionedResource<?>>> send = new ArrayList<>();
    if (type.subscription.wildcard() && !before.wildcard()) {
      all.forEach((name, resource) -> {
        if (!before.includes(name)) {
          send.add(Map.entry(name, resource));
        }
      });
    } else if (!type.subscription.wildcard()) {
      for (String name : type.subscription.names()) {
        VersionedResource<?> resource = before.includes(name) ? null : all.get(name);
        if (resource != null) {
          send.add(Map.entry(name, resource));
        }
      }
    }
    if (!send.isEmpty()) {
      send(typeUrl, type.known.version(), send, List.of());
    }
  }

  /** The subscribed part of what changed between the client's resources and {@code next}. */
  private void sendChanges(String typeUrl, TypeState type, SnapshotResources<?> next) {
    ResourceDiff diff = streams.diffs.between(type.known, next);
    Map<String, ? extends VersionedResource<?>> all = next.versionedResources();
    List<Map.Entry<String, ? extends VersionedResource<?>>> send = new ArrayList<>();
    for (String name : diff.changed()) {
      if (type.subscription.includes(name)) {
        send.add(Map.entry(name, all.get(name)));
      }
    }
    List<String> removed = new ArrayList<>();
    for (String name : diff.removed()) {
      if (type.subscription.includes(name)) {
        removed.add(name);
      }
    }
    send(typeUrl, next.version(), send, removed);
  }

  private void send(String typeUrl, String version, List<Map.Entry<String, ? extends VersionedResource<?>>> resources,
      List<String> removed) {
    DeltaDiscoveryResponse.Builder response = DeltaDiscoveryResponse.newBuilder()
        .setTypeUrl(typeUrl)
        .setSystemVersionInfo(version)
        .setNonce(Long.toString(++nonces))
        .addAllRemovedResources(removed);
    for (Map.Entry<String, ? extends VersionedResource<?>> entry : resources) {
      VersionedResource<?> resource = entry.getValue();
      response.addResources(Resource.newBuilder()
          .setName(entry.getKey())
          .setVersion(resource.version())
          .setResource(streams.serializer.serialize(resource.resource(), Resources.ApiVersion.V3)));
    }
    DeltaDiscoveryResponse built = response.build();
    // Recorded before it can be acknowledged; the ACK takes this stream's monitor, held here.
    streams.callbacks.onV3StreamDeltaResponse(id, NO_REQUEST, built);
    responses.onNext(built);
  }

  /** One resource type on this stream. */
  private static final class TypeState {
    Subscription subscription;
    /** The resources the client's view was last brought to; null before the type's first answer. */
    SnapshotResources<?> known;
    /** What the client said it has on its first request (a reconnect); dropped after the first answer. */
    Map<String, String> initialVersions;

    TypeState(Subscription subscription) {
      this.subscription = subscription;
    }
  }
}
