/**
 * Mutual TLS between sidecars, as pure protobuf builders: the file-based SDS resources a sidecar
 * reads its identity and trust bundle from, and the TLS contexts of outbound clusters (verify the
 * destination's SPIFFE IDs) and inbound listeners (strict or permissive). No Kubernetes, no gRPC.
 */
package dev.weft.xds.tls;
