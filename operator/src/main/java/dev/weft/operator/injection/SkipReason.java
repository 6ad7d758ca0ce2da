package dev.weft.operator.injection;

/** Why the injector leaves a pod as it is. */
public enum SkipReason {
  SYSTEM_NAMESPACE("kube-system is never injected"),
  MESH_NAMESPACE("the mesh's own namespace is never injected"),
  ALREADY_INJECTED("the pod already has the weft-proxy sidecar"),
  OPTED_OUT("the pod opts out with weft.dev/inject: \"false\""),
  HOST_NETWORK("the pod uses the node's network (hostNetwork), which capture would disturb"),
  NAMESPACE_NOT_LABELLED("the namespace is not labelled weft.dev/inject=enabled");

  private final String message;

  SkipReason(String message) {
    this.message = message;
  }

  public String message() {
    return message;
  }
}
