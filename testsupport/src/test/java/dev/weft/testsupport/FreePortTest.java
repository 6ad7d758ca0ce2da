package dev.weft.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FreePortTest {

  @Test
  void picksAPortThatCanBeBound() throws Exception {
    int port = FreePort.pick();

    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      assertThat(socket.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void neverPicksTheSamePortTwice() {
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      assertThat(ports.add(FreePort.pick())).as("port handed out twice").isTrue();
    }
  }

  @Test
  void staysBelowTheEphemeralRangeWhereOutgoingConnectionsTakePorts() {
    int ephemeralStart = FreePort.ephemeralRangeStart();

    assertThat(FreePort.pick()).isLessThan(ephemeralStart);
  }

  @Test
  void picksOnAnotherLoopbackAddress() throws Exception {
    InetAddress address = InetAddress.getByName("127.0.0.42");
    int port = FreePort.pick(address);

    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(address, port));
      assertThat(socket.getLocalPort()).isEqualTo(port);
    }
  }
}
