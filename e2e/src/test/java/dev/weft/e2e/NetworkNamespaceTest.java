package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.NetworkNamespace;
import dev.weft.testsupport.ProcessLogsOnFailure;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The network namespace fixture on its own: a process inside it sees TCP to the redirected range
 * arrive on its port with the original destination intact (what Envoy's original_dst reads), and
 * closing the namespace leaves nothing behind but the guard route, even with a process still in it.
 */
@ExtendWith(ProcessLogsOnFailure.class)
class NetworkNamespaceTest {

  /** One listener on 15001 that answers with the address the client dialled, read by original_dst. */
  static final String ECHO_DESTINATION = """
      admin:
        address: { socket_address: { address: ${NS_ADDRESS}, port_value: 15000 } }
      static_resources:
        listeners:
        - name: capture
          address: { socket_address: { address: 0.0.0.0, port_value: 15001 } }
          listener_filters:
          - name: envoy.filters.listener.original_dst
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst }
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: capture
                http_filters:
                - name: envoy.filters.http.router
                  typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                route_config:
                  virtual_hosts:
                  - name: all
                    domains: ["*"]
                    routes:
                    - match: { prefix: / }
                      direct_response: { status: 200 }
                      response_headers_to_add:
                      - header: { key: x-original-destination, value: "%DOWNSTREAM_LOCAL_ADDRESS%" }
      """;

  @Test
  void redirectsTcpToTheServiceRangeKeepingTheOriginalDestination() {
    NetworkNamespace netns = NetworkNamespace.create("fixture", 11);
    try (EnvoyProcess envoy = EnvoyProcess.builder("netns-echo")
        .launcher(netns.enter())
        .bootstrap(ECHO_DESTINATION)
        .variable("NS_ADDRESS", netns.namespaceAddress())
        .start()) {
      netns.routeToHost("198.19.0.0/16");
      netns.redirectOutboundTcp("198.19.0.0/16", 15001);

      CommandResult answer = netns.run(Duration.ofSeconds(15), List.of("curl", "-sS", "-i",
          "--connect-timeout", "2", "--max-time", "5", "http://198.19.7.7:4242/anything"));

      assertThat(answer.stdout()).as(answer.toString())
          .startsWith("HTTP/1.1 200")
          .containsIgnoringCase("x-original-destination: 198.19.7.7:4242");
      assertThat(netns.natRules()).contains("-A OUTPUT -d 198.19.0.0/16 -p tcp -j REDIRECT --to-ports 15001");
      assertThat(netns.processes()).containsExactly(envoy.pid());
    } finally {
      netns.close();
    }
    assertThat(netns.leftovers()).isEmpty();
  }

  @Test
  void closingEndsWhatStillRunsInsideAndRemovesTheNamespaceAndTheVethPair() {
    NetworkNamespace netns = NetworkNamespace.create("fixture", 11);
    EnvoyProcess envoy = EnvoyProcess.builder("netns-left-running")
        .launcher(netns.enter())
        .bootstrap(ECHO_DESTINATION)
        .variable("NS_ADDRESS", netns.namespaceAddress())
        .start();
    try {
      assertThat(Files.exists(netns.path())).isTrue();

      netns.close();

      assertThat(envoy.isAlive()).isFalse();
      assertThat(netns.leftovers()).isEmpty();
      assertThat(Files.exists(netns.path())).isFalse();
    } finally {
      envoy.close();
      netns.close();
    }
  }

  @Test
  void refusesToRouteOutsideTheGuardedRange() {
    try (NetworkNamespace netns = NetworkNamespace.create("fixture", 11)) {
      assertThatThrownBy(() -> netns.routeToHost("10.96.0.0/16")).hasMessageContaining("outside 198.18.0.0/15");
      assertThatThrownBy(() -> netns.redirectOutboundTcp("0.0.0.0/0", 15001))
          .hasMessageContaining("outside 198.18.0.0/15");
    }
  }
}
