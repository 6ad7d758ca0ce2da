package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.Traffic;
import dev.weft.demo.WeftCrds;
import dev.weft.testsupport.Closeables;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The canary seen by a second, independent xDS client: grpc-java's proxyless xDS ({@code grpc-xds},
 * an {@code xds:///} target) reads the same TrafficSplit from the same xds-server as the Envoys of
 * {@link CanaryTest} and calls the gRPC backends directly, with no sidecar anywhere.
 */
@KubeApiServerTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProxylessGrpcTest {

  static final String NS = "grpc-canary";
  static final String PORT_NAME = "grpc";
  static final int SERVICE_PORT = 50051;
  /** What the channel dials: the name grpc-java asks the xds-server for as an LDS resource. */
  static final String TARGET = "xds:///greeter." + NS + ".svc.cluster.local:" + SERVICE_PORT;
  static final String NODE_ID = "greeter-client." + NS;
  static final String BOOTSTRAP_CONFIG_PROPERTY = "io.grpc.xds.bootstrapConfig";
  static final String SPLIT = """
      apiVersion: weft.dev/v1alpha1
      kind: TrafficSplit
      metadata:
        name: greeter-canary
        namespace: grpc-canary
      spec:
        service: greeter
        backends:
        - service: greeter-v1
          weight: %d
        - service: greeter-v2
          weight: %d
      """;

  static XdsServerApp xds;
  static GrpcBackend v1;
  static GrpcBackend v2;
  static ManagedChannel channel;

  @BeforeAll
  static void startMesh(Kubectl kubectl, KubernetesClient client) throws Exception {
    WeftCrds.install(kubectl);
    MeshObjects objects = new MeshObjects(client, NS);
    objects.createNamespace();
    for (String service : List.of("greeter", "greeter-v1", "greeter-v2")) {
      objects.service(service, SERVICE_PORT, PORT_NAME);
    }
    // Addresses of their own (LocalPods use 127.0.10.x), as pods have; the client dials them directly.
    v1 = GrpcBackend.start("greeter-v1", "127.0.11.1");
    v2 = GrpcBackend.start("greeter-v2", "127.0.11.2");
    // The root Service selects the stable pods only (the Flagger "primary" pattern).
    objects.endpoints("greeter", PORT_NAME, List.of(v1.address()));
    objects.endpoints("greeter-v1", PORT_NAME, List.of(v1.address()));
    objects.endpoints("greeter-v2", PORT_NAME, List.of(v2.address()));
    xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS)));

    // grpc-java reads a bootstrap file named in the environment or a property, then the
    // GRPC_XDS_BOOTSTRAP_CONFIG variable, before this property; any of those would win silently.
    assertThat(System.getenv("GRPC_XDS_BOOTSTRAP")).as("GRPC_XDS_BOOTSTRAP must be unset").isNull();
    assertThat(System.getProperty("io.grpc.xds.bootstrap")).as("io.grpc.xds.bootstrap must be unset").isNull();
    assertThat(System.getenv("GRPC_XDS_BOOTSTRAP_CONFIG")).as("GRPC_XDS_BOOTSTRAP_CONFIG must be unset").isNull();
    // Read when the first xds:/// channel resolves and cached for the JVM's lifetime, so a second
    // class in this fork that needs another xds-server cannot use the property this way.
    System.setProperty(BOOTSTRAP_CONFIG_PROPERTY, bootstrap(xds.xdsPort()));
    channel = Grpc.newChannelBuilder(TARGET, InsecureChannelCredentials.create()).build();

    await("greeter answers over proxyless xDS")
        .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> callOnce().equals("greeter-v1"));
  }

  @AfterAll
  static void stopMesh() {
    if (channel != null) {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Closeables.closeAll(v2, v1, xds);
    System.clearProperty(BOOTSTRAP_CONFIG_PROPERTY);
  }

  @Test
  @Order(1)
  void splitsCallsNinetyTen(Kubectl kubectl) throws Exception {
    kubectl.apply(SPLIT.formatted(90, 10)).requireSuccess();
    await("greeter-v2 answers for greeter once the split is served")
        .atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
        .until(() -> callOnce().equals("greeter-v2"));

    Traffic.Tally tally = call(2000);

    System.out.println("proxyless gRPC, TrafficSplit 90/10, 2000 calls: " + tally);
    assertThat(tally.failures()).isEmpty();
    assertThat(tally.share("greeter-v2")).isBetween(0.075, 0.125);
    assertThat(tally.count("greeter-v1") + tally.count("greeter-v2")).isEqualTo(2000);
    assertAcceptedEverything();
  }

  @Test
  @Order(2)
  void movesToFiftyFiftyWithinTwoSecondsOfThePatch(Kubectl kubectl) throws Exception {
    kubectl.run("patch", "trafficsplit", "greeter-canary", "-n", NS, "--type=json", "-p",
        "[{\"op\":\"replace\",\"path\":\"/spec/backends/0/weight\",\"value\":50},"
            + "{\"op\":\"replace\",\"path\":\"/spec/backends/1/weight\",\"value\":50}]").requireSuccess();
    Instant patched = Instant.now();

    // The promise is about calls made from 2 s after the patch on, so wait exactly that long.
    await().pollDelay(Duration.between(Instant.now(), patched.plusSeconds(2))).until(() -> true);
    Traffic.Tally tally = call(2000);

    System.out.println("proxyless gRPC, TrafficSplit patched to 50/50, 2000 calls from 2 s after the patch: "
        + tally);
    assertThat(tally.failures()).isEmpty();
    assertThat(tally.share("greeter-v2")).isBetween(0.45, 0.55);
    assertAcceptedEverything();
  }

  @Test
  @Order(3)
  void takesARuleTimeoutAsTheCallDeadline(Kubectl kubectl) throws Exception {
    String deadline = """
        apiVersion: weft.dev/v1alpha1
        kind: VirtualService
        metadata:
          name: greeter-deadline
          namespace: grpc-canary
        spec:
          service: greeter
          rules:
          - name: bounded
            timeout: 300ms
        """;
    kubectl.apply(deadline).requireSuccess();
    try {
      // The call itself allows 5 s: only the route's max_stream_duration can end it at 300 ms.
      String slow = await("a 1.5 s call ends at the VirtualService's 300 ms")
          .atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> callOnce(GrpcBackend.SLEEP + 1500), answer -> answer.startsWith("FAILED"));
      System.out.println("proxyless gRPC, VirtualService timeout 300ms, a 1.5 s call: " + slow);
      assertThat(slow).contains("DEADLINE_EXCEEDED");
      assertThat(callOnce()).startsWith("greeter-v");
      assertAcceptedEverything();
    } finally {
      kubectl.delete(deadline).requireSuccess();
    }
    await("without the VirtualService the 1.5 s call completes")
        .atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
        .until(() -> callOnce(GrpcBackend.SLEEP + 1500), answer -> answer.startsWith("greeter-v"));
  }

  @Test
  @Order(4)
  void retriesAnUnavailableServerAsTheVirtualServiceAsks(Kubectl kubectl) throws Exception {
    String retries = """
        apiVersion: weft.dev/v1alpha1
        kind: VirtualService
        metadata:
          name: greeter-retries
          namespace: grpc-canary
        spec:
          service: greeter
          rules:
          - name: retried
            retries:
              attempts: 2
        """;
    AtomicInteger keys = new AtomicInteger();
    kubectl.apply(retries).requireSuccess();
    try {
      // Each call's first attempt fails with UNAVAILABLE; only a retry from the xDS policy succeeds.
      String retried = await("a call whose first attempt fails succeeds on the retry")
          .atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> callOnce(GrpcBackend.FAIL_FIRST + "with-" + keys.incrementAndGet()),
              answer -> answer.startsWith("greeter-v"));
      System.out.println("proxyless gRPC, VirtualService retries (attempts 2, default conditions -> unavailable): "
          + "first attempt UNAVAILABLE, answered by " + retried);
      assertAcceptedEverything();
    } finally {
      kubectl.delete(retries).requireSuccess();
    }
    String unretried = await("without the VirtualService the failure reaches the caller")
        .atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
        .until(() -> callOnce(GrpcBackend.FAIL_FIRST + "without-" + keys.incrementAndGet()),
            answer -> answer.startsWith("FAILED"));
    assertThat(unretried).contains("UNAVAILABLE");
  }

  @Test
  @Order(5)
  void routesByARegexOfTheRe2SyntaxWeftOnceRefused(Kubectl kubectl) throws Exception {
    // \pL, \Q...\E and (?P<name>...) are RE2 that the old hand parser refused; grpc-java compiles
    // route regexes with RE2/J and rejects the whole update on one it cannot compile.
    String pinned = """
        apiVersion: weft.dev/v1alpha1
        kind: VirtualService
        metadata:
          name: greeter-regex
          namespace: grpc-canary
        spec:
          service: greeter
          rules:
          - name: who-am-i-to-v2
            matches:
            - path:
                type: RegularExpression
                value: '/(?P<package>\\pL+)\\.e2e\\.\\QWhoAmI\\E/\\pL+'
            backends:
            - service: greeter-v2
        """;
    kubectl.apply(pinned).requireSuccess();
    try {
      await("every call goes to greeter-v2 once the regex rule is served")
          .atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> call(20).count("greeter-v2") == 20);
      Traffic.Tally tally = call(100);
      System.out.println("proxyless gRPC, VirtualService path regex with \\pL, \\Q..\\E, (?P<name>..): " + tally);
      assertThat(tally.answers()).containsOnlyKeys("greeter-v2");
      assertThat(tally.failures()).isEmpty();
      assertAcceptedEverything();
    } finally {
      kubectl.delete(pinned).requireSuccess();
    }
  }

  /**
   * The bootstrap grpc-java would read from {@code GRPC_XDS_BOOTSTRAP}: the xds-server over
   * plaintext, and node metadata that puts the client in the proxyless group of its namespace.
   */
  static String bootstrap(int xdsPort) throws IOException {
    Map<String, Object> bootstrap = Map.of(
        "xds_servers", List.of(Map.of(
            "server_uri", "127.0.0.1:" + xdsPort,
            "channel_creds", List.of(Map.of("type", "insecure")),
            "server_features", List.of("xds_v3"))),
        "node", Map.of(
            "id", NODE_ID,
            "metadata", Map.of(
                "WEFT_NAMESPACE", NS,
                "WEFT_SERVICE_ACCOUNT", "greeter-client",
                "WEFT_PROXYLESS", true)));
    return new ObjectMapper().writeValueAsString(bootstrap);
  }

  private static Traffic.Tally call(int count) {
    Traffic.Tally tally = new Traffic.Tally();
    for (int i = 0; i < count; i++) {
      tally.add(callOnce());
    }
    return tally;
  }

  /** One call; the backend's name, or a description of the failure starting with "FAILED". */
  private static String callOnce() {
    return callOnce("who are you?");
  }

  private static String callOnce(String request) {
    try {
      return ClientCalls.blockingUnaryCall(channel, GrpcBackend.WHO_AM_I,
          CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), request);
    } catch (StatusRuntimeException e) {
      return "FAILED " + e.getStatus();
    }
  }

  /** grpc-java acknowledged every resource type it subscribed to and never rejected one. */
  private static void assertAcceptedEverything() throws Exception {
    await("the proxyless client has applied the newest config of its group")
        .atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> client().path("synced").asBoolean());
    JsonNode client = client();
    assertThat(client.path("lastNack").isNull()).as("NACK from grpc-java: %s", client.path("lastNack")).isTrue();
    assertThat(client.path("types")).as("subscribed types").hasSize(4);
  }

  /** The proxyless client as the xds-server's debug endpoint reports it. */
  private static JsonNode client() throws IOException, InterruptedException {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + xds.debugPagesPort() + "/debug/proxies")).build(),
        HttpResponse.BodyHandlers.ofString());
    JsonNode proxies = new ObjectMapper().readTree(response.body()).path("proxies");
    return StreamSupport.stream(proxies.spliterator(), false)
        .filter(p -> p.path("nodeId").asText().equals(NODE_ID))
        .findFirst()
        .orElseThrow(() -> new AssertionError(NODE_ID + " is not connected: " + response.body()));
  }
}
