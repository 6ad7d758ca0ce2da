/**
 * The mesh state: plain immutable records (services, ports, endpoints, splits, routes, policies,
 * identities) that the Kubernetes adapters build and the xDS translators read. Nothing here knows
 * about Kubernetes clients, gRPC or the clock.
 */
package dev.weft.mesh;
