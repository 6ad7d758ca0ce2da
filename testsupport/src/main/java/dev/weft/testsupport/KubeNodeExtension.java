package dev.weft.testsupport;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.UUID;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension that brings up one real {@link KubeNode} per JVM, on first use, and injects it,
 * kubectl and fabric8 clients. The node is kept in the root store, so JUnit takes it down when the
 * run ends (and a JVM that dies first takes it down from the node's shutdown hook).
 */
public final class KubeNodeExtension implements BeforeAllCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(KubeNodeExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    // Start here rather than on first injection, so startup time and failures belong to the class.
    node(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == KubeNode.class || type == KubernetesClient.class || type == Kubectl.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    KubeNode node = node(context);
    if (type == KubeNode.class) {
      return node;
    }
    if (type == Kubectl.class) {
      return node.kubectl();
    }
    // One client per injection, closed with the injecting context.
    KubernetesClient client = node.newClient();
    context.getStore(NAMESPACE).put(UUID.randomUUID(), client);
    return client;
  }

  /** The JVM-wide node, brought up on first use. */
  public static KubeNode node(ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(KubeNode.class, type -> {
      KubeNode node = new KubeNode();
      node.start();
      return node;
    }, KubeNode.class);
  }
}
