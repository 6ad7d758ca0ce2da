package dev.weft.xds.server;

import java.time.Instant;

/** A client that recently left this replica: its last status, when, and how the stream ended. */
public record DisconnectedProxy(ProxyStatus lastStatus, Instant disconnectedAt, String reason) {}
