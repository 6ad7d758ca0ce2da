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
 * Splits the traffic sent to a root Service across backend Services by weight (a canary), in
 * the shape of the SMI TrafficSplit.
 */
@JsonClassDescription("TrafficSplit sends the traffic for a root Service to backend Services by weight, "
    + "e.g. 90% to payments-v1 and 10% to payments-v2 (a canary), in the shape of the SMI TrafficSplit. "
    + "You write spec; the operator writes status (Accepted, ResolvedRefs, Programmed). "
    + "Short names ts and wts; with SMI installed too, use wts or trafficsplits.weft.dev.")
@Group(WeftApi.GROUP)
@Version(WeftApi.VERSION)
@ShortNames({"ts", "wts"})
@Categories(WeftApi.CATEGORY)
@AdditionalPrinterColumn(name = "Service", jsonPath = ".spec.service")
@AdditionalPrinterColumn(name = "Accepted", jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(name = "Programmed", jsonPath = ".status.conditions[?(@.type==\"Programmed\")].status")
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class TrafficSplit extends CustomResource<TrafficSplitSpec, ResourceStatus> implements Namespaced {}
