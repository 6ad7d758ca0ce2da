package dev.weft.operator.injection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.operator.certificates.CertificateSettings;
import dev.weft.operator.webhook.WebhookSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InjectionSettingsTest {

  static final Map<String, String> CHART = Map.of(
      "WEFT_INJECTION_PROXY_IMAGE", "weft.local/envoy:1.40.0",
      "WEFT_INJECTION_INIT_IMAGE", "weft.local/iptables:1.8.9",
      "WEFT_INJECTION_XDS_ADDRESS", "weft-xds.weft-system.svc:18000",
      "WEFT_POD_NAMESPACE", "weft-system",
      "WEFT_INJECTION_EXCLUDE_OUTBOUND_CIDRS", "169.254.169.254",
      "WEFT_WEBHOOK_SERVICE", "weft-webhook",
      "WEFT_WEBHOOK_CONFIGURATION", "weft-injection");

  @Test
  void readsTheChartsEnvironment() {
    InjectionSettings settings = InjectionSettings.fromEnvironment(CHART).orElseThrow();

    assertThat(settings.xdsHost()).isEqualTo("weft-xds.weft-system.svc");
    assertThat(settings.xdsPort()).isEqualTo(18000);
    assertThat(settings.xdsServerId()).isEmpty();
    assertThat(settings.meshNamespace()).isEqualTo("weft-system");
    assertThat(settings.exclusions().outboundCidrs()).containsExactly("169.254.169.254/32");
    assertThat(settings.proxyResources()).isEqualTo(InjectionSettings.ProxyResources.defaults());
    assertThat(settings.drainSeconds()).isEqualTo(5);
  }

  @Test
  void isOffWithoutAProxyImage() {
    assertThat(InjectionSettings.fromEnvironment(Map.of())).isEmpty();
    assertThat(WebhookSettings.fromEnvironment(Map.of(), CertificateSettings.defaults())).isEmpty();
  }

  @Test
  void badSettingsSayWhichVariableToFix() {
    Map<String, String> noPort = new java.util.HashMap<>(CHART);
    noPort.put("WEFT_INJECTION_XDS_ADDRESS", "weft-xds");
    assertThatThrownBy(() -> InjectionSettings.fromEnvironment(noPort))
        .hasMessageContaining("WEFT_INJECTION_XDS_ADDRESS must be host:port");
    Map<String, String> badCidr = new java.util.HashMap<>(CHART);
    badCidr.put("WEFT_INJECTION_EXCLUDE_OUTBOUND_CIDRS", "everything");
    assertThatThrownBy(() -> InjectionSettings.fromEnvironment(badCidr))
        .hasMessageContaining("WEFT_INJECTION_EXCLUDE_*").hasMessageContaining("'everything'");
    Map<String, String> noNamespace = new java.util.HashMap<>(CHART);
    noNamespace.remove("WEFT_POD_NAMESPACE");
    assertThatThrownBy(() -> WebhookSettings.fromEnvironment(noNamespace, CertificateSettings.defaults()))
        .hasMessageContaining("WEFT_POD_NAMESPACE");
  }

  @Test
  void theWebhookCertificateNamesTheServiceEveryWayTheApiserverMayCallIt() {
    WebhookSettings webhook = WebhookSettings.fromEnvironment(CHART, CertificateSettings.defaults()).orElseThrow();

    assertThat(webhook.dnsNames()).containsExactly("weft-webhook", "weft-webhook.weft-system",
        "weft-webhook.weft-system.svc", "weft-webhook.weft-system.svc.cluster.local");
    assertThat(webhook.address().getPort()).isEqualTo(8443);
    assertThat(webhook.configurationName()).isEqualTo("weft-injection");
    assertThat(webhook.caSecret()).isEqualTo(CertificateSettings.defaults().caSecret());
  }
}
