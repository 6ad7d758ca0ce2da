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

  @Test
  void issuesCertificatesByDefaultWithASelfSignedRootInWeftCa() {
    WeftOperator.Config config = WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "op"));

    assertThat(config.certificates()).hasValueSatisfying(c -> {
      assertThat(c.caSecret()).isEqualTo("weft-ca");
      assertThat(c.createCa()).isTrue();
      assertThat(c.identity().trustDomain()).isEqualTo("cluster.local");
      assertThat(c.identity().rootLifetime()).isEqualTo(Duration.ofDays(365));
      assertThat(c.identity().certificateLifetime()).isEqualTo(Duration.ofHours(24));
      assertThat(c.identity().keyAlgorithm()).isEqualTo(dev.weft.operator.identity.KeyAlgorithm.ECDSA_P256);
      assertThat(c.rootOverlap()).isEqualTo(Duration.ofHours(1));
    });
  }

  @Test
  void readsTheCertificateSettingsTheChartSets() {
    WeftOperator.Config config = WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "op",
        "WEFT_TRUST_DOMAIN", "mesh.example", "WEFT_ROOT_LIFETIME", "720h", "WEFT_CERT_LIFETIME", "1h",
        "WEFT_KEY_ALGORITHM", "rsa-2048", "WEFT_CA_SECRET", "my-root", "WEFT_CA_CREATE", "false",
        "WEFT_ROOT_OVERLAP", "10m"));

    assertThat(config.certificates()).hasValueSatisfying(c -> {
      assertThat(c.caSecret()).isEqualTo("my-root");
      assertThat(c.createCa()).isFalse();
      assertThat(c.identity().trustDomain()).isEqualTo("mesh.example");
      assertThat(c.identity().rootLifetime()).isEqualTo(Duration.ofDays(30));
      assertThat(c.identity().certificateLifetime()).isEqualTo(Duration.ofHours(1));
      assertThat(c.identity().keyAlgorithm()).isEqualTo(dev.weft.operator.identity.KeyAlgorithm.RSA_2048);
      assertThat(c.rootOverlap()).isEqualTo(Duration.ofMinutes(10));
    });
    assertThat(WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "op", "WEFT_CERTIFICATES", "false"))
        .certificates()).isEmpty();
  }

  @Test
  void badCertificateSettingsNameTheVariable() {
    assertThatThrownBy(() -> WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "op",
        "WEFT_CERT_LIFETIME", "one day"))).hasMessageStartingWith("WEFT_CERT_LIFETIME: 'one day' is not a duration");
    assertThatThrownBy(() -> WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "op",
        "WEFT_CERT_LIFETIME", "9000h"))).hasMessageContaining("must be shorter than the root's");
    assertThatThrownBy(() -> WeftOperator.Config.fromEnvironment(Map.of("HOSTNAME", "op",
        "WEFT_TRUST_DOMAIN", "My Mesh"))).hasMessageContaining("trust domain 'My Mesh' is not valid");
  }
}
