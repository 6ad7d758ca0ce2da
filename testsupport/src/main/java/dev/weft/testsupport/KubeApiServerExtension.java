package dev.weft.testsupport;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension that starts one real kube-apiserver per JVM and injects it, fabric8 clients and
 * kubectl. Instead, with the system property {@value #EXTERNAL_KUBECONFIG}, it uses the cluster
 * behind that kubeconfig; with {@value #CLUSTER_PROVIDER} (the e2e module's k3s profile), the one
 * that {@link ClusterProvider} class starts.
 */
public final class KubeApiServerExtension implements BeforeAllCallback, ParameterResolver {

  /** System property: a kubeconfig file of an external cluster to test against instead. */
  public static final String EXTERNAL_KUBECONFIG = "weft.test.kubeconfig";
  /** System property: the class name of a {@link ClusterProvider} to start a cluster with instead. */
  public static final String CLUSTER_PROVIDER = "weft.test.cluster.provider";

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(KubeApiServerExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    // Start here rather than on first injection, so startup time and failures belong to the class.
    server(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == KubeApiServer.class || type == KubernetesClient.class || type == Kubectl.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    KubeApiServer server = server(context);
    if (type == KubeApiServer.class) {
      return server;
    }
    if (type == Kubectl.class) {
      return server.kubectl();
    }
    // One client per injection, stored in the injecting context so JUnit closes it with that
    // context: a test that closes its client cannot break another's.
    KubernetesClient client = server.newClient();
    context.getStore(NAMESPACE).put(UUID.randomUUID(), client);
    return client;
  }

  /** The JVM-wide server, started on first use. */
  public static KubeApiServer server(ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(KubeApiServer.class, type -> startOrConnect(context), KubeApiServer.class);
  }

  private static KubeApiServer startOrConnect(ExtensionContext context) {
    String provider = System.getProperty(CLUSTER_PROVIDER, "");
    if (!provider.isBlank()) {
      ClusterProvider cluster = instantiate(provider);
      // Kept in the root store, so JUnit closes it (stops the cluster) when the run ends.
      context.getRoot().getStore(NAMESPACE).put(ClusterProvider.class, cluster);
      return KubeApiServer.connect(WeftTools.locate(), cluster.start());
    }
    String external = System.getProperty(EXTERNAL_KUBECONFIG, "");
    return external.isBlank() ? KubeApiServer.start() : KubeApiServer.connect(WeftTools.locate(), Path.of(external));
  }

  private static ClusterProvider instantiate(String className) {
    try {
      return Class.forName(className).asSubclass(ClusterProvider.class).getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | ClassCastException e) {
      throw new IllegalStateException(CLUSTER_PROVIDER + "=" + className
          + " must name a ClusterProvider with a public no-argument constructor on the test classpath", e);
    }
  }
}
