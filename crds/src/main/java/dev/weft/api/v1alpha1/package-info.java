/**
 * The {@code weft.dev/v1alpha1} API: the resources users write (TrafficSplit, VirtualService,
 * AccessPolicy) and the one the mesh writes (MeshStatus). The CRD YAML under {@code crds/} is
 * generated from these types; schema rules live here as annotations so the two never drift.
 */
package dev.weft.api.v1alpha1;
