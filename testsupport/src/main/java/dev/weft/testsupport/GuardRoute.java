package dev.weft.testsupport;

import java.util.List;

/**
 * The host route {@code unreachable 198.18.0.0/15}: every address a test hands out (network
 * namespaces, the test apiserver's Service range, the node's pods and Services) lies in
 * 198.18.0.0/15, and with this route a packet aimed at one whose namespace or route is gone is
 * dropped on the host instead of leaving the machine. Installed once, never removed.
 */
public final class GuardRoute {

  public static final String RANGE = "198.18.0.0/15";

  private GuardRoute() {}

  /**
   * Installs the route when it is missing (as root); fails with the command to type when it is
   * missing and this JVM cannot install it.
   */
  public static synchronized void ensure() {
    String ip = NetworkNamespace.tool("ip");
    if (present(ip)) {
      return;
    }
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new IllegalStateException("the host guard route is missing and only root can add it: run "
          + "`sudo ip route replace unreachable " + RANGE + "` once (it keeps test traffic on this machine)");
    }
    Command.run(List.of(ip, "route", "replace", "unreachable", RANGE)).requireSuccess();
  }

  private static boolean present(String ip) {
    CommandResult routes = Command.run(List.of(ip, "route", "show", "type", "unreachable"));
    return routes.succeeded() && routes.stdout().lines().anyMatch(line -> line.strip().startsWith(RANGE));
  }
}
