package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the generator cannot be told through annotations: printer columns in the order the type
 * declares them (the generator sorts by JSON path), conditions as a map keyed by type with
 * RFC 3339 timestamps, as the Kubernetes API conventions ask, and {@code spec} required at the
 * root of the user's kinds, so that an object without one is refused by the apiserver rather than
 * stored. It also describes the kind itself and its spec and status, which {@code kubectl explain}
 * prints: the generator takes descriptions from {@code @JsonPropertyDescription} only (fabric8
 * kubernetes-client issue 7375), so these come from {@code @JsonClassDescription} on the kind's
 * class and on its spec and status classes, or from {@code @JsonPropertyDescription} on the kind's
 * own {@code getSpec()}/{@code getStatus()} (MeshStatus's spec is {@code Void}).
 */
final class CrdConventions implements CRDPostProcessor {

  @Override
  public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
    CustomResourceDefinition definition = (CustomResourceDefinition) crd;
    Class<? extends HasMetadata> kind = kindClass(definition.getSpec().getNames().getKind());
    List<String> declared = declaredColumns(kind);
    for (CustomResourceDefinitionVersion version : definition.getSpec().getVersions()) {
      version.getAdditionalPrinterColumns()
          .sort(Comparator.comparingInt((CustomResourceColumnDefinition c) -> declared.indexOf(c.getName())));
      JSONSchemaProps root = version.getSchema().getOpenAPIV3Schema();
      markConditions(root);
      describe(root, kind);
      // The user's kinds only; MeshStatus is written by the operator and has nothing to specify.
      boolean userKind = "Namespaced".equals(definition.getSpec().getScope());
      if (userKind && root.getProperties().containsKey("spec") && !root.getRequired().contains("spec")) {
        root.getRequired().add("spec");
      }
    }
    return definition;
  }

  private static Class<? extends HasMetadata> kindClass(String kind) {
    return Arrays.stream(WeftApi.RESOURCE_CLASSES)
        .filter(c -> c.getSimpleName().equals(kind))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no class in WeftApi.RESOURCE_CLASSES for kind " + kind));
  }

  private static List<String> declaredColumns(Class<?> kind) {
    return Arrays.stream(kind.getAnnotationsByType(AdditionalPrinterColumn.class))
        .map(AdditionalPrinterColumn::name)
        .toList();
  }

  /** The kind's description on the root; those of its spec and status on spec and status, unless already described. */
  private static void describe(JSONSchemaProps root, Class<?> kind) {
    if (root.getDescription() == null) {
      classDescription(kind).ifPresent(root::setDescription);
    }
    // CustomResource<Spec, Status>: the type arguments are the classes of spec and status.
    Type[] specAndStatus = ((ParameterizedType) kind.getGenericSuperclass()).getActualTypeArguments();
    describeProperty(root, kind, "spec", "getSpec", specAndStatus[0]);
    describeProperty(root, kind, "status", "getStatus", specAndStatus[1]);
  }

  private static void describeProperty(JSONSchemaProps root, Class<?> kind, String name, String getter, Type type) {
    JSONSchemaProps property = root.getProperties().get(name);
    if (property == null || property.getDescription() != null) {
      return;
    }
    Optional<String> onGetter;
    try {
      onGetter = Optional.ofNullable(kind.getMethod(getter).getAnnotation(JsonPropertyDescription.class))
          .map(JsonPropertyDescription::value);
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(kind + " is a CustomResource without " + getter + "()", e);
    }
    onGetter.or(() -> type instanceof Class<?> c ? classDescription(c) : Optional.empty())
        .ifPresent(property::setDescription);
  }

  private static Optional<String> classDescription(Class<?> type) {
    return Optional.ofNullable(type.getAnnotation(JsonClassDescription.class)).map(JsonClassDescription::value);
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
