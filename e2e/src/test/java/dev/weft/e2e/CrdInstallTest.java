package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.api.v1alpha1.WeftApi;
import dev.weft.demo.WeftCrds;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeApiServer;
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
 * kubectl knows their names and explains every kind, valid examples are stored whole (and apply as
 * one folder on a fresh cluster) and invalid ones are refused with the message docs/api.md promises,
 * and the kinds stay addressable beside Istio's and SMI's kinds of the same names.
 */
@KubeApiServerTest
class CrdInstallTest {

  static final Path EXAMPLES = WeftTools.repoRoot().resolve("docs/examples");

  /** The first valid example: the namespace and Services the others need. */
  static final Path NAMESPACE_AND_SERVICES = EXAMPLES.resolve("valid/00-namespace-and-services.yaml");

  @BeforeAll
  static void installCrds(Kubectl kubectl) {
    WeftCrds.install(kubectl);
    kubectl.run("apply", "-f", NAMESPACE_AND_SERVICES.toString()).requireSuccess();
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
    CommandResult byOwnShortName = kubectl.run("get", "wts", "-n", "shop", "-o", "name").requireSuccess();
    assertThat(byOwnShortName.stdout().strip()).isEqualTo("trafficsplit.weft.dev/payments-canary");

    CommandResult byCategory = kubectl.run("get", "weft", "-A", "-o", "name").requireSuccess();
    assertThat(byCategory.stdout()).contains("trafficsplit.weft.dev/payments-canary");
  }

  @Test
  void kubectlExplainDescribesEveryKindItsSpecAndItsStatus(Kubectl kubectl) {
    for (Class<? extends HasMetadata> kind : WeftApi.RESOURCE_CLASSES) {
      String singular = HasMetadata.getSingular(kind);
      String described = oneLine(kind.getAnnotation(JsonClassDescription.class).value());
      for (String path : List.of("", ".spec", ".status")) {
        CommandResult explain = kubectl.run("explain", singular + path, "--api-version=" + WeftApi.API_VERSION)
            .requireSuccess();
        String out = explain.stdout();

        assertThat(out).as("kubectl explain %s%s", singular, path)
            .contains("DESCRIPTION:")
            .doesNotContain("<empty>")
            .doesNotContain("<no description>");
        assertThat(description(out)).as("DESCRIPTION of %s%s", singular, path).hasSizeGreaterThan(40);
        if (path.isEmpty()) {
          assertThat(oneLine(description(out))).as("kubectl explain %s", singular).isEqualTo(described);
        }
      }
    }
    System.out.println(kubectl.run("explain", "trafficsplit", "--api-version=" + WeftApi.API_VERSION).stdout());
  }

