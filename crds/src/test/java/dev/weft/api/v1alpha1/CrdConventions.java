package dev.weft.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * What the generator cannot be told through annotations: printer columns in the order the type
 * declares them (the generator sorts by JSON path), conditions as a map keyed by type with
 * RFC 3339 timestamps, as the Kubernetes API conventions ask, and {@code spec} required at the
 * root of the user's kinds, so that an object without one is refused by the apiserver rather than
 * stored.
 */
final class CrdConventions implements CRDPostProcessor {

  @Override
  public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
    CustomResourceDefinition definition = (CustomResourceDefinition) crd;
    List<String> declared = declaredColumns(definition.getSpec().getNames().getKind());
    for (CustomResourceDefinitionVersion version : definition.getSpec().getVersions()) {
      version.getAdditionalPrinterColumns()
          .sort(Comparator.comparingInt((CustomResourceColumnDefinition c) -> declared.indexOf(c.getName())));
      JSONSchemaProps root = version.getSchema().getOpenAPIV3Schema();
      markConditions(root);
      // The user's kinds only; MeshStatus is written by the operator and has nothing to specify.
      boolean userKind = "Namespaced".equals(definition.getSpec().getScope());
      if (userKind && root.getProperties().containsKey("spec") && !root.getRequired().contains("spec")) {
        root.getRequired().add("spec");
      }
    }
    return definition;
  }

  private static List<String> declaredColumns(String kind) {
    return Arrays.stream(WeftApi.RESOURCE_CLASSES)
        .filter(c -> c.getSimpleName().equals(kind))
        .flatMap(c -> Arrays.stream(c.getAnnotationsByType(AdditionalPrinterColumn.class)))
        .map(AdditionalPrinterColumn::name)
        .toList();
  }

  private static void markConditions(JSONSchemaProps schema) {
    if (schema == null || schema.getProperties() == null) {
      return;
    }
    for (Map.Entry<String, JSONSchemaProps> property : schema.getProperties().entrySet()) {
      JSONSchemaProps value = property.getValue();
      if (property.getKey().equals("conditions") && "array".equals(value.getType())) {
        value.setXKubernetesListType("map");
        value.setXKubernetesListMapKeys(List.of("type"));
        value.getItems().getSchema().getProperties().get("lastTransitionTime").setFormat("date-time");
      }
      markConditions(value);
      if (value.getItems() != null) {
        markConditions(value.getItems().getSchema());
      }
    }
  }
}
