package dev.weft.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parts of the Envoy fixture that need no Envoy: filling in the bootstrap. */
class EnvoyProcessTest {

  @Test
  void fillsPlaceholders() {
    String rendered = EnvoyProcess.render("port_value: ${LISTENER_PORT}\naddress: ${HOST}\n",
        Map.of("LISTENER_PORT", "18080", "HOST", "127.0.0.9"));

    assertThat(rendered).isEqualTo("port_value: 18080\naddress: 127.0.0.9\n");
  }

  @Test
  void aPlaceholderWithoutValueFailsNamingIt() {
    assertThatThrownBy(() -> EnvoyProcess.render("a: ${KNOWN}\nb: ${UNKNOWN}\nc: ${ALSO_UNKNOWN}",
        Map.of("KNOWN", "1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[ALSO_UNKNOWN, UNKNOWN]");
  }

  @Test
  void valuesAreInsertedLiterally() {
    assertThat(EnvoyProcess.render("x: ${V}", Map.of("V", "$1\\n"))).isEqualTo("x: $1\\n");
  }

  @Test
  void addsAnAdminSectionOnTheFixturePortWhenTheBootstrapHasNone() {
    String withAdmin = EnvoyProcess.withAdmin("static_resources: {}");

    assertThat(withAdmin).contains("admin:\n").contains("port_value: ${ADMIN_PORT}");
    assertThat(EnvoyProcess.withAdmin("admin:\n  address: {}\n")).isEqualTo("admin:\n  address: {}\n");
  }

  @Test
  void refusesToStartWithoutABootstrap() {
    assertThatThrownBy(() -> EnvoyProcess.builder("empty").start())
        .hasMessageContaining("needs a bootstrap");
  }
}