  @Test
  void onAFreshClusterTheExamplesApplyAsOneFolderAndStayAddressableBesideIstioAndSmi() {
    // A cluster of its own: nothing in it yet (no namespace shop), and Istio's and SMI's kinds must
    // not reach the shared apiserver, whose other users' kubectl would then resolve ts or
    // virtualservices to them.
    try (KubeApiServer fresh = KubeApiServer.start()) {
      Kubectl kubectl = fresh.kubectl();
      WeftCrds.install(kubectl);
      kubectl.apply(ISTIO_AND_SMI_LOOKALIKES).requireSuccess();
      kubectl.run("wait", "--for=condition=Established", "--timeout=60s",
          "crd/virtualservices.networking.istio.io", "crd/trafficsplits.split.smi-spec.io").requireSuccess();
      assertThat(kubectl.run("get", "namespace", "shop").exitCode()).as("shop on a fresh cluster").isNotZero();

      CommandResult applied = kubectl.run("apply", "-f", EXAMPLES.resolve("valid").toString());

      assertThat(applied.exitCode()).as("kubectl apply -f docs/examples/valid/:%n%s", applied.stderr()).isZero();
      assertThat(applied.stdout()).contains("namespace/shop created", "service/payments-v2 created",
          "trafficsplit.weft.dev/payments-canary created", "virtualservice.weft.dev/payments-routes created",
          "accesspolicy.weft.dev/payments-callers created");
      kubectl.apply(ISTIO_AND_SMI_OBJECTS).requireSuccess();

      // What docs/api.md tells a user with Istio or SMI installed too.
      assertThat(names(kubectl, "trafficsplits.weft.dev")).containsExactly("trafficsplit.weft.dev/payments-canary");
      assertThat(names(kubectl, "wts")).containsExactly("trafficsplit.weft.dev/payments-canary");
      assertThat(names(kubectl, "virtualservices.weft.dev"))
          .containsExactly("virtualservice.weft.dev/payments-routes");
      assertThat(names(kubectl, "wvs")).containsExactly("virtualservice.weft.dev/payments-routes");
      assertThat(names(kubectl, "weft")).containsExactlyInAnyOrder("trafficsplit.weft.dev/payments-canary",
          "virtualservice.weft.dev/payments-routes", "accesspolicy.weft.dev/payments-callers");
      assertThat(kubectl.run("explain", "virtualservice", "--api-version=" + WeftApi.API_VERSION).requireSuccess()
          .stdout()).contains("weft.dev").contains("wvs");
      // And why: the bare names reach the other project's kinds.
      List<String> bareTrafficSplits = names(kubectl, "trafficsplits");
      List<String> bareTs = names(kubectl, "ts");
      List<String> bareVirtualServices = names(kubectl, "virtualservices");
      System.out.println("bare names beside Istio and SMI: trafficsplits -> " + bareTrafficSplits + ", ts -> "
          + bareTs + ", virtualservices -> " + bareVirtualServices);
      assertThat(bareTrafficSplits).containsExactly("trafficsplit.split.smi-spec.io/smi-split");
      assertThat(bareTs).containsExactly("trafficsplit.split.smi-spec.io/smi-split");
      assertThat(bareVirtualServices).containsExactly("virtualservice.networking.istio.io/istio-routes");
    }
  }

  /** Istio's VirtualService and SMI's TrafficSplit CRDs as those projects name them, without their schemas. */
  static final String ISTIO_AND_SMI_LOOKALIKES = """
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: virtualservices.networking.istio.io
      spec:
        group: networking.istio.io
        names:
          kind: VirtualService
          plural: virtualservices
          singular: virtualservice
          shortNames: [vs]
          categories: [istio-io, networking-istio-io]
        scope: Namespaced
        versions:
        - name: v1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              x-kubernetes-preserve-unknown-fields: true
      ---
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: trafficsplits.split.smi-spec.io
      spec:
        group: split.smi-spec.io
        names:
          kind: TrafficSplit
          plural: trafficsplits
          singular: trafficsplit
          shortNames: [ts]
        scope: Namespaced
        versions:
        - name: v1alpha2
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              x-kubernetes-preserve-unknown-fields: true
      """;

  static final String ISTIO_AND_SMI_OBJECTS = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: istio-routes
        namespace: shop
      spec:
        hosts: [payments]
      ---
      apiVersion: split.smi-spec.io/v1alpha2
      kind: TrafficSplit
      metadata:
        name: smi-split
        namespace: shop
      spec:
        service: payments
        backends:
        - service: payments-v1
          weight: 100
      """;

  private static List<String> names(Kubectl kubectl, String resource) {
    return kubectl.run("get", resource, "-n", "shop", "-o", "name").requireSuccess().stdout().lines()
        .filter(l -> !l.isBlank()).toList();
  }

  /** The text under DESCRIPTION: in kubectl explain's output, up to the next heading. */
  private static String description(String explain) {
    StringBuilder text = new StringBuilder();
    boolean in = false;
    for (String line : explain.lines().toList()) {
      if (line.startsWith("DESCRIPTION:")) {
        in = true;
      } else if (in && !line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
        break;
      } else if (in) {
        text.append(line.strip()).append(' ');
      }
    }
    return text.toString().strip();
  }

  private static String oneLine(String text) {
    return text.replaceAll("\\s+", " ").strip();
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
