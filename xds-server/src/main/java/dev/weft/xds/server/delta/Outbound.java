package dev.weft.xds.server.delta;

/** Where a delta stream's responses go: the gRPC call, with its flow control. */
public interface Outbound {

  /** Writes {@code response}; its encoded bytes are copied to the call, not serialized again. */
  void send(DeltaResponse response);

  /** False while the call holds more unread bytes than gRPC's threshold; {@link #onReady} follows. */
  boolean isReady();

  void fail(Throwable error);

  void complete();

  /** What to run each time the call becomes ready again; set once, as the stream opens. */
  void onReady(Runnable handler);
}
