/**
 * The Kubernetes source of the mesh state: informers on Services, EndpointSlices, TrafficSplits
 * and VirtualServices ({@link dev.weft.xds.k8s.MeshStateWatcher}), whose caches become the core's
 * records through the conversion the operator shares ({@link dev.weft.convert.MeshStateBuilder}),
 * and the {@link dev.weft.xds.k8s.Debouncer} that rebuilds at once after an isolated change and
 * turns a burst of changes into a bounded few rebuilds.
 *
 * <p>Choices the API leaves open, made in that conversion: only TCP ports are meshed (UDP and SCTP
 * bypass the sidecar); ExternalName Services are left out; FQDN EndpointSlices count only with
 * IPv4-literal addresses (local pods on loopback, which IPv4 slices refuse) and host names in them
 * are ignored, as kube-proxy does; an endpoint listed by two slices (while the controller moves it)
 * is kept once, in its readiest state; a terminating endpoint whose readiness is unknown is not
 * ready unless it says it is still serving. An object that cannot be converted is left out with a
 * warning naming it and the field, and the rest of the mesh keeps working.
 */
package dev.weft.xds.k8s;
