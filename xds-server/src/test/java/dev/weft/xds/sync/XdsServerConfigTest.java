package dev.weft.xds.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.xds.XdsServerApp;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The sync report settings of {@link XdsServerApp.Config#fromEnvironment(Map)}. */
class XdsServerConfigTest {

  private static final Map<String, String> IN_POD = Map.of(
      "KUBERNETES_SERVICE_HOST", "10.96.0.1",
      "WEFT_POD_NAMESPACE", "weft-system",
      "WEFT_POD_NAME", "weft-xds-7d9f-abcde");

  @Test
  void reportsByDefaultInAPodUnderThePodsNameAndNamespace() {
    XdsServerApp.Config config = XdsServerApp.Config.fromEnvironment(IN_POD);

    assertThat(config.syncReport()).isEqualTo(SyncReportPublisher.Settings.of("weft-system", "weft-xds-7d9f-abcde"));
    assertThat(config.syncReport().interval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.syncReport().heartbeat()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void doesNotReportOutsideAPodUnlessAsked() {
    assertThat(XdsServerApp.Config.fromEnvironment(Map.of()).syncReport()).isNull();

    XdsServerApp.Config asked = XdsServerApp.Config.fromEnvironment(Map.of(
        "WEFT_SYNC_REPORT", "true", "HOSTNAME", "laptop", "WEFT_SYNC_REPORT_INTERVAL", "500ms",
        "WEFT_SYNC_REPORT_HEARTBEAT", "5s"));

    assertThat(asked.syncReport().podName()).isEqualTo("laptop");
    assertThat(asked.syncReport().namespace()).as("the client's namespace, resolved at start").isEmpty();
    assertThat(asked.syncReport().orInNamespace("dev").namespace()).isEqualTo("dev");
    assertThat(asked.syncReport().interval()).isEqualTo(Duration.ofMillis(500));
    assertThat(asked.syncReport().heartbeat()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void canBeTurnedOffInAPod() {
    Map<String, String> env = new HashMap<>(IN_POD);
    env.put("WEFT_SYNC_REPORT", "false");

    assertThat(XdsServerApp.Config.fromEnvironment(env).syncReport()).isNull();
  }

  @Test
  void aServingOnlyConfigDoesNotReport() {
    assertThat(new XdsServerApp.Config("127.0.0.1", 0, 0, Set.of()).syncReport()).isNull();
  }

  @Test
  void refusesAHeartbeatShorterThanTheInterval() {
    assertThatThrownBy(() -> SyncReportPublisher.Settings.of("ns", "pod")
        .withTimings(Duration.ofSeconds(10), Duration.ofSeconds(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("interval <= heartbeat");
  }
}
