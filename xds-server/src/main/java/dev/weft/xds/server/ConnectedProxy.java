package dev.weft.xds.server;

import dev.weft.mesh.ProxyGroup;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One xDS stream of an identified client, as {@link ConnectedProxies} last saw it: who the client
 * is, which group's config it gets, and per subscribed resource type what was sent, what it
 * applied and what it rejected. Raw facts only: whether that is the newest config of the group is
 * for the reader to say ({@link ProxySyncTracker}).
 *
 * <p>{@code lastNack} is the newest rejection on the stream, kept after it is resolved (for
 * debugging); {@code null} when the client never rejected anything.
 */
public record ConnectedProxy(long streamId, String nodeId, ProxyGroup group, ProxyStatus.Protocol protocol,
    Instant connectedAt, List<Subscription> subscriptions, ProxyStatus.Nack lastNack) {

  public ConnectedProxy {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(group, "group");
    subscriptions = List.copyOf(subscriptions);
  }

  public String groupId() {
    return group.id();
  }

  /**
   * One resource type the client asked for. Versions and nonce are empty strings while unknown
   * (nothing sent, nothing applied yet); {@code nack} is the rejection of this type that no later
   * accepted response resolved, or {@code null}.
   */
  public record Subscription(String typeUrl, String sentVersion, String sentNonce, String ackedVersion,
      ProxyStatus.Nack nack) {}
}
