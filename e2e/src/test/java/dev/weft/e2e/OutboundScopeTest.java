package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.demo.LocalPod;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.PaymentsMesh;
import dev.weft.demo.Traffic;
import dev.weft.demo.WeftCrds;
import dev.weft.testsupport.Closeables;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Outbound scoping on real parts: a real kube-apiserver, the xds-server, and real Envoy sidecars in
 * two namespaces. Annotating the client's namespace with {@code weft.dev/outbound-namespaces}
 * (with kubectl, as a user would) takes the other namespace's Services out of its sidecar's config
 * while its own keep serving, and naming the other namespace brings them back.
 */
@KubeApiServerTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OutboundScopeTest {

  static final String SHOP = "scope-shop";
  static final String ADS = "scope-ads";
  static final String ADS_HOST = "ads." + ADS;
  private static final Pattern CLUSTER = Pattern.compile("\"name\": \"(outbound\\|[^\"]+)\"");

  static XdsServerApp xds;
  static PaymentsMesh mesh;
  static LocalPod ads;

  @BeforeAll
  static void startMesh(Kubectl kubectl, KubernetesClient client) throws Exception {
    WeftCrds.install(kubectl);
    MeshObjects shopObjects = PaymentsMesh.declare(client, SHOP);
    MeshObjects adsObjects = new MeshObjects(client, ADS);
    adsObjects.createNamespace();
    adsObjects.service("ads", 80);
    xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(SHOP, ADS)));
    mesh = PaymentsMesh.start(shopObjects, SHOP, 21, xds.xdsPort());
    ads = LocalPod.serving("ads", ADS, "ads", "127.0.21.31", xds.xdsPort(), Transport.DELTA);
    adsObjects.endpoints("ads", List.of(ads), List.of());
  }

  @AfterAll
  static void stopMesh() {
    Closeables.closeAll(ads, mesh, xds);
  }

  @Test
  @Order(1)
  void unscopedASidecarRoutesToEveryNamespace() {
    await("ads answers through the client sidecar").atMost(Duration.ofSeconds(30))
        .until(() -> mesh.traffic.sendOne(ADS_HOST).equals("ads"));

    assertThat(clusterNamespaces()).contains(SHOP, ADS);
  }

  @Test
  @Order(2)
  void scopedToItsOwnNamespaceTheOtherNamespacesServicesLeaveItsConfig(Kubectl kubectl) {
    int unscoped = outboundClusters().size();
    kubectl.run("annotate", "namespace", SHOP, "weft.dev/outbound-namespaces=").requireSuccess();

    await("scope-ads leaves web's sidecar").atMost(Duration.ofSeconds(30))
        .until(() -> !clusterNamespaces().contains(ADS));
    Traffic.Tally payments = mesh.traffic.send("payments", 200);
    String toAds = mesh.traffic.sendOne(ADS_HOST);

    System.out.println("outbound scope: web's sidecar holds " + unscoped + " outbound clusters unscoped, "
        + outboundClusters().size() + " scoped to " + SHOP + "; payments: " + payments + "; ads: " + toAds);
    assertThat(payments.failures()).isEmpty();
    assertThat(payments.total()).isEqualTo(200);
    // Its Host matches no virtual host but the passthrough's, which a loopback sidecar cannot use.
    assertThat(toAds).as("a Service out of scope is not routed to").startsWith("FAILED");
    assertThat(clusterNamespaces()).containsExactly(SHOP);
  }

  @Test
  @Order(3)
  void namingTheOtherNamespaceBringsItsServicesBack(Kubectl kubectl) {
    kubectl.run("annotate", "--overwrite", "namespace", SHOP, "weft.dev/outbound-namespaces=" + ADS).requireSuccess();

    await("ads answers through the client sidecar again").atMost(Duration.ofSeconds(30))
        .until(() -> mesh.traffic.sendOne(ADS_HOST).equals("ads"));

    assertThat(clusterNamespaces()).containsExactlyInAnyOrder(SHOP, ADS);
    assertThat(mesh.traffic.send("payments", 50).failures()).isEmpty();
  }

  /** The names of the outbound clusters web's sidecar holds. */
  private static List<String> outboundClusters() {
    Matcher matcher = CLUSTER.matcher(mesh.web.sidecar().configDump("dynamic_active_clusters"));
    return matcher.results().map(m -> m.group(1)).distinct().toList();
  }

  /** The namespaces of the Services web's sidecar has clusters for. */
  private static Set<String> clusterNamespaces() {
    return new TreeSet<>(outboundClusters().stream().map(name -> name.split("\\.")[1]).toList());
  }
}
