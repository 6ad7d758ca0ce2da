package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.api.v1alpha1.MeshStatus;
import dev.weft.api.v1alpha1.MeshStatusStatus;
import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.demo.MeshIdentities;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.PaymentsMesh;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.testsupport.Closeables;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.sync.NackInjector;
import dev.weft.xds.sync.SyncReportPublisher;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 4's "done when" on real parts: a real kube-apiserver, the xds-server reporting proxy sync
 * state (with the tests' NACK hook around its translators), the operator, and real Envoy sidecars.
 * A TrafficSplit applied with kubectl becomes Programmed and {@code kubectl get meshstatus} shows
 * every proxy synced; the NACK test hook ({@link NackInjector}) makes the client's Envoy reject
 * its config, which shows on the split (with Envoy's error) and in MeshStatus within seconds;
 * removing the annotation clears both. A replica whose report stops being rewritten drops out of
 * the xDS count. A patch reads Pending, then
 * Programmed: one Event each, and never NoProxies while proxies are connected.
 */
@KubeApiServerTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProgrammedStatusTest {

  static final String NS = "progstat";
  static final String XDS_NS = "weft-system";
  static final String CLIENT_NODE = "web." + NS;
  /** "Within seconds", with room for a slow machine. */
  static final Duration BOUND = Duration.ofSeconds(20);
  static final String SPLIT = """
      apiVersion: weft.dev/v1alpha1
      kind: TrafficSplit
      metadata:
        name: payments-canary
        namespace: progstat
      spec:
        service: payments
        backends:
        - service: payments-v1
          weight: 90
        - service: payments-v2
          weight: 10
      """;
  static final String HEADER = "NAME   PROXIES   SYNCED   STALE   NACKED   XDS   CERTS-EXPIRING   AGE";
  /**
   * The operator issues certificates (payments', web's and the xds-server's), 24 h ones, so none is
   * expiring: a real 0, padded to the column's width.
   */
  static final String NO_CERTS = "0" + " ".repeat("CERTS-EXPIRING   ".length() - 1);

  static KubernetesClient operatorClient;
  static MeshIdentities.Mounted xdsIdentity;
  static WeftOperator operator;
  static NackInjector nackHook;
  static XdsServerApp xds;
  static PaymentsMesh mesh;

  @BeforeAll
  static void startMesh(KubeApiServer server, Kubectl kubectl, KubernetesClient client, @TempDir Path mounts)
      throws Exception {
    WeftCrds.install(kubectl);
    kubectl.apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + XDS_NS + "\n").requireSuccess();
    MeshObjects objects = PaymentsMesh.declare(client, NS);
    nackHook = new NackInjector(client, Set.of(NS));
    // The ADS port is mTLS, as the chart runs it: the operator issues the xds-server's certificate
    // first, and each sidecar reaches the xds-server with its own.
    operatorClient = server.newClient();
    operator = WeftOperator.start(operatorClient, new WeftOperator.Config(Set.of(NS),
        new InetSocketAddress("127.0.0.1", 0), Optional.empty()).withXdsNamespaces(Set.of(XDS_NS))
        .withCertificates(Optional.of(CertificateSettings.defaults().withXdsServiceAccount("weft-xds"))));
    String operatorNamespace = client.getNamespace() == null ? "default" : client.getNamespace();
    MeshIdentities identities = new MeshIdentities(client, mounts,
        "spiffe://cluster.local/ns/" + operatorNamespace + "/sa/weft-xds");
    xdsIdentity = identities.mountServiceAccount(operatorNamespace, "weft-xds");
    xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(NS))
        .withXdsTls(xdsIdentity.identityDirectory().toString())
        .withSyncReport(SyncReportPublisher.Settings.of(XDS_NS, "xds-0")
            .withTimings(Duration.ofMillis(200), Duration.ofSeconds(1))), nackHook::around);
    nackHook.start(xds);

    mesh = PaymentsMesh.start(objects, NS, 11, xds.xdsPort(), identities);
  }

  @AfterAll
  static void stopMesh(KubernetesClient client) {
    Closeables.closeAll(mesh, xds, xdsIdentity, operator, nackHook, operatorClient);
  }

  @Test
  @Order(1)
  void appliedSplitIsProgrammedAndMeshStatusShowsEveryProxySynced(Kubectl kubectl, KubernetesClient client) {
    kubectl.apply(SPLIT).requireSuccess();

    Condition programmed = awaitProgrammed(client, c -> c.getStatus() == Condition.Status.True);
    System.out.println("Programmed: " + programmed);
    assertThat(programmed.getReason()).isEqualTo("Programmed");
    assertThat(programmed.getMessage()).matches("applied by (\\d+) of \\1 proxies that need it");
    assertThat(programmed.getObservedGeneration()).isEqualTo(1);

    String table = awaitMeshStatusTable(kubectl, "mesh   3         3        0       0        1     " + NO_CERTS);
    System.out.println("$ kubectl get meshstatus\n" + table);
    System.out.println("$ kubectl get ts -n " + NS + "\n"
        + kubectl.run("get", "ts", "-n", NS).requireSuccess().stdout());
    MeshStatusStatus status = meshStatus(client);
    assertThat(status.getConditions()).extracting(Condition::getType).containsExactly("Ready", "CertificatesIssued");
    assertThat(status.getConditions().get(0)).satisfies(ready -> {
      assertThat(ready.getStatus()).isEqualTo(Condition.Status.True);
      assertThat(ready.getObservedGeneration()).isEqualTo(1);
    });
    assertThat(status.getConditions().get(1)).satisfies(certificates -> {
      assertThat(certificates.getStatus()).isEqualTo(Condition.Status.True);
      assertThat(certificates.getReason()).isEqualTo("Issued");
      assertThat(certificates.getObservedGeneration()).isEqualTo(1);
    });
    assertThat(status.getLastNack()).isNull();
    assertThat(status.getCertificates().getIssued()).as("payments, web and the xds-server").isEqualTo(3);
  }

  @Test
  @Order(2)
  void rejectedConfigShowsOnTheSplitWithEnvoysErrorAndInMeshStatus(Kubectl kubectl, KubernetesClient client) {
    kubectl.run("annotate", "ts", "payments-canary", "-n", NS, "weft.dev/test-reject-on=" + CLIENT_NODE)
        .requireSuccess();
    Instant annotated = Instant.now();

    Condition rejected = awaitProgrammed(client, c -> c.getStatus() == Condition.Status.False);
    Duration onSplit = Duration.between(annotated, Instant.now());
    System.out.println("Programmed after the NACK (" + onSplit.toMillis() + " ms): " + rejected);
    assertThat(rejected.getReason()).isEqualTo("Rejected");
    // Envoy's own words (RE2's, on the regex the hook adds), and the proxy that said them.
    assertThat(rejected.getMessage()).contains(CLIENT_NODE + ": Envoy says: missing ): (weft.dev/test-reject-on");

    String table = awaitMeshStatusTable(kubectl, "mesh   3         2        0       1        1     " + NO_CERTS);
    System.out.println("$ kubectl get meshstatus (" + Duration.between(annotated, Instant.now()).toMillis()
        + " ms after the annotation)\n" + table);
    MeshStatusStatus status = meshStatus(client);
    assertThat(status.getLastNack()).isNotNull();
    assertThat(status.getLastNack().getProxy()).isEqualTo(CLIENT_NODE);
    assertThat(status.getLastNack().getTypeUrl())
        .isEqualTo("type.googleapis.com/envoy.config.route.v3.RouteConfiguration");
    assertThat(status.getLastNack().getMessage()).startsWith("missing ): (weft.dev/test-reject-on");
    assertThat(status.getNackedProxies()).extracting(r -> r.getProxy()).containsExactly(CLIENT_NODE);
    assertThat(status.getConditions().get(0).getReason()).isEqualTo("ProxiesRejected");
    System.out.println("$ kubectl get ts -n " + NS + " (NACKed)\n"
        + kubectl.run("get", "ts", "-n", NS).requireSuccess().stdout());
    String describe = kubectl.run("describe", "meshstatus", "mesh").requireSuccess().stdout();
    System.out.println("$ kubectl describe meshstatus mesh\n" + describe);
    assertThat(describe).contains("Nacked Proxies:").contains(CLIENT_NODE);
  }

  @Test
  @Order(3)
  void removingTheAnnotationClearsBoth(Kubectl kubectl, KubernetesClient client) {
    kubectl.run("annotate", "ts", "payments-canary", "-n", NS, "weft.dev/test-reject-on-").requireSuccess();

    Condition programmed = awaitProgrammed(client, c -> c.getStatus() == Condition.Status.True);
    System.out.println("Programmed after the fix: " + programmed);
    String table = awaitMeshStatusTable(kubectl, "mesh   3         3        0       0        1     " + NO_CERTS);
    System.out.println("$ kubectl get meshstatus (fixed)\n" + table);
    MeshStatusStatus status = meshStatus(client);
    assertThat(status.getLastNack()).isNull();
    assertThat(status.getNackedProxies()).isEmpty();
    assertThat(status.getConditions().get(0).getStatus()).isEqualTo(Condition.Status.True);
  }

  @Test
  @Order(4)
  void replicaWhoseReportStopsIsNoLongerCountedInMeshStatusOrProgrammed(KubernetesClient client) {
    // A second replica that reports once and then dies without deleting its report (a crash).
    // Its one proxy never applied the split, so while the report is fresh the split is Pending.
    String report = """
        {"schemaVersion":1,"replica":"xds-1","updated":"%s","heartbeatSeconds":3,
         "proxies":[{"id":"late.progstat","namespace":"progstat","group":"late","connectedSince":"%<s",
                     "synced":false}],
         "resources":[{"kind":"TrafficSplit","namespace":"progstat","name":"payments-canary","generation":1,
                       "proxies":1,"acked":0,"nacked":[]}],
         "truncated":false}
        """.formatted(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    client.configMaps().inNamespace(XDS_NS).resource(new ConfigMapBuilder()
        .withNewMetadata().withName("weft-xds-sync-xds-1").addToLabels("weft.dev/sync-report", "xds").endMetadata()
        .addToData("report.json", report).build()).create();
    try {
      await("the second replica counts while its report is fresh").atMost(BOUND)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> meshStatus(client).getXdsReplicas(), n -> n == 2);
      Condition pending = awaitProgrammed(client, c -> c.getStatus() == Condition.Status.Unknown);
      System.out.println("xdsReplicas with xds-1 reporting: 2; " + pending);
      assertThat(pending.getReason()).isEqualTo("Pending");
      assertThat(pending.getMessage()).isEqualTo("applied by 3 of 4 proxies that need it; waiting for the rest");
      await("xds-1 drops out 3 heartbeats after its last report").atMost(BOUND)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> meshStatus(client).getXdsReplicas(), n -> n == 1);
      Condition programmed = awaitProgrammed(client, c -> c.getStatus() == Condition.Status.True);
      System.out.println("xdsReplicas once xds-1 stopped reporting: " + meshStatus(client).getXdsReplicas() + "; "
          + programmed);
      assertThat(programmed.getMessage()).isEqualTo("applied by 3 of 3 proxies that need it");
    } finally {
      client.configMaps().inNamespace(XDS_NS).withName("weft-xds-sync-xds-1").delete();
    }
  }

  @Test
  @Order(5)
  void aPatchReadsPendingThenProgrammedAndNeverNoProxies(Kubectl kubectl, KubernetesClient client) {
    List<String> before = programmedEvents(client);

    kubectl.run("patch", "ts", "payments-canary", "-n", NS, "--type=merge", "-p",
        "{\"spec\":{\"backends\":[{\"service\":\"payments-v1\",\"weight\":80},"
            + "{\"service\":\"payments-v2\",\"weight\":20}]}}").requireSuccess();

    Condition programmed = awaitProgrammed(client,
        c -> c.getStatus() == Condition.Status.True && c.getObservedGeneration() == 2);
    assertThat(programmed.getMessage()).matches("applied by (\\d+) of \\1 proxies that need it");
    List<String> all = await("the Events of the rollout").atMost(BOUND).pollInterval(Duration.ofMillis(100))
        .until(() -> programmedEvents(client),
            events -> events.size() > before.size() && events.get(events.size() - 1).startsWith("Programmed "));
    List<String> rollout = all.subList(before.size(), all.size());
    System.out.println("Programmed Events of the patch:\n  " + String.join("\n  ", rollout));
    assertThat(all).as("every Programmed Event of this split").noneMatch(e -> e.startsWith("NoProxies "));
    // One spell of Pending with the connected proxies counted, then Programmed: one Event each.
    assertThat(rollout).hasSize(2);
    assertThat(rollout.get(0)).startsWith("Pending Programmed=Unknown: generation 2 ");
    assertThat(rollout.get(1)).startsWith("Programmed Programmed=True: applied by ");
  }

  /** The Programmed Events of payments-canary, oldest first, as "reason message". */
  private static List<String> programmedEvents(KubernetesClient client) {
    return client.v1().events().inNamespace(NS).withField("involvedObject.name", "payments-canary").list()
        .getItems().stream()
        .filter(e -> e.getMessage() != null && e.getMessage().startsWith("Programmed="))
        .sorted(Comparator.comparing((Event e) -> e.getMetadata().getCreationTimestamp())
            .thenComparing(e -> e.getMetadata().getName()))
        .map(e -> e.getReason() + " " + e.getMessage())
        .toList();
  }

  private static Condition awaitProgrammed(KubernetesClient client, Predicate<Condition> wanted) {
    return await("TrafficSplit payments-canary Programmed").atMost(BOUND).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          TrafficSplit split = client.resources(TrafficSplit.class).inNamespace(NS).withName("payments-canary").get();
          return split == null || split.getStatus() == null ? null
              : split.getStatus().condition("Programmed").orElse(null);
        }, c -> c != null && wanted.test(c));
  }

  /** Waits for the exact table, the AGE value aside, and returns it as printed. */
  private static String awaitMeshStatusTable(Kubectl kubectl, String rowWithoutAge) {
    return await("kubectl get meshstatus shows " + rowWithoutAge.strip()).atMost(BOUND)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> kubectl.run("get", "meshstatus").requireSuccess().stdout(), out -> {
          List<String> lines = out.strip().lines().toList();
          return lines.size() == 2 && lines.get(0).equals(HEADER)
              && lines.get(1).startsWith(rowWithoutAge) && lines.get(1).substring(rowWithoutAge.length())
                  .matches("\\d+[smhd]\\S*");
        });
  }

  private static MeshStatusStatus meshStatus(KubernetesClient client) {
    return client.resources(MeshStatus.class).withName(MeshStatus.NAME).get().getStatus();
  }
}
