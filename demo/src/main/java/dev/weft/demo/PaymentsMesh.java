package dev.weft.demo;

import static org.awaitility.Awaitility.await;

import dev.weft.testsupport.Closeables;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;

/**
 * The canary shop most end-to-end tests need, on local pods: Services payments, payments-v1 and
 * payments-v2 (port 80), a pod behind each version and a client pod "web", all sidecars on the
 * given xDS server. The root Service selects the stable pod only (the Flagger "primary" pattern).
 * One sidecar per xDS flavour: v1 state of the world, v2 and the client delta.
 */
public final class PaymentsMesh implements AutoCloseable {

  public final MeshObjects objects;
  public final LocalPod v1;
  public final LocalPod v2;
  public final LocalPod web;
  public final Traffic traffic;

  private PaymentsMesh(MeshObjects objects, LocalPod v1, LocalPod v2, LocalPod web) {
    this.objects = objects;
    this.v1 = v1;
    this.v2 = v2;
    this.web = web;
    this.traffic = new Traffic(web);
  }

  /** The namespace and the three Services, which exist before any pod does. */
  public static MeshObjects declare(KubernetesClient client, String namespace) {
    MeshObjects objects = new MeshObjects(client, namespace);
    objects.createNamespace();
    for (String service : List.of("payments", "payments-v1", "payments-v2")) {
      objects.service(service, 80);
    }
    return objects;
  }

  /**
   * Starts the pods at 127.0.{@code subnet}.11, .12 and .20 without identities (plaintext), lists
   * their endpoints, and returns once payments answers through the client sidecar.
   */
  public static PaymentsMesh start(MeshObjects objects, String namespace, int subnet, int xdsPort) {
    return start(objects, namespace, subnet, xdsPort, null);
  }

  /**
   * Starts the pods at 127.0.{@code subnet}.11, .12 and .20, each with its identity from
   * {@code identities} (the operator's certificates, so every hop is mTLS; null: plaintext), lists
   * their endpoints, and returns once payments answers through the client sidecar.
   */
  public static PaymentsMesh start(MeshObjects objects, String namespace, int subnet, int xdsPort,
      MeshIdentities identities) {
    String prefix = "127.0." + subnet + ".";
    LocalPod v1 = null;
    LocalPod v2 = null;
    LocalPod web = null;
    try {
      v1 = LocalPod.serving("payments-v1", namespace, "payments", prefix + 11, xdsPort, Transport.STATE_OF_THE_WORLD,
          identities);
      v2 = LocalPod.serving("payments-v2", namespace, "payments", prefix + 12, xdsPort, Transport.DELTA, identities);
      web = LocalPod.client("web", namespace, "web", prefix + 20, xdsPort, Transport.DELTA, identities);
      PaymentsMesh mesh = new PaymentsMesh(objects, v1, v2, web);
      objects.endpoints("payments", List.of(v1), List.of());
      objects.endpoints("payments-v1", List.of(v1), List.of());
      objects.endpoints("payments-v2", List.of(v2), List.of());
      await("payments answers through the client sidecar")
          .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> mesh.traffic.sendOne("payments").equals("payments-v1"));
      return mesh;
    } catch (RuntimeException e) {
      Closeables.closeAll(web, v2, v1);
      throw e;
    }
  }

  /**
   * The mTLS handshakes web's sidecar completed towards payments-v1 and payments-v2 (Envoy's
   * {@code ssl.handshake} counter of their clusters): above 0 when the canary runs over mTLS.
   */
  public long clientHandshakes(String namespace) {
    long handshakes = 0;
    for (String service : List.of("payments-v1", "payments-v2")) {
      handshakes += web.sidecar().counter("cluster.outbound|80|" + service + "." + namespace
          + ".svc.cluster.local.ssl.handshake");
    }
    return handshakes;
  }

  @Override
  public void close() {
    Closeables.closeAll(web, v2, v1);
  }
}
