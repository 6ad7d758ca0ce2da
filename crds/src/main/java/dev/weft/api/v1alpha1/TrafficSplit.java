package dev.weft.api.v1alpha1;

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
@Group(WeftApi.GROUP)
@Version(WeftApi.VERSION)
@ShortNames("ts")
@Categories(WeftApi.CATEGORY)
@AdditionalPrinterColumn(name = "Service", jsonPath = ".spec.service")
@AdditionalPrinterColumn(name = "Accepted", jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(name = "Programmed", jsonPath = ".status.conditions[?(@.type==\"Programmed\")].status")
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class TrafficSplit extends CustomResource<TrafficSplitSpec, ResourceStatus> implements Namespaced {}
