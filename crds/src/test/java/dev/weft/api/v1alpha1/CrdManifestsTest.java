package dev.weft.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed CRD YAML must be exactly what the Java types generate. Run with
 * {@code -Dweft.crds.update=true} (that is what {@code make crds}) does to rewrite it.
 */
class CrdManifestsTest {

  static final Path COMMITTED = Path.of("manifests");

  @Test
  void committedCrdYamlMatchesTheJavaTypes(@TempDir Path out) throws IOException {
    Map<String, String> generated = generate(out);

    if (Boolean.getBoolean("weft.crds.update")) {
      Files.createDirectories(COMMITTED);
      try (Stream<Path> old = Files.list(COMMITTED)) {
        for (Path p : old.filter(p -> p.toString().endsWith(".yml")).toList()) {
          Files.delete(p);
        }
      }
      for (var e : generated.entrySet()) {
        Files.writeString(COMMITTED.resolve(e.getKey()), e.getValue());
      }
    }

    assertThat(read(COMMITTED))
        .as("crds/manifests is out of date with the Java types in dev.weft.api.v1alpha1; run `make crds` and commit the result")
        .isEqualTo(generated);
  }

  @Test
  void generatesOneCrdPerKind() throws IOException {
    assertThat(read(COMMITTED).keySet()).containsExactlyInAnyOrder(
        "trafficsplits.weft.dev-v1.yml",
        "virtualservices.weft.dev-v1.yml",
        "accesspolicies.weft.dev-v1.yml",
        "meshstatuses.weft.dev-v1.yml");
  }

  @Test
  void describesEveryKindAndEveryFieldForKubectlExplain(@TempDir Path out) throws IOException {
    for (var file : generate(out).entrySet()) {
      CustomResourceDefinition crd = new KubernetesSerialization().unmarshal(file.getValue(),
          CustomResourceDefinition.class);
      JSONSchemaProps root = crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
      List<String> undescribed = new ArrayList<>();
      if (root.getDescription() == null || root.getDescription().isBlank()) {
        undescribed.add("(the kind)");
      }
      collectUndescribed(root, "", undescribed);

      assertThat(root.getProperties()).as(file.getKey()).containsKeys("spec", "status");
      assertThat(undescribed)
          .as("%s: fields kubectl explain would print as <empty>; add @JsonPropertyDescription (or "
              + "@JsonClassDescription on a kind, spec or status class)", file.getKey())
          .isEmpty();
    }
  }

  private static Map<String, String> generate(Path out) throws IOException {
    new CRDGenerator()
        .inOutputDir(out.toFile())
        .forCRDVersions("v1")
        .withPostProcessor(new CrdConventions())
        .customResourceClasses(WeftApi.RESOURCE_CLASSES)
        .generate();
    return read(out);
  }

  private static void collectUndescribed(JSONSchemaProps schema, String path, List<String> undescribed) {
    if (schema.getProperties() != null) {
      for (var property : schema.getProperties().entrySet()) {
        String name = path.isEmpty() ? property.getKey() : path + "." + property.getKey();
        String description = property.getValue().getDescription();
        if (description == null || description.isBlank()) {
          undescribed.add(name);
        }
        collectUndescribed(property.getValue(), name, undescribed);
      }
    }
    if (schema.getItems() != null && schema.getItems().getSchema() != null) {
      collectUndescribed(schema.getItems().getSchema(), path + "[]", undescribed);
    }
  }

  private static Map<String, String> read(Path dir) throws IOException {
    Map<String, String> files = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return files;
    }
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : list.filter(p -> p.toString().endsWith(".yml")).toList()) {
        files.put(p.getFileName().toString(), Files.readString(p));
      }
    }
    return files;
  }
}
