package dev.weft.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The examples in docs/examples are what docs/api.md shows and what the e2e suite applies to a real
 * apiserver; here they must parse into the Java types and appear verbatim in the docs.
 */
class ApiExamplesTest {

  static final Path ROOT = Path.of(System.getProperty("weft.repo.root", ".."));
  static final Path EXAMPLES = ROOT.resolve("docs/examples");

  final KubernetesSerialization serialization = new KubernetesSerialization();

  @Test
  void parsesTheTrafficSplitCanaryExample() throws IOException {
    TrafficSplit split = parse("valid/trafficsplit.yaml", TrafficSplit.class);

    assertThat(split.getMetadata().getNamespace()).isEqualTo("shop");
    assertThat(split.getSpec().getService()).isEqualTo("payments");
    assertThat(split.getSpec().getBackends()).containsExactly(
        new TrafficSplitBackend("payments-v1", 90), new TrafficSplitBackend("payments-v2", 10));
  }

  @Test
  void parsesTheVirtualServiceExampleWithEnvoyRetryNames() throws IOException {
    VirtualService vs = parse("valid/virtualservice.yaml", VirtualService.class);

    RouteRule canary = vs.getSpec().getRules().get(0);
    assertThat(canary.getMatches().get(0).getHeaders())
        .containsExactly(new HeaderMatch("x-canary", HeaderMatch.Type.Exact, "true"));
    RouteRule reads = vs.getSpec().getRules().get(1);
    assertThat(reads.getMatches().get(0).getPath()).isEqualTo(new PathMatch(PathMatch.Type.PathPrefix, "/api"));
    assertThat(reads.getMatches().get(0).getMethod()).isEqualTo(HttpMethod.GET);
    assertThat(reads.getRetries().getRetryOn()).containsExactly(
        RetryPolicy.RetryOn.SERVER_ERROR, RetryPolicy.RetryOn.CONNECT_FAILURE, RetryPolicy.RetryOn.RESET);
    assertThat(serialization.asJson(reads.getRetries())).contains("\"5xx\"", "\"connect-failure\"");
  }

  @Test
  void parsesTheAccessPolicyExample() throws IOException {
    AccessPolicy policy = parse("valid/accesspolicy.yaml", AccessPolicy.class);

    assertThat(policy.getSpec().getAction()).isEqualTo(AccessPolicySpec.Action.Allow);
    assertThat(policy.getSpec().getRules().get(0).getFrom()).containsExactly(new AccessSource(null, "checkout"));
    assertThat(policy.getSpec().getRules().get(1).getTo().getMethods()).containsExactly(HttpMethod.GET);
  }

  @Test
  void meshStatusIsClusterScopedAndNamedMesh() throws IOException {
    // Not among the valid examples (the operator owns it): the invalid one shows its shape.
    MeshStatus status = parse("invalid/meshstatus-wrong-name.yaml", MeshStatus.class);

    assertThat(status.getMetadata().getNamespace()).isNull();
    assertThat(MeshStatus.NAME).isEqualTo("mesh");
    assertThat(HasMetadata.getPlural(MeshStatus.class)).isEqualTo("meshstatuses");
  }

  @Test
  void validExamplesHoldOnlyWhatUsersWriteAndWhatTheyNeed() throws IOException {
    List<String> kinds = new ArrayList<>();
    for (Path example : files("valid")) {
      objects(example).forEach(o -> kinds.add(o.getKind()));
    }

    assertThat(kinds).as("kinds in docs/examples/valid (MeshStatus is the operator's)")
        .doesNotContain("MeshStatus")
        .containsOnly("Namespace", "Service", "TrafficSplit", "VirtualService", "AccessPolicy");
  }

  @Test
  void theFirstValidExampleCreatesTheNamespaceAndServicesTheOthersName() throws IOException {
    Path first = files("valid").get(0);
    assertThat(objects(first)).extracting(HasMetadata::getKind, o -> o.getMetadata().getName())
        .as("%s, applied first by kubectl apply -f docs/examples/valid/", first.getFileName())
        .containsExactly(tuple("Namespace", "shop"), tuple("Service", "payments"), tuple("Service", "payments-v1"),
            tuple("Service", "payments-v2"));
    assertThat(parse("valid/trafficsplit.yaml", TrafficSplit.class).getMetadata().getNamespace()).isEqualTo("shop");
  }

  @Test
  void leavesUnsetOptionalFieldsOutOfTheJson() {
    TrafficSplit split = new TrafficSplit();
    split.setSpec(new TrafficSplitSpec("payments", List.of(new TrafficSplitBackend("payments-v1", 1))));

    assertThat(serialization.asJson(split)).doesNotContain("null").doesNotContain("\"status\"");
  }

  @Test
  void meshStatusLeavesCertificatesOutUntilTheMeshIssuesThem() {
    // Unset rather than zeros: the CERTS-EXPIRING column stays empty instead of claiming 0.
    MeshStatusStatus status = new MeshStatusStatus();

    assertThat(status.getCertificates()).isNull();
    assertThat(serialization.asJson(status)).doesNotContain("certificates");
  }

  @Test
  void everyInvalidExampleNamesTheErrorItExpects() throws IOException {
    for (Path example : files("invalid")) {
      assertThat(Files.readAllLines(example).get(0))
          .as("%s must start with '# expect: <part of the apiserver's error>'", example)
          .startsWith("# expect: ");
    }
  }

  @Test
  void apiDocShowsEveryExampleVerbatim() throws IOException {
    String doc = Files.readString(ROOT.resolve("docs/api.md"));
    for (Path example : Stream.concat(files("valid").stream(), files("invalid").stream()).toList()) {
      String body = Files.readString(example).replaceFirst("^# expect: .*\\n", "");
      assertThat(doc).as("docs/api.md must show %s as it is", EXAMPLES.relativize(example)).contains(body);
    }
  }

  /** Every object of a (possibly multi-document) YAML file, in order. */
  private List<GenericKubernetesResource> objects(Path file) throws IOException {
    return Stream.of(Files.readString(file).split("(?m)^---$"))
        .filter(document -> document.lines().anyMatch(l -> l.startsWith("kind:")))
        .map(document -> serialization.unmarshal(document, GenericKubernetesResource.class))
        .toList();
  }

  private <T> T parse(String name, Class<T> type) throws IOException {
    return serialization.unmarshal(Files.readString(EXAMPLES.resolve(name)), type);
  }

  static List<Path> files(String dir) throws IOException {
    try (Stream<Path> list = Files.list(EXAMPLES.resolve(dir))) {
      return list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
  }
}
