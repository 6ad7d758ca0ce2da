package dev.weft.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigTest {

  @Test
  void defaultsWatchEveryNamespaceServeOn8080AndElectALeaderAsTheHost() {
    WeftOperator.Config config = WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "weft-operator-7d9f-abcde",
        "WEFT_POD_NAMESPACE", "weft-system"));

    assertThat(config.namespaces()).isEmpty();
    assertThat(config.httpAddress().getPort()).isEqualTo(8080);
    assertThat(config.leaderElection()).hasValueSatisfying(l -> {
      assertThat(l.leaseName()).isEqualTo("weft-operator");
      assertThat(l.leaseNamespace()).isEqualTo("weft-system");
      assertThat(l.identity()).isEqualTo("weft-operator-7d9f-abcde");
      assertThat(l.leaseDuration()).isEqualTo(Duration.ofSeconds(15));
    });
  }

  @Test
  void readsSyncReportsFromTheXdsNamespaceElseTheOperatorsOwn() {
    assertThat(WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "op", "WEFT_POD_NAMESPACE", "weft-system"))
        .xdsNamespaces()).containsExactly("weft-system");
    assertThat(WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "op", "WEFT_POD_NAMESPACE", "weft-system",
        "WEFT_XDS_NAMESPACE", "mesh-xds")).xdsNamespaces()).containsExactly("mesh-xds");
    assertThat(WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "op")).xdsNamespaces())
        .as("unset: the client's namespace, resolved at start").isEmpty();
  }

  @Test
  void readsNamespacesPortAndPodName() {
    WeftOperator.Config config = WeftOperator.Config.fromEnvironment(Map.of(
        "WEFT_WATCH_NAMESPACES", " shop, payments ,,", "WEFT_OPERATOR_HTTP_PORT", "9000",
        "WEFT_POD_NAME", "op-1", "HOSTNAME", "ignored", "WEFT_BIND_ADDRESS", "127.0.0.1"));

    assertThat(config.namespaces()).containsExactlyInAnyOrder("shop", "payments");
    assertThat(config.httpAddress().getPort()).isEqualTo(9000);
    assertThat(config.httpAddress().getHostString()).isEqualTo("127.0.0.1");
    assertThat(config.leaderElection().orElseThrow().identity()).isEqualTo("op-1");
    assertThat(config.leaderElection().orElseThrow().leaseNamespace()).as("unset: the client's namespace").isNull();
  }

  @Test
  void takesTheLeaseNameTheChartDerivesFromTheRelease() {
    WeftOperator.Config config = WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "op",
        "WEFT_POD_NAMESPACE", "weft-b", "WEFT_LEASE_NAME", "weft-b-operator"));

    assertThat(config.leaderElection().orElseThrow().leaseName()).isEqualTo("weft-b-operator");
    assertThat(WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "op", "WEFT_LEASE_NAME", " "))
        .leaderElection().orElseThrow().leaseName()).as("blank: the default").isEqualTo("weft-operator");
  }

  @Test
  void leaderElectionCanBeTurnedOffForASingleProcess() {
    assertThat(WeftOperator.Config.fromEnvironment(Map.of("WEFT_LEADER_ELECTION", "false")).leaderElection())
        .isEmpty();
  }

  @Test
  void refusesAPortThatIsNotANumber() {
    assertThatThrownBy(() -> WeftOperator.Config.fromEnvironment(Map.of("WEFT_OPERATOR_HTTP_PORT", "http")))
        .hasMessage("WEFT_OPERATOR_HTTP_PORT must be a port number, not 'http'");
  }
}
