package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
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
 * proven by mTLS) and the requests they make. The operator validates it; the sidecars do not
 * enforce it yet (planned: Envoy RBAC on the Service's inbound side), which its Enforced condition
 * says.
 */
@JsonClassDescription("AccessPolicy says who may call a Service: rules over the callers' mesh identities "
    + "(namespace and ServiceAccount) and their requests (ports, methods, paths). You write spec; the operator "
    + "writes status. Not enforced yet: the operator validates the policy (Accepted, ResolvedRefs), but the "
    + "sidecars do not apply AccessPolicy yet (planned: Envoy RBAC on the inbound side), so every policy has "
    + "Enforced=False, reason NotImplemented. Short name ap.")
@Group(WeftApi.GROUP)
@Version(WeftApi.VERSION)
@Plural("accesspolicies")
@ShortNames("ap")
@Categories(WeftApi.CATEGORY)
@AdditionalPrinterColumn(name = "Service", jsonPath = ".spec.service")
@AdditionalPrinterColumn(name = "Action", jsonPath = ".spec.action")
@AdditionalPrinterColumn(name = "Accepted", jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(name = "Enforced", jsonPath = ".status.conditions[?(@.type==\"Enforced\")].status")
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class AccessPolicy extends CustomResource<AccessPolicySpec, ResourceStatus> implements Namespaced {}
