package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * The mesh's own report on itself, kept by the operator: are the proxies on the newest config,
 * which rejected config and why, and which workload certificates expire soon.
 * One cluster-scoped object named {@value #NAME}.
 */
@JsonClassDescription("MeshStatus is the mesh's report on itself, kept by the operator: how many proxies are "
    + "connected, synced, stale and NACKed, how many xDS replicas report, and which proxies rejected a "
    + "configuration and why, how many workload certificates the mesh CA issued and which expire soon. There is one, cluster-scoped, named mesh; the operator creates and updates it, "
    + "so do not write one. Short name ms.")
@Group(WeftApi.GROUP)
@Version(WeftApi.VERSION)
@ShortNames("ms")
@Categories(WeftApi.CATEGORY)
@ValidationRule(
    value = "self.metadata.name == 'mesh'",
    message = "there is one MeshStatus and it is named 'mesh'; the operator creates and updates it, so there is no need to write one")
@AdditionalPrinterColumn(name = "Proxies", jsonPath = ".status.proxies.connected", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Synced", jsonPath = ".status.proxies.synced", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Stale", jsonPath = ".status.proxies.stale", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "NACKed", jsonPath = ".status.proxies.nacked", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "xDS", jsonPath = ".status.xdsReplicas", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Certs-Expiring", jsonPath = ".status.certificates.expiringSoon", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class MeshStatus extends CustomResource<Void, MeshStatusStatus> {

  /** The name of the one MeshStatus object. */
  public static final String NAME = "mesh";

  // Overridden only to describe the empty spec for kubectl explain (CrdConventions reads it).
  @Override
  @JsonPropertyDescription("Unused: MeshStatus has nothing to set. The operator writes everything in status.")
  public Void getSpec() {
    return super.getSpec();
  }
}
