/**
 * The pure translation from the mesh state ({@code dev.weft.mesh}) to Envoy v3 resources: one
 * translator per xDS type ({@link dev.weft.xds.translate.ClusterTranslator},
 * {@link dev.weft.xds.translate.EndpointTranslator}, {@link dev.weft.xds.translate.RouteTranslator},
 * {@link dev.weft.xds.translate.ListenerTranslator}) and {@link dev.weft.xds.translate.MeshTranslator},
 * which builds the shared part once and derives a {@link dev.weft.xds.translate.ProxyConfig} per
 * proxy group. Records in, protos out: no Kubernetes client, no gRPC, no clock, no I/O.
 * Resource names are listed in {@link dev.weft.xds.translate.ResourceNames}.
 */
package dev.weft.xds.translate;
