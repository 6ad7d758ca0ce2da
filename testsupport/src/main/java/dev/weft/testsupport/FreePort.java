package dev.weft.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/** A TCP port that is free now, for a process that must be told its port before it starts. */
public final class FreePort {

  private static final int LOWEST = 10_000;
  private static final int ATTEMPTS = 200;
  private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

  // Never hand out the same port twice in one JVM: a port given to a process that has not bound
  // it yet still looks free.
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  private FreePort() {
  }

  /** A free port on 127.0.0.1. */
  public static int pick() {
    return pick(InetAddress.getLoopbackAddress());
  }

  /**
   * A free port on {@code address}, taken below the kernel's ephemeral range: a port the kernel
   * hands out on bind(0) may be given to an outgoing connection before our process binds it.
   */
  public static int pick(InetAddress address) {
    int highest = ephemeralRangeStart() - 1;
    if (highest <= LOWEST) {
      return kernelChosen(address);
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      int port = random.nextInt(LOWEST, highest + 1);
      if (!HANDED_OUT.contains(port) && bindable(address, port) && HANDED_OUT.add(port)) {
        return port;
      }
    }
    return kernelChosen(address);
  }

  static int ephemeralRangeStart() {
    // A reader, not Files.readString: /proc files report size 0 and that read stops short.
    try (BufferedReader reader = Files.newBufferedReader(EPHEMERAL_RANGE)) {
      String[] range = reader.readLine().strip().split("\\s+");
      return Integer.parseInt(range[0]);
    } catch (IOException | RuntimeException e) {
      // Not Linux, or /proc hidden: the IANA dynamic range is the usual default elsewhere.
      return 49_152;
    }
  }

  private static int kernelChosen(InetAddress address) {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress(address, 0));
        int port = socket.getLocalPort();
        if (HANDED_OUT.add(port)) {
          return port;
        }
      } catch (IOException e) {
        throw new IllegalStateException("cannot bind any port on " + address.getHostAddress(), e);
      }
    }
    throw new IllegalStateException("no free port on " + address.getHostAddress() + " after "
        + ATTEMPTS + " attempts");
  }

  private static boolean bindable(InetAddress address, int port) {
    try (ServerSocket socket = new ServerSocket()) {
      // Without SO_REUSEADDR a port in TIME_WAIT reads as taken, which is what we want: the
      // process we start may not set it either.
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(address, port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
