package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.api.v1alpha1.AccessPolicy;
import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.ResourceStatus;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The operator in-process on a real kube-apiserver: Services and mesh resources are applied with
 * the real kubectl, as a user would, and the conditions, messages, Events and printer columns the
 * operator writes are read back. Ends with leader failover between two more instances.
 */
@KubeApiServerTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorValidationTest {

  static final String NS = "opval";
  static final String FAILOVER_NS = "opval-failover";
  static final Duration BOUND = Duration.ofSeconds(30);

  static KubernetesClient operatorClient;
  static WeftOperator operator;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void startOperator(KubeApiServer server, Kubectl kubectl) throws IOException {
    WeftCrds.install(kubectl);
    kubectl.apply(namespace(NS) + "---\n" + namespace(FAILOVER_NS)).requireSuccess();
    operatorClient = server.newClient();
    operator = WeftOperator.start(operatorClient, config(NS, "op-main"));
  }

  @AfterAll
  static void stopOperator() {
    if (operator != null) {
      operator.close();
    }
    if (operatorClient != null) {
      operatorClient.close();
    }
  }

  @Test
  @Order(1)
  void missingBackendIsReportedAndCreatingTheServiceResolvesItWithoutTouchingTheSplit(Kubectl kubectl,
      KubernetesClient client) {
    apply(kubectl, service(NS, "pay", 80) + service(NS, "pay-v1", 80) + """
        apiVersion: weft.dev/v1alpha1
        kind: TrafficSplit
        metadata:
          name: pay-canary
          namespace: opval
        spec:
          service: pay
          backends:
          - service: pay-v1
            weight: 90
          - service: pay-v2
            weight: 10
        """);

    Condition missing = awaitCondition(client, TrafficSplit.class, NS, "pay-canary", "ResolvedRefs", c -> {
      assertThat(c.getStatus()).isEqualTo(Condition.Status.False);
      assertThat(c.getReason()).isEqualTo("BackendNotFound");
    });
    assertThat(missing.getMessage())
        .isEqualTo("spec.backends[1].service: Service opval/pay-v2 does not exist; create it or remove the backend");
    assertThat(missing.getObservedGeneration()).isEqualTo(1);
    TrafficSplit before = client.resources(TrafficSplit.class).inNamespace(NS).withName("pay-canary").get();
    Condition acceptedBefore = before.getStatus().condition("Accepted").orElseThrow();
    assertThat(acceptedBefore.getStatus()).isEqualTo(Condition.Status.True);
    assertThat(before.getStatus().getObservedGeneration()).isEqualTo(1);

    apply(kubectl, service(NS, "pay-v2", 80));

    Condition resolved = awaitCondition(client, TrafficSplit.class, NS, "pay-canary", "ResolvedRefs",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.True));
    assertThat(resolved.getReason()).isEqualTo("ResolvedRefs");
    TrafficSplit after = client.resources(TrafficSplit.class).inNamespace(NS).withName("pay-canary").get();
    assertThat(after.getMetadata().getGeneration()).as("the spec was not written").isEqualTo(1);
    assertThat(after.getSpec()).isEqualTo(before.getSpec());
    assertThat(after.getStatus().condition("Accepted").orElseThrow().getLastTransitionTime())
        .as("Accepted stayed True, so its transition time stays").isEqualTo(acceptedBefore.getLastTransitionTime());

    CommandResult describe = kubectl.run("describe", "ts", "pay-canary", "-n", NS).requireSuccess();
    System.out.println(describe.stdout());
    assertThat(describe.stdout()).containsPattern("Warning\\s+BackendNotFound\\s+.*weft-operator\\s+"
        + "ResolvedRefs=False: spec.backends\\[1]\\.service: Service opval/pay-v2 does not exist");
    assertThat(describe.stdout()).containsPattern("Normal\\s+ResolvedRefs\\s+.*weft-operator\\s+ResolvedRefs=True");
  }

  @Test
  @Order(2)
  void secondSplitForOneRootIsConflictedNamingTheOlderAndTakesOverWhenItGoes(Kubectl kubectl,
      KubernetesClient client) {
    apply(kubectl, service(NS, "cart", 80) + service(NS, "cart-v1", 80) + service(NS, "cart-v2", 80)
        + split(NS, "cart-a", "cart", "cart-v1"));
    awaitCondition(client, TrafficSplit.class, NS, "cart-a", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.True));
    // Created in the same second, the two would still tie-break by name, and cart-a would win.
    apply(kubectl, split(NS, "cart-b", "cart", "cart-v2"));

    Condition conflicted = awaitCondition(client, TrafficSplit.class, NS, "cart-b", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.False));
    assertThat(conflicted.getReason()).isEqualTo("Conflicted");
    assertThat(conflicted.getMessage()).isEqualTo("spec.service: conflicts with the older TrafficSplit opval/cart-a "
        + "for Service opval/cart, and the oldest one wins; delete one of them or merge their backends into one "
        + "TrafficSplit");
    await("cart-a names the split it refuses").atMost(BOUND).untilAsserted(() ->
        assertThat(condition(client, TrafficSplit.class, NS, "cart-a", "Accepted").orElseThrow().getMessage())
            .contains("newer ones are refused (opval/cart-b)"));

    CommandResult table = kubectl.run("get", "ts", "-n", NS).requireSuccess();
    System.out.println(table.stdout());
    assertThat(table.stdout().lines().findFirst().orElseThrow().split("\\s+"))
        .containsExactly("NAME", "SERVICE", "ACCEPTED", "PROGRAMMED", "AGE");
    assertThat(table.stdout()).containsPattern("(?m)^cart-a\\s+cart\\s+True\\s")
        .containsPattern("(?m)^cart-b\\s+cart\\s+False\\s");

    kubectl.run("delete", "ts", "cart-a", "-n", NS).requireSuccess();

    awaitCondition(client, TrafficSplit.class, NS, "cart-b", "Accepted", c -> {
      assertThat(c.getStatus()).isEqualTo(Condition.Status.True);
      assertThat(c.getMessage())
          .isEqualTo("the spec is valid and this is the only TrafficSplit for Service opval/cart");
    });
  }

  @Test
  @Order(3)
  void ofTwoSplitsThatWouldNestTheNewerIsConflictedAndTheOlderKeepsServing(Kubectl kubectl, KubernetesClient client) {
    // The outer split first: a newer split of one of its backends must not knock it out.
    apply(kubectl, service(NS, "web", 80) + service(NS, "web-v1", 80) + service(NS, "web-v2", 80)
        + service(NS, "web-v2a", 80) + split(NS, "web-canary", "web", "web-v1", "web-v2"));
    Condition live = awaitCondition(client, TrafficSplit.class, NS, "web-canary", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.True));
    // Created in the same second, the two would tie-break by name, and web-canary would still be older.
    apply(kubectl, split(NS, "web-v2-split", "web-v2", "web-v2a"));

    Condition inner = awaitCondition(client, TrafficSplit.class, NS, "web-v2-split", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.False));
    assertThat(inner.getReason()).isEqualTo("Conflicted");
    assertThat(inner.getMessage()).isEqualTo("spec.service: Service opval/web-v2 is a backend of the older "
        + "TrafficSplit opval/web-canary (its spec.backends[1]), and splits do not nest, so the older one applies; "
        + "put these backends into opval/web-canary in place of web-v2, or delete one of the two splits");
    Condition outer = awaitCondition(client, TrafficSplit.class, NS, "web-canary", "Accepted",
        c -> assertThat(c.getMessage()).contains("so the newer TrafficSplit opval/web-v2-split is refused"));
    assertThat(outer.getStatus()).isEqualTo(Condition.Status.True);
    assertThat(outer.getLastTransitionTime()).as("the live split never left True")
        .isEqualTo(live.getLastTransitionTime());

    // The inner split first: a newer split that names its root as a backend is the one refused.
    apply(kubectl, service(NS, "img", 80) + service(NS, "img-v1", 80) + service(NS, "img-v2", 80)
        + service(NS, "img-v2a", 80) + split(NS, "img-a-v2", "img-v2", "img-v2a"));
    awaitCondition(client, TrafficSplit.class, NS, "img-a-v2", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.True));
    apply(kubectl, split(NS, "img-b-canary", "img", "img-v1", "img-v2"));

    Condition nested = awaitCondition(client, TrafficSplit.class, NS, "img-b-canary", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.False));
    assertThat(nested.getReason()).isEqualTo("Conflicted");
    assertThat(nested.getMessage()).startsWith("spec.backends[1].service: Service opval/img-v2 is the root of the "
        + "older TrafficSplit opval/img-a-v2, and splits do not nest");
    assertThat(condition(client, TrafficSplit.class, NS, "img-a-v2", "Accepted").orElseThrow().getStatus())
        .isEqualTo(Condition.Status.True);

    kubectl.run("delete", "ts", "img-a-v2", "-n", NS).requireSuccess();

    awaitCondition(client, TrafficSplit.class, NS, "img-b-canary", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.True));
  }

  @Test
  @Order(4)
  void newerVirtualServiceForOnePortIsConflictedAndATrafficSplitForTheSameServiceIsAllowed(Kubectl kubectl,
      KubernetesClient client) {
    apply(kubectl, service(NS, "shop", 80) + service(NS, "shop-v1", 80) + service(NS, "shop-v2", 80)
        + split(NS, "shop-canary", "shop", "shop-v1", "shop-v2") + routes(NS, "shop-routes", "shop", "shop-v2"));
    Condition accepted = awaitCondition(client, VirtualService.class, NS, "shop-routes", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.True));
    assertThat(accepted.getMessage()).endsWith("its rules are tried first, and requests that match no rule, or a "
        + "rule without backends, go through TrafficSplit opval/shop-canary");
    awaitCondition(client, TrafficSplit.class, NS, "shop-canary", "Accepted", c -> {
      assertThat(c.getStatus()).isEqualTo(Condition.Status.True);
      assertThat(c.getMessage()).contains("VirtualService opval/shop-routes also routes shop and comes first");
    });

    apply(kubectl, routes(NS, "shop-routes-v2", "shop", "shop-v1"));

    Condition conflicted = awaitCondition(client, VirtualService.class, NS, "shop-routes-v2", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.False));
    assertThat(conflicted.getReason()).isEqualTo("Conflicted");
    assertThat(conflicted.getMessage()).isEqualTo("spec.service: conflicts on port 80 of Service opval/shop with the "
        + "older VirtualService opval/shop-routes, and the oldest one wins; merge the rules into one VirtualService");
  }

  @Test
  @Order(5)
  void olderVirtualServiceTakesThePortOnceItsBackendAppears(Kubectl kubectl, KubernetesClient client) {
    // As in the translator: an older VirtualService that cannot be applied blocks nobody.
    apply(kubectl, service(NS, "orders", 80) + service(NS, "orders-v1", 80)
        + routes(NS, "orders-a", "orders", "orders-v2"));
    awaitCondition(client, VirtualService.class, NS, "orders-a", "ResolvedRefs",
        c -> assertThat(c.getReason()).isEqualTo("BackendNotFound"));
    apply(kubectl, routes(NS, "orders-b", "orders", "orders-v1"));
    awaitCondition(client, VirtualService.class, NS, "orders-b", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.True));

    apply(kubectl, service(NS, "orders-v2", 80));

    Condition conflicted = awaitCondition(client, VirtualService.class, NS, "orders-b", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.False));
    assertThat(conflicted.getMessage()).contains("with the older VirtualService opval/orders-a");
  }

  @Test
  @Order(6)
  void regexEnvoyWouldRejectIsRefusedWithTheTranslatorsReason(Kubectl kubectl, KubernetesClient client) {
    apply(kubectl, service(NS, "search", 80) + """
        apiVersion: weft.dev/v1alpha1
        kind: VirtualService
        metadata:
          name: search-routes
          namespace: opval
        spec:
          service: search
          rules:
          - name: v2-only
            matches:
            - path:
                type: RegularExpression
                value: /api/(?=v2).*
        """);

    Condition invalid = awaitCondition(client, VirtualService.class, NS, "search-routes", "Accepted",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.False));
    assertThat(invalid.getReason()).isEqualTo("Invalid");
    assertThat(invalid.getMessage()).startsWith("spec.rules[0].matches[0].path.value: not a regular expression Weft "
        + "accepts (RE2 syntax): lookahead (?= or (?! is not supported by RE2");
    assertThat(condition(client, VirtualService.class, NS, "search-routes", "ResolvedRefs").orElseThrow().getStatus())
        .isEqualTo(Condition.Status.True);
  }

  @Test
  @Order(7)
  void accessPolicyNamingAPortTheServiceLacksIsReported(Kubectl kubectl, KubernetesClient client) {
    apply(kubectl, service(NS, "ledger", 80) + """
        apiVersion: weft.dev/v1alpha1
        kind: AccessPolicy
        metadata:
          name: ledger-callers
          namespace: opval
        spec:
          service: ledger
          rules:
          - from:
            - serviceAccount: checkout
            to:
              ports: [80, 9090]
        """);

    Condition mismatch = awaitCondition(client, AccessPolicy.class, NS, "ledger-callers", "ResolvedRefs",
        c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.False));
    assertThat(mismatch.getReason()).isEqualTo("PortMismatch");
    assertThat(mismatch.getMessage()).isEqualTo("spec.rules[0].to.ports[1]: Service opval/ledger has no port 9090; "
        + "its ports are [80]; use one of them or remove the port");
  }

  @Test
  @Order(8)
  void servesProbesAndMetrics() throws Exception {
    assertThat(get(operator, "/healthz").statusCode()).isEqualTo(200);
    assertThat(get(operator, "/readyz").statusCode()).isEqualTo(200);
    String metrics = get(operator, "/metrics").body();
    assertThat(metrics)
        .contains("weft_operator_reconcile_duration_seconds_count{kind=\"TrafficSplit\",operation=\"reconcile\","
            + "outcome=\"success\"}")
        .contains("weft_operator_validation_failures_total{condition=\"ResolvedRefs\",kind=\"TrafficSplit\","
            + "reason=\"BackendNotFound\"}")
        .contains("weft_operator_validation_failures_total{condition=\"Accepted\",kind=\"TrafficSplit\","
            + "reason=\"Conflicted\"}")
        .contains("weft_operator_leader 1.0");
  }

  @Test
  @Order(100)
  void onlyTheLeaseHolderReconcilesAndTheStandbyTakesOverWhenItStops(KubeApiServer server, Kubectl kubectl,
      KubernetesClient client) throws Exception {
    try (KubernetesClient clientA = server.newClient(); KubernetesClient clientB = server.newClient()) {
      WeftOperator a = WeftOperator.start(clientA, config(FAILOVER_NS, "op-a"));
      WeftOperator b = null;
      try {
        await("op-a holds the Lease").atMost(BOUND).untilAsserted(() ->
            assertThat(leaseHolder(client)).isEqualTo("op-a"));
        b = WeftOperator.start(clientB, config(FAILOVER_NS, "op-b"));
        assertThat(get(b, "/readyz").statusCode()).as("a standby with synced informers is ready").isEqualTo(200);

        apply(kubectl, service(FAILOVER_NS, "api", 80) + service(FAILOVER_NS, "api-v1", 80)
            + split(FAILOVER_NS, "api-canary", "api", "api-v1", "api-v2"));
        awaitCondition(client, TrafficSplit.class, FAILOVER_NS, "api-canary", "ResolvedRefs",
            c -> assertThat(c.getReason()).isEqualTo("BackendNotFound"));
        assertThat(get(a, "/metrics").body()).contains("weft_operator_leader 1.0")
            .contains("weft_operator_reconcile_duration_seconds_count{kind=\"TrafficSplit\"");
        assertThat(get(b, "/metrics").body()).as("the standby reconciled nothing")
            .contains("weft_operator_leader 0.0")
            .doesNotContain("weft_operator_reconcile_duration_seconds_count");

        a.close();

        await("op-b takes the Lease over").atMost(BOUND).untilAsserted(() ->
            assertThat(leaseHolder(client)).isEqualTo("op-b"));
        apply(kubectl, service(FAILOVER_NS, "api-v2", 80) + split(FAILOVER_NS, "api-other", "api", "api-v2"));
        awaitCondition(client, TrafficSplit.class, FAILOVER_NS, "api-canary", "ResolvedRefs",
            c -> assertThat(c.getStatus()).isEqualTo(Condition.Status.True));
        awaitCondition(client, TrafficSplit.class, FAILOVER_NS, "api-other", "Accepted",
            c -> assertThat(c.getReason()).isEqualTo("Conflicted"));
        WeftOperator standby = b;
        await("op-b reports itself leader").atMost(BOUND).untilAsserted(() ->
            assertThat(get(standby, "/metrics").body()).contains("weft_operator_leader 1.0")
                .contains("weft_operator_reconcile_duration_seconds_count{kind=\"TrafficSplit\""));
      } finally {
        a.close();
        if (b != null) {
          b.close();
        }
      }
    }
  }

  static WeftOperator.Config config(String namespace, String identity) {
    // Short timings bound the test should the Lease not be handed over on close.
    return new WeftOperator.Config(Set.of(namespace), new InetSocketAddress("127.0.0.1", 0), Optional.of(
        WeftOperator.LeaderElection.of(namespace, identity)
            .withTimings(Duration.ofSeconds(6), Duration.ofSeconds(4), Duration.ofMillis(500))));
  }

  static <P extends CustomResource<?, ResourceStatus>> Condition awaitCondition(KubernetesClient client,
      Class<P> kind, String namespace, String name, String type, Consumer<Condition> requirement) {
    return await(kind.getSimpleName() + " " + namespace + "/" + name + " condition " + type)
        .atMost(BOUND).pollInterval(Duration.ofMillis(100))
        .until(() -> condition(client, kind, namespace, name, type), found -> {
          if (found.isEmpty()) {
            return false;
          }
          try {
            requirement.accept(found.get());
            return true;
          } catch (AssertionError notYet) {
            return false;
          }
        }).orElseThrow();
  }

  static <P extends CustomResource<?, ResourceStatus>> Optional<Condition> condition(KubernetesClient client,
      Class<P> kind, String namespace, String name, String type) {
    P resource = client.resources(kind).inNamespace(namespace).withName(name).get();
    if (resource == null || resource.getStatus() == null) {
      return Optional.empty();
    }
    return resource.getStatus().condition(type);
  }

  static String leaseHolder(KubernetesClient client) {
    Lease lease = client.resources(Lease.class).inNamespace(FAILOVER_NS).withName("weft-operator").get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  static HttpResponse<String> get(WeftOperator instance, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + instance.httpPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static void apply(Kubectl kubectl, String yaml) {
    kubectl.apply(yaml).requireSuccess();
  }

  static String namespace(String name) {
    return """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: %s
        """.formatted(name);
  }

  static String service(String namespace, String name, int port) {
    return """
        apiVersion: v1
        kind: Service
        metadata:
          name: %s
          namespace: %s
        spec:
          ports:
          - name: http
            port: %d
        ---
        """.formatted(name, namespace, port);
  }

  static String split(String namespace, String name, String root, String... backends) {
    StringBuilder yaml = new StringBuilder("""
        apiVersion: weft.dev/v1alpha1
        kind: TrafficSplit
        metadata:
          name: %s
          namespace: %s
        spec:
          service: %s
          backends:
        """.formatted(name, namespace, root));
    for (String backend : backends) {
      yaml.append("  - service: ").append(backend).append("\n    weight: 1\n");
    }
    return yaml.append("---\n").toString();
  }

  static String routes(String namespace, String name, String service, String canaryBackend) {
    return """
        apiVersion: weft.dev/v1alpha1
        kind: VirtualService
        metadata:
          name: %s
          namespace: %s
        spec:
          service: %s
          rules:
          - name: canary-header
            matches:
            - headers:
              - name: x-canary
                value: "true"
            backends:
            - service: %s
        ---
        """.formatted(name, namespace, service, canaryBackend);
  }
}
