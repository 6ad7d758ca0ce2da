package dev.weft.api.v1alpha1;

/** Names and shared schema patterns of the weft.dev API group. */
public final class WeftApi {
  public static final String GROUP = "weft.dev";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;
  public static final String CATEGORY = "weft";

  /** A Service name: an RFC 1035 DNS label, as Kubernetes requires for Services. */
  public static final String SERVICE_NAME_PATTERN = "^[a-z]([-a-z0-9]*[a-z0-9])?$";

  /** A namespace or ServiceAccount name: an RFC 1123 DNS label / subdomain. */
  public static final String DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

  public static final String DNS_SUBDOMAIN_PATTERN =
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

  /**
   * A duration in the Gateway API style ({@code 500ms}, {@code 2s}, {@code 1m30s}): strict enough
   * that every accepted value maps onto an Envoy protobuf Duration without surprises.
   */
  public static final String DURATION_PATTERN = "^([0-9]{1,5}(h|m|s|ms)){1,4}$";

  /** Every custom resource class of the group, in the order their CRDs are listed. */
  @SuppressWarnings("unchecked")
  public static final Class<? extends io.fabric8.kubernetes.api.model.HasMetadata>[] RESOURCE_CLASSES =
      new Class[] {TrafficSplit.class, VirtualService.class, AccessPolicy.class, MeshStatus.class};

  private WeftApi() {}
}
