package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * HTTP routing for one Service: ordered rules that match requests by path, headers and method and
 * send them to backends with a timeout and retries (after Istio's VirtualService and the Gateway
 * API's HTTPRoute).
 */
@JsonClassDescription("VirtualService routes the HTTP requests for one Service: ordered rules match requests "
    + "by path, headers and method and send them to backends, with a timeout and retries (after Istio's "
    + "VirtualService and the Gateway API's HTTPRoute). You write spec; the operator writes status (Accepted, "
    + "ResolvedRefs, Programmed). Short name wvs (Istio's is vs); with Istio installed too, use wvs or virtualservices.weft.dev.")
@Group(WeftApi.GROUP)
@Version(WeftApi.VERSION)
@ShortNames("wvs")
@Categories(WeftApi.CATEGORY)
@AdditionalPrinterColumn(name = "Service", jsonPath = ".spec.service")
@AdditionalPrinterColumn(name = "Accepted", jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(name = "Programmed", jsonPath = ".status.conditions[?(@.type==\"Programmed\")].status")
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class VirtualService extends CustomResource<VirtualServiceSpec, ResourceStatus> implements Namespaced {}
