package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.api.v1alpha1.WeftApi;
import dev.weft.demo.WeftCrds;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The generated CRDs on a real kube-apiserver, through the real kubectl: they become Established,
 * kubectl knows their names, valid examples are stored whole and invalid ones are refused with the
 * message docs/api.md promises.
 */
@KubeApiServerTest
class CrdInstallTest {

  static final Path EXAMPLES = WeftTools.repoRoot().resolve("docs/examples");

  @BeforeAll
  static void installCrds(Kubectl kubectl) {
    WeftCrds.install(kubectl);
    kubectl.apply("""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: shop
        """).requireSuccess();
  }

  @Test
  void everyCrdIsEstablishedWithItsStatusSubresource(KubernetesClient client) {
    for (Class<? extends HasMetadata> kind : WeftApi.RESOURCE_CLASSES) {
      CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions()
          .withName(HasMetadata.getFullResourceName(kind)).get();

      assertThat(crd.getStatus().getConditions())
          .as("conditions of %s", crd.getMetadata().getName())
          .anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Established");
            assertThat(c.getStatus()).isEqualTo("True");
          });
      assertThat(crd.getSpec().getVersions().get(0).getSubresources().getStatus()).isNotNull();
    }
  }

  @Test
  void kubectlGetsTrafficSplitsByNameShortNameAndCategory(Kubectl kubectl) throws IOException {
    kubectl.run("apply", "-f", EXAMPLES.resolve("valid/trafficsplit.yaml").toString()).requireSuccess();

    CommandResult byName = kubectl.run("get", "trafficsplits", "-n", "shop").requireSuccess();
    assertThat(byName.stdout().lines().findFirst().orElseThrow().split("\\s+"))
        .containsExactly("NAME", "SERVICE", "ACCEPTED", "PROGRAMMED", "AGE");
    assertThat(byName.stdout()).containsPattern("payments-canary\\s+payments\\s");

    CommandResult byShortName = kubectl.run("get", "ts", "-n", "shop", "-o", "name").requireSuccess();
    assertThat(byShortName.stdout().strip()).isEqualTo("trafficsplit.weft.dev/payments-canary");

    CommandResult byCategory = kubectl.run("get", "weft", "-A", "-o", "name").requireSuccess();
    assertThat(byCategory.stdout()).contains("trafficsplit.weft.dev/payments-canary");
  }

  @Test
  void apiserverKeepsEveryFieldOfTheJavaTypes(Kubectl kubectl, KubernetesClient client) throws IOException {
    // Fields the schema does not declare would be pruned silently; a round trip shows none are.
    Path example = EXAMPLES.resolve("valid/virtualservice.yaml");
    VirtualService written = new KubernetesSerialization().unmarshal(Files.readString(example), VirtualService.class);
    kubectl.run("apply", "-f", example.toString()).requireSuccess();

    VirtualService stored = client.resources(VirtualService.class).inNamespace("shop")
        .withName(written.getMetadata().getName()).get();

    // Fields left unset in the file may come back with their schema default; nothing else may differ.
    assertThat(stored.getSpec()).usingRecursiveComparison().ignoringExpectedNullFields().isEqualTo(written.getSpec());
    assertThat(stored.getSpec().getRules().get(0).getBackends().get(0).getWeight())
        .as("the schema default of a route backend's weight").isEqualTo(1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validExamples")
  void acceptsValidExample(String name, Kubectl kubectl) {
    CommandResult result = kubectl.run("apply", "-f", EXAMPLES.resolve(name).toString());

    assertThat(result.exitCode()).as("kubectl apply -f docs/examples/%s:%n%s", name, result.stderr()).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidExamples")
  void refusesInvalidExampleWithTheDocumentedMessage(String name, Kubectl kubectl) throws IOException {
    String expected = Files.readAllLines(EXAMPLES.resolve(name)).get(0).substring("# expect: ".length());

    CommandResult result = kubectl.run("apply", "-f", EXAMPLES.resolve(name).toString());

    assertThat(result.exitCode()).as("kubectl apply of %s should fail", name).isNotZero();
    assertThat(result.stderr()).contains("is invalid").contains(expected);
    System.out.println(name + " -> " + result.stderr().strip());
  }

  static Stream<String> validExamples() throws IOException {
    return examples("valid");
  }

  static Stream<String> invalidExamples() throws IOException {
    return examples("invalid");
  }

  private static Stream<String> examples(String dir) throws IOException {
    try (Stream<Path> files = Files.list(EXAMPLES.resolve(dir))) {
      List<String> names = files.map(p -> dir + "/" + p.getFileName()).sorted().toList();
      assertThat(names).as("examples in docs/examples/%s", dir).isNotEmpty();
      return names.stream();
    }
  }
}
