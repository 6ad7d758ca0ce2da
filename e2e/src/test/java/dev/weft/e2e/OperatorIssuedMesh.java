package dev.weft.e2e;

import static org.awaitility.Awaitility.await;

import dev.weft.demo.LocalPod;
import dev.weft.demo.MeshIdentities;
import dev.weft.demo.MeshObjects;
import dev.weft.demo.Traffic;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.testsupport.Kubectl;
import dev.weft.xds.XdsServerApp;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The mesh the certificate-lifecycle tests rotate under load: the operator started in-process with
 * the given certificate settings, the xds-server serving ADS over mTLS with its operator-issued
 * certificate (as in the chart), and two local pods, payments-1 (serving) and web-1 (client), whose
 * sidecars get the translated config and read the operator's Secrets through SDS as a kubelet would
 * mount them. Ready when payments answers through web's sidecar.
 */
final class OperatorIssuedMesh implements AutoCloseable {

  static final String XDS_SERVICE_ACCOUNT = "weft-xds";
  static final Duration READY_BOUND = Duration.ofSeconds(60);

  final MeshIdentities.Mounted xdsIdentity;
  final XdsServerApp xds;
  final LocalPod payments;
  final LocalPod web;
  final Traffic traffic;
  private final Deque<AutoCloseable> opened;

  private OperatorIssuedMesh(Deque<AutoCloseable> opened, MeshIdentities.Mounted xdsIdentity, XdsServerApp xds,
      LocalPod payments, LocalPod web) {
    this.opened = opened;
    this.xdsIdentity = xdsIdentity;
    this.xds = xds;
    this.payments = payments;
    this.web = web;
    this.traffic = new Traffic(web);
  }

  /**
   * Starts it all in namespace {@code namespace} with the pods at {@code paymentsAddress} and
   * {@code webAddress}; {@code certificates} gets the xds-server's ServiceAccount added.
   */
  static OperatorIssuedMesh start(Kubectl kubectl, KubernetesClient client, String namespace,
      CertificateSettings certificates, Path mounts, String paymentsAddress, String webAddress) throws Exception {
    WeftCrds.install(kubectl);
    MeshObjects objects = new MeshObjects(client, namespace);
    objects.createNamespace();
    objects.service("payments", 80);
    String operatorNamespace = client.getNamespace() == null ? "default" : client.getNamespace();
    // Earlier test classes on the same apiserver leave the xds-server's certificate behind, issued
    // for a day: the operator would rightly keep it and never renew it within this test.
    client.secrets().inNamespace(operatorNamespace).withName("weft-identity-" + XDS_SERVICE_ACCOUNT)
        .withTimeout(30, TimeUnit.SECONDS).delete();
    MeshIdentities identities = new MeshIdentities(client, mounts,
        "spiffe://cluster.local/ns/" + operatorNamespace + "/sa/" + XDS_SERVICE_ACCOUNT);
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    try {
      opened.push(WeftOperator.start(client, new WeftOperator.Config(Set.of(namespace),
          new InetSocketAddress("127.0.0.1", 0), Optional.empty())
          .withCertificates(Optional.of(certificates.withXdsServiceAccount(XDS_SERVICE_ACCOUNT)))));
      MeshIdentities.Mounted xdsIdentity = identities.mountServiceAccount(operatorNamespace, XDS_SERVICE_ACCOUNT);
      opened.push(xdsIdentity);
      XdsServerApp xds = XdsServerApp.start(client, new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of(namespace))
          .withXdsTls(xdsIdentity.identityDirectory().toString()));
      opened.push(xds);
      LocalPod payments = LocalPod.serving("payments-1", namespace, "payments", paymentsAddress, xds.xdsPort(),
          Transport.DELTA, identities);
      opened.push(payments);
      LocalPod web = LocalPod.client("web-1", namespace, "web", webAddress, xds.xdsPort(), Transport.DELTA,
          identities);
      opened.push(web);
      objects.endpoints("payments", List.of(payments), List.of());
      OperatorIssuedMesh mesh = new OperatorIssuedMesh(opened, xdsIdentity, xds, payments, web);
      await("payments answers through web's sidecar").atMost(READY_BOUND)
          .until(() -> mesh.traffic.sendOne("payments").equals("payments-1"));
      return mesh;
    } catch (Exception | Error e) {
      closeAll(opened, e);
      throw e;
    }
  }

  @Override
  public void close() throws Exception {
    Exception first = new Exception("closing the mesh");
    closeAll(opened, first);
    if (first.getSuppressed().length > 0) {
      throw first;
    }
  }

  /** Closes in the reverse order of opening; what fails is added to {@code failure}. */
  private static void closeAll(Deque<AutoCloseable> opened, Throwable failure) {
    while (!opened.isEmpty()) {
      try {
        opened.pop().close();
      } catch (Exception e) {
        failure.addSuppressed(e);
      }
    }
  }
}
