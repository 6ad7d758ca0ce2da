package dev.weft.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Who may call a Service: rules over the callers' mesh identities (namespace and service account,
 * proven by mTLS) and the requests they make, enforced by Envoy RBAC on the Service's inbound side.
 */
@Group(WeftApi.GROUP)
@Version(WeftApi.VERSION)
@Plural("accesspolicies")
@ShortNames("ap")
@Categories(WeftApi.CATEGORY)
@AdditionalPrinterColumn(name = "Service", jsonPath = ".spec.service")
@AdditionalPrinterColumn(name = "Action", jsonPath = ".spec.action")
@AdditionalPrinterColumn(name = "Accepted", jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(name = "Programmed", jsonPath = ".status.conditions[?(@.type==\"Programmed\")].status")
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class AccessPolicy extends CustomResource<AccessPolicySpec, ResourceStatus> implements Namespaced {}
