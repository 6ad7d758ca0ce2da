package dev.weft.demo;

/**
 * The demo's workloads as a team would write them: plain Deployments and Services with no trace
 * of the mesh, in a namespace labelled for injection. payments-v1 and payments-v2 answer their
 * name over HTTP on 8080 (busybox httpd); web is the client, whose code calls
 * {@code http://payments:8080/} once a second and prints the answer.
 */
final class NodeApps {

  static final String WEB = "web";
  static final String WEB_CONTAINER = "web";
  static final int PORT = 8080;

  private NodeApps() {}

  /** The namespace, its ServiceAccounts, Services and Deployments, all with {@code image} (busybox). */
  static String yaml(String namespace, String image) {
    StringBuilder yaml = new StringBuilder("""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: %1$s
          labels: {weft.dev/inject: enabled}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: payments, namespace: %1$s}
        spec:
          selector: {app: payments}
          ports: [{name: http, port: %2$d, targetPort: %2$d}]
        """.formatted(namespace, PORT));
    for (String version : new String[] {"v1", "v2"}) {
      yaml.append(payments(namespace, version, image));
    }
    yaml.append("""
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: %1$s, namespace: %2$s}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: %1$s, namespace: %2$s}
        spec:
          replicas: 1
          selector: {matchLabels: {app: %1$s}}
          template:
            metadata: {labels: {app: %1$s}}
            spec:
              serviceAccountName: %1$s
              terminationGracePeriodSeconds: 5
              containers:
              - name: %3$s
                image: %4$s
                imagePullPolicy: IfNotPresent
                command: [sh, -c, 'trap "exit 0" TERM; while true; do echo "$(date +%%T) $(timeout 5 wget -qO- http://payments:%5$d/ 2>&1)"; sleep 1; done']
        """.formatted(WEB, namespace, WEB_CONTAINER, image, PORT));
    return yaml.toString();
  }

  private static String payments(String namespace, String version, String image) {
    return """
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: payments-%1$s, namespace: %2$s}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: payments-%1$s, namespace: %2$s}
        spec:
          selector: {app: payments, version: %1$s}
          ports: [{name: http, port: %3$d, targetPort: %3$d}]
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: payments-%1$s, namespace: %2$s}
        spec:
          replicas: 1
          selector: {matchLabels: {app: payments, version: %1$s}}
          template:
            metadata: {labels: {app: payments, version: %1$s}}
            spec:
              serviceAccountName: payments-%1$s
              terminationGracePeriodSeconds: 5
              containers:
              - name: payments
                image: %4$s
                imagePullPolicy: IfNotPresent
                command: [sh, -c, 'mkdir -p /tmp/www && echo payments-%1$s > /tmp/www/index.html && exec httpd -f -p %3$d -h /tmp/www']
                ports: [{name: http, containerPort: %3$d}]
        """.formatted(version, namespace, PORT, image);
  }
}
