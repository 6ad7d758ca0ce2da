package dev.weft.testsupport;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.UUID;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/** JUnit extension that starts one real kube-apiserver per JVM and injects it, fabric8 clients and kubectl. */
public final class KubeApiServerExtension implements BeforeAllCallback, ParameterResolver {

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
        .getOrComputeIfAbsent(KubeApiServer.class, type -> KubeApiServer.start(), KubeApiServer.class);
  }
}
