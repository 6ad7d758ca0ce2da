package dev.weft.demo;

import static org.awaitility.Awaitility.await;

import dev.weft.convert.MeshedPods;
import dev.weft.operator.certificates.WorkloadSecrets;
import dev.weft.xds.bootstrap.SidecarBootstrap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Identities for local pods from the operator's Secrets, as a kubelet would provide them: a local
 * pod becomes a Pod object with a {@value MeshedPods#SIDECAR_CONTAINER} container (so the operator
 * issues its ServiceAccount a certificate and the xds-server counts its endpoints as meshed), and
 * its Secret {@code weft-identity-<serviceAccount>} is mounted into a directory of its own, kept
 * current as the operator renews it, next to the SDS files its sidecar reads.
 */
public final class MeshIdentities {

  static final Duration ISSUE_BOUND = Duration.ofSeconds(60);

  private final KubernetesClient client;
  private final Path root;
  private final String xdsServerId;

  /** Identities mounted under {@code root}, one directory per pod; sidecars reach the xDS server in plaintext. */
  public MeshIdentities(KubernetesClient client, Path root) {
    this(client, root, "");
  }

  /**
   * Identities mounted under {@code root}, one directory per pod; sidecars reach the xDS server
   * over mTLS and accept it only with the SPIFFE ID {@code xdsServerId} (empty: plaintext).
   */
  public MeshIdentities(KubernetesClient client, Path root, String xdsServerId) {
    this.client = client;
    this.root = root;
    this.xdsServerId = xdsServerId;
  }

  /** The SPIFFE ID sidecars expect of the xDS server; empty when they reach it in plaintext. */
  public String xdsServerId() {
    return xdsServerId;
  }

  /**
   * Mounts the certificate Secret of {@code serviceAccount} in {@code namespace} (no Pod object: the
   * operator keeps it for another reason, as the xds-server's), waiting for the operator to issue it.
   */
  public Mounted mountServiceAccount(String namespace, String serviceAccount) {
    Mounted mounted = new Mounted(client, namespace, null, root.resolve(namespace).resolve("sa-" + serviceAccount));
    try {
      String secret = WorkloadSecrets.name(serviceAccount);
      mounted.write(await("the operator issues Secret " + namespace + "/" + secret)
          .atMost(ISSUE_BOUND).pollInterval(Duration.ofMillis(100))
          .until(() -> client.secrets().inNamespace(namespace).withName(secret).get(), s -> s != null));
      mounted.follow(secret);
      return mounted;
    } catch (RuntimeException e) {
      mounted.close();
      throw e;
    }
  }

  /**
   * Declares the pod, waits for its ServiceAccount's certificate and mounts it. The pod's identity
   * is ready for a sidecar when this returns.
   */
  public Mounted mount(String pod, String namespace, String serviceAccount) {
    Pod object = new PodBuilder()
        .withNewMetadata().withName(pod).withNamespace(namespace).addToLabels("app", pod).endMetadata()
        .withNewSpec()
        .withServiceAccountName(serviceAccount)
        // No kubelet runs it: the image names are never pulled.
        .addNewContainer().withName("app").withImage("registry.invalid/weft-local-app:1").endContainer()
        .addNewContainer().withName(MeshedPods.SIDECAR_CONTAINER).withImage("registry.invalid/weft-proxy:1")
        .endContainer()
        .endSpec()
        .build();
    client.pods().resource(object).serverSideApply();
    Path dir = root.resolve(namespace).resolve(pod);
    Mounted mounted = new Mounted(client, namespace, pod, dir);
    try {
      String secret = WorkloadSecrets.name(serviceAccount);
      Secret issued = await("the operator issues Secret " + namespace + "/" + secret)
          .atMost(ISSUE_BOUND).pollInterval(Duration.ofMillis(100))
          .until(() -> client.secrets().inNamespace(namespace).withName(secret).get(), s -> s != null);
      mounted.write(issued);
      Files.createDirectories(mounted.sdsDirectory());
      for (Map.Entry<String, String> file : SidecarBootstrap.sdsFiles(mounted.identityDirectory().toString())
          .entrySet()) {
        Files.writeString(mounted.sdsDirectory().resolve(file.getKey()), file.getValue());
      }
      mounted.follow(secret);
      return mounted;
    } catch (IOException e) {
      mounted.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      mounted.close();
      throw e;
    }
  }

  /** One pod's mounted identity; closing it stops following the Secret and deletes the Pod object. */
  public static final class Mounted implements AutoCloseable {

    private final KubernetesClient client;
    private final String namespace;
    private final String pod;
    private final Path dir;
    private SharedIndexInformer<Secret> informer;

    private Mounted(KubernetesClient client, String namespace, String pod, Path dir) {
      this.client = client;
      this.namespace = namespace;
      this.pod = pod;
      this.dir = dir;
    }

    /** Where the Secret is mounted ({@code tls.crt}, {@code tls.key}, {@code ca.crt}). */
    public Path identityDirectory() {
      return dir.resolve("identity");
    }

    /** Where the sidecar's SDS files are: its {@code WEFT_SDS_DIRECTORY}. */
    public Path sdsDirectory() {
      return dir.resolve("sds");
    }

    private void follow(String secret) {
      informer = client.secrets().inNamespace(namespace).withName(secret).inform(new ResourceEventHandler<>() {
        @Override
        public void onAdd(Secret obj) {
          write(obj);
        }

        @Override
        public void onUpdate(Secret oldObj, Secret newObj) {
          if (!oldObj.getMetadata().getResourceVersion().equals(newObj.getMetadata().getResourceVersion())) {
            write(newObj);
          }
        }

        @Override
        public void onDelete(Secret obj, boolean deletedFinalStateUnknown) {
          // The kubelet keeps the last content of a deleted Secret's volume; so does this.
        }
      });
    }

    private synchronized void write(Secret secret) {
      Map<String, String> files = new LinkedHashMap<>();
      for (String key : new String[] {WorkloadSecrets.CERT, WorkloadSecrets.KEY, WorkloadSecrets.BUNDLE}) {
        String data = secret.getData() == null ? null : secret.getData().get(key);
        if (data == null) {
          return;
        }
        files.put(key, new String(Base64.getDecoder().decode(data), StandardCharsets.UTF_8));
      }
      try {
        SecretVolume.update(identityDirectory(), files);
      } catch (IOException e) {
        throw new UncheckedIOException("mounting Secret " + namespace + "/" + secret.getMetadata().getName(), e);
      }
    }

    @Override
    public void close() {
      if (informer != null) {
        informer.close();
      }
      if (pod == null) {
        return;
      }
      try {
        client.pods().inNamespace(namespace).withName(pod).delete();
      } catch (RuntimeException e) {
        // The cluster may be stopping with us (the demo's exit, a test's end): a Pod object left
        // behind goes with it, and elsewhere only keeps its ServiceAccount's certificate a while.
      }
    }
  }
}
