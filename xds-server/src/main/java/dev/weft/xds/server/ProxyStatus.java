package dev.weft.xds.server;

import java.time.Instant;
import java.util.List;

/**
 * One connected xDS client as this replica sees it: who it is, which group's config it gets, and
 * per resource type what was sent, what it has applied and whether it rejected something.
 *
 * <p>{@code synced} is true when the client has subscribed to at least one type and, for every
 * subscribed type this server serves, the version it applied is the newest version of its group.
 * {@code lastNack} is the newest rejection on this stream, kept after it is resolved (for debugging);
 * {@code null} when the client never rejected anything.
 */
public record ProxyStatus(String nodeId, String namespace, String groupId, long streamId, Protocol protocol,
    Instant connectedAt, List<TypeStatus> types, Nack lastNack, boolean synced) {

  /** The two ADS flavours, which differ in what a version means (see {@link ConnectedProxies}). */
  public enum Protocol {
    STATE_OF_THE_WORLD,
    DELTA
  }

  public ProxyStatus {
    types = List.copyOf(types);
  }

  /** True when some type's newest response was rejected and nothing newer has been accepted since. */
  public boolean nacked() {
    return types.stream().anyMatch(t -> t.nack() != null);
  }

  /**
   * One subscribed resource type. Versions are empty strings when unknown: nothing sent yet,
   * nothing applied yet, or a type the group's snapshot does not version ({@code latestVersion}).
   * {@code nack} is the rejection still standing for this type, or {@code null}.
   */
  public record TypeStatus(String typeUrl, String sentVersion, String sentNonce, String ackedVersion,
      String latestVersion, Nack nack) {}

  /** A response the client rejected: the version and nonce it was sent with, Envoy's error text, when. */
  public record Nack(String typeUrl, String version, String nonce, String message, Instant at) {}
}
