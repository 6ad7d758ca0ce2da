package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.api.v1alpha1.MeshStatus;
import dev.weft.demo.WeftCrds;
import dev.weft.operator.WeftOperator;
import dev.weft.operator.identity.CertificateAuthority;
import dev.weft.operator.identity.IdentitySettings;
import dev.weft.operator.identity.KeyAlgorithm;
import dev.weft.testsupport.KubeApiServer;
import dev.weft.testsupport.KubeApiServerTest;
import dev.weft.testsupport.Kubectl;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What the operator pays to issue 1,000 workload certificates: the CA code alone (key generation
 * and signing), then the operator against a real kube-apiserver, from start to 1,000 Secrets
 * written for 1,000 meshed ServiceAccounts, with the heap it holds after. Prints numbers (run with
 * `make bench`); asserts only that every certificate was issued.
 */
@KubeApiServerTest
class CertificateIssueBench {

  static final int COUNT = 1000;
  static final String NS = "bench-certs";
  static final String OPERATOR_NS = "bench-certs-weft";

  @Test
  void issueAThousandCertificates(KubeApiServer server, Kubectl kubectl, KubernetesClient client) throws Exception {
    IdentitySettings settings = IdentitySettings.defaults();
    CertificateAuthority ca = CertificateAuthority.selfSigned(settings, Instant.now(), new SecureRandom());
    for (int i = 0; i < 200; i++) {
      ca.issue(settings.identity(NS, "warm-" + i), KeyAlgorithm.ECDSA_P256, settings.certificateLifetime(),
          Instant.now());
    }
    long start = System.nanoTime();
    for (int i = 0; i < COUNT; i++) {
      ca.issue(settings.identity(NS, "sa-" + i), KeyAlgorithm.ECDSA_P256, settings.certificateLifetime(),
          Instant.now());
    }
    double caMillis = (System.nanoTime() - start) / 1e6;
    System.out.printf("CA code: %d ECDSA P-256 workload certificates (new key each) in %.0f ms, %.2f ms each%n",
        COUNT, caMillis, caMillis / COUNT);

    WeftCrds.install(kubectl);
    kubectl.apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + OPERATOR_NS + "\n---\n"
        + "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + NS + "\n  labels:\n    weft.dev/inject: enabled\n")
        .requireSuccess();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    for (int i = 0; i < COUNT; i++) {
      Pod pod = new PodBuilder().withNewMetadata().withNamespace(NS).withName("pod-" + i).endMetadata()
          .withNewSpec().withServiceAccountName("sa-" + i)
          .addNewContainer().withName("app").withImage("registry.invalid/app:1").endContainer().endSpec().build();
      pool.submit(() -> client.pods().inNamespace(NS).resource(pod).create());
    }
    pool.shutdown();
    assertThat(pool.awaitTermination(5, TimeUnit.MINUTES)).isTrue();
    assertThat(client.pods().inNamespace(NS).list().getItems()).hasSize(COUNT);

    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    System.gc();
    long heapBefore = memory.getHeapMemoryUsage().getUsed();
    start = System.nanoTime();
    try (KubernetesClient operatorClient = server.newClient();
        WeftOperator operator = WeftOperator.start(operatorClient, new WeftOperator.Config(Set.of(NS),
            new InetSocketAddress("127.0.0.1", 0), Optional.of(WeftOperator.LeaderElection.of(OPERATOR_NS, "bench")))
            .withXdsNamespaces(Set.of(OPERATOR_NS)))) {
      await("1,000 certificate Secrets").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(250))
          .until(() -> client.secrets().inNamespace(NS).withLabel("weft.dev/identity", "workload").list()
              .getItems().size() == COUNT);
      double seconds = (System.nanoTime() - start) / 1e9;
      await("MeshStatus counts them").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
          .until(() -> Optional.ofNullable(client.resources(MeshStatus.class).withName(MeshStatus.NAME).get())
              .map(MeshStatus::getStatus).map(s -> s.getCertificates())
              .map(c -> c.getIssued() == COUNT).orElse(false));
      System.gc();
      long heapAfter = memory.getHeapMemoryUsage().getUsed();
      System.out.printf("operator, real kube-apiserver: %d meshed ServiceAccounts -> %d certificate Secrets %.1f s "
          + "after start (%.0f/s, including leader election and informer sync); heap held after GC %+.0f MB "
          + "(operator, its informers over %d Pods and %d Secrets, in the test's JVM)%n", COUNT, COUNT, seconds,
          COUNT / seconds, (heapAfter - heapBefore) / 1e6, COUNT, COUNT);
      System.out.println("$ kubectl get meshstatus\n" + kubectl.run("get", "meshstatus").requireSuccess().stdout());
    }
  }
}
