package dev.weft.operator.injection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.xds.bootstrap.SidecarBootstrap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SidecarInjectorTest {

  static final Map<String, String> LABELLED = Map.of("weft.dev/inject", "enabled");
  static final InjectionSettings SETTINGS = InjectionSettings.of("weft-xds.weft-system.svc", 18000, "weft-system")
      .withImages("weft.local/envoy:1.36", "weft.local/iptables:1.8");
  final SidecarInjector injector = new SidecarInjector(SETTINGS);

  static PodBuilder pod() {
    return new PodBuilder().withNewMetadata().withGenerateName("payments-v1-").withNamespace("shop")
        .addToLabels("app", "payments").endMetadata()
        .withNewSpec().withServiceAccountName("payments")
        .addNewContainer().withName("app").withImage("payments:1")
        .addNewPort().withContainerPort(8080).endPort().endContainer()
        .endSpec();
  }

  static Container init(Pod pod, String name) {
    return pod.getSpec().getInitContainers().stream().filter(c -> c.getName().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void addsTheCaptureInitContainerThenEnvoyAsANativeSidecarBeforeTheAppsOwnInitContainers() {
    Pod original = pod().editSpec().addNewInitContainer().withName("migrate").withImage("m:1").endInitContainer()
        .endSpec().build();

    SidecarInjector.Outcome outcome = injector.admit(original, "shop", LABELLED);

    assertThat(outcome.injected()).isTrue();
    assertThat(outcome.pod().getSpec().getInitContainers()).extracting(Container::getName)
        .containsExactly("weft-init", "weft-proxy", "migrate");
    Container proxy = init(outcome.pod(), "weft-proxy");
    assertThat(proxy.getRestartPolicy()).isEqualTo("Always");
    assertThat(proxy.getImage()).isEqualTo("weft.local/envoy:1.36");
    assertThat(outcome.pod().getSpec().getContainers()).extracting(Container::getName).containsExactly("app");
  }

  @Test
  void runsEnvoyAsTheUnprivilegedProxyUserOnAReadOnlyRoot() {
    Container proxy = init(injector.inject(pod().build(), "shop"), "weft-proxy");

    assertThat(proxy.getSecurityContext().getRunAsUser()).isEqualTo(1337L);
    assertThat(proxy.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(proxy.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(proxy.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(proxy.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
  }

  @Test
  void probesEnvoysReadinessOnTheStatsPortSoTheAppStartsOnlyOnceTheProxyHasConfig() {
    Container proxy = init(injector.inject(pod().build(), "shop"), "weft-proxy");

    assertThat(proxy.getStartupProbe().getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(proxy.getStartupProbe().getHttpGet().getPort().getIntVal()).isEqualTo(15090);
    assertThat(proxy.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(proxy.getLifecycle().getPreStop().getSleep().getSeconds()).isEqualTo(5L);
  }

  @Test
  void keepsTheDrainPauseShorterThanThePodsGracePeriodAsTheApiserverRequires() {
    Pod quick = pod().editSpec().withTerminationGracePeriodSeconds(2L).endSpec().build();
    Pod instant = pod().editSpec().withTerminationGracePeriodSeconds(1L).endSpec().build();

    assertThat(init(injector.inject(quick, "shop"), "weft-proxy").getLifecycle().getPreStop().getSleep().getSeconds())
        .isEqualTo(1L);
    assertThat(init(injector.inject(instant, "shop"), "weft-proxy").getLifecycle()).isNull();
  }

  @Test
  void theInitContainerHasOnlyTheNetworkCapabilitiesItNeeds() {
    Container init = init(injector.inject(pod().build(), "shop"), "weft-init");

    assertThat(init.getImage()).isEqualTo("weft.local/iptables:1.8");
    assertThat(init.getSecurityContext().getRunAsUser()).isZero();
    assertThat(init.getSecurityContext().getCapabilities().getAdd()).containsExactly("NET_ADMIN", "NET_RAW");
    assertThat(init.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(init.getCommand()).hasSize(3).startsWith("sh", "-c");
    assertThat(init.getCommand().get(2))
        .contains("-A WEFT_OUTBOUND -p tcp -j REDIRECT --to-ports 15001")
        .contains("> /var/run/weft/sds/identity.json")
        .contains("> /var/run/weft/sds/trust.json");
  }

  @Test
  void theInitScriptWritesExactlyTheSdsFilesOfTheBootstrapsIdentity(@TempDir Path dir)
      throws Exception {
    String script = init(injector.inject(pod().build(), "shop"), "weft-init").getCommand().get(2);
    // Only the file-writing part (before the capture rules), into a directory of the test's.
    String sds = script.substring(0, script.indexOf("set -e\n")).replace("/var/run/weft/sds", dir.toString());

    Process sh = new ProcessBuilder("sh", "-c", sds).redirectErrorStream(true).start();
    assertThat(sh.waitFor()).as(new String(sh.getInputStream().readAllBytes())).isZero();

    Map<String, String> expected = SidecarBootstrap.sdsFiles("/var/run/weft/identity");
    assertThat(expected).containsOnlyKeys("identity.json", "trust.json");
    for (var file : expected.entrySet()) {
      assertThat(Files.readString(dir.resolve(file.getKey()))).isEqualTo(file.getValue() + "\n");
    }
  }

  @Test
  void theBootstrapNamesTheNodeAfterThePodNameTheKubeletFillsIn() {
    Pod injected = injector.inject(pod().build(), "shop");
    Container proxy = init(injected, "weft-proxy");
    String bootstrap = proxy.getArgs().get(proxy.getArgs().indexOf("--config-yaml") + 1);

    assertThat(bootstrap).contains("\"id\": \"$(WEFT_POD_NAME).shop\"")
        .contains("\"WEFT_SERVICE_ACCOUNT\": \"payments\"")
        .contains("\"WEFT_APP_PORTS\": \"8080\"")
        .containsPattern("\"WEFT_LABELS\": \\{\\s*\"app\": \"payments\"")
        .contains("weft-xds.weft-system.svc")
        .contains("DELTA_GRPC");
    assertThat(proxy.getEnv()).anySatisfy(env -> {
      assertThat(env.getName()).isEqualTo("WEFT_POD_NAME");
      assertThat(env.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
    });
  }

  @Test
  void reachesTheXdsServerOverMutualTlsWhenItsIdentityIsSet() {
    SidecarInjector tls = new SidecarInjector(
        SETTINGS.withXdsServerId("spiffe://cluster.local/ns/weft-system/sa/weft-xds"));
    Container proxy = init(tls.inject(pod().build(), "shop"), "weft-proxy");

    assertThat(String.join(" ", proxy.getArgs()))
        .contains("spiffe://cluster.local/ns/weft-system/sa/weft-xds")
        .contains("/var/run/weft/sds/identity.json");
  }

  @Test
  void mountsTheServiceAccountsIdentitySecretReadOnly() {
    Pod injected = injector.inject(pod().build(), "shop");

    assertThat(injected.getSpec().getVolumes()).anySatisfy(v -> {
      assertThat(v.getName()).isEqualTo("weft-identity");
      assertThat(v.getSecret().getSecretName()).isEqualTo("weft-identity-payments");
    });
    assertThat(init(injected, "weft-proxy").getVolumeMounts()).anySatisfy(m -> {
      assertThat(m.getMountPath()).isEqualTo("/var/run/weft/identity");
      assertThat(m.getReadOnly()).isTrue();
    });
  }

  @Test
  void aPodWithoutServiceAccountUsesTheDefaultOnesSecret() {
    Pod injected = injector.inject(pod().editSpec().withServiceAccountName(null).endSpec().build(), "shop");

    assertThat(injected.getSpec().getVolumes()).anySatisfy(v ->
        assertThat(v.getSecret() == null ? null : v.getSecret().getSecretName()).isEqualTo("weft-identity-default"));
  }

  @Test
  void addsPrometheusScrapeAnnotationsUnlessThePodHasItsOwn() {
    Pod injected = injector.inject(pod().build(), "shop");
    Pod own = injector.inject(pod().editMetadata().addToAnnotations("prometheus.io/scrape", "true")
        .addToAnnotations("prometheus.io/port", "9100").endMetadata().build(), "shop");

    assertThat(injected.getMetadata().getAnnotations()).containsEntry("prometheus.io/scrape", "true")
        .containsEntry("prometheus.io/port", "15090").containsEntry("prometheus.io/path", "/stats/prometheus");
    assertThat(own.getMetadata().getAnnotations()).containsEntry("prometheus.io/port", "9100")
        .doesNotContainKey("prometheus.io/path");
  }

  @Test
  void takesTheProxysResourcesFromAnnotationsOverTheDefaults() {
    Pod injected = injector.inject(pod().editMetadata().addToAnnotations("weft.dev/proxy-cpu", "200m")
        .addToAnnotations("weft.dev/proxy-memory-limit", "1Gi").endMetadata().build(), "shop");
    Container proxy = init(injected, "weft-proxy");

    assertThat(proxy.getResources().getRequests()).containsEntry("cpu", new Quantity("200m"))
        .containsEntry("memory", new Quantity("64Mi"));
    assertThat(proxy.getResources().getLimits()).containsEntry("memory", new Quantity("1Gi"))
        .doesNotContainKey("cpu");
  }

  @Test
  void refusesAnnotationsItCannotReadNamingTheAnnotation() {
    assertThatThrownBy(() -> injector.inject(pod().editMetadata()
        .addToAnnotations("weft.dev/proxy-memory", "lots").endMetadata().build(), "shop"))
        .hasMessageContaining("weft.dev/proxy-memory").hasMessageContaining("lots");
    assertThatThrownBy(() -> injector.inject(pod().editMetadata()
        .addToAnnotations("weft.dev/exclude-outbound-ports", "5432,http").endMetadata().build(), "shop"))
        .hasMessageContaining("weft.dev/exclude-").hasMessageContaining("'http'");
    assertThatThrownBy(() -> injector.inject(pod().editMetadata()
        .addToAnnotations("weft.dev/proxy-log-level", "loud").endMetadata().build(), "shop"))
        .hasMessageContaining("weft.dev/proxy-log-level");
  }

  @Test
  void annotatedExclusionsReachTheCaptureRules() {
    Pod injected = injector.inject(pod().editMetadata()
        .addToAnnotations("weft.dev/exclude-outbound-ports", "5432")
        .addToAnnotations("weft.dev/exclude-outbound-cidrs", "169.254.169.254")
        .addToAnnotations("weft.dev/exclude-inbound-ports", "9090").endMetadata().build(), "shop");
    String script = init(injected, "weft-init").getCommand().get(2);

    assertThat(script).contains("-A WEFT_OUTBOUND -p tcp --dport 5432 -j RETURN")
        .contains("-A WEFT_OUTBOUND -d 169.254.169.254/32 -j RETURN")
        .contains("-A WEFT_INBOUND -p tcp --dport 9090 -j RETURN");
  }

  @Test
  void pointsTheAppsHttpProbesAtTheSidecarWhichForwardsThemOverLoopback() {
    Pod probed = pod().editSpec().editFirstContainer()
        .addNewPort().withName("admin").withContainerPort(9901).endPort()
        .withNewReadinessProbe().withNewHttpGet().withPath("/healthz").withNewPort(8080).endHttpGet()
          .withPeriodSeconds(3).endReadinessProbe()
        .withNewLivenessProbe().withNewHttpGet().withPath("/live").withNewPort("admin").endHttpGet().endLivenessProbe()
        .withNewStartupProbe().withNewTcpSocket().withNewPort(8080).endTcpSocket().endStartupProbe()
        .endContainer().endSpec().build();

    Pod injected = injector.inject(probed, "shop");

    Container app = injected.getSpec().getContainers().get(0);
    assertThat(app.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(15021);
    assertThat(app.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/app-health/app/readiness");
    assertThat(app.getReadinessProbe().getPeriodSeconds()).isEqualTo(3);
    assertThat(app.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/app-health/app/liveness");
    assertThat(app.getStartupProbe().getTcpSocket().getPort().getIntVal()).as("TCP probes stay").isEqualTo(8080);
    Container proxy = init(injected, "weft-proxy");
    String bootstrap = proxy.getArgs().get(proxy.getArgs().indexOf("--config-yaml") + 1);
    assertThat(bootstrap).contains("\"weft-app-probes\"").contains("\"path\": \"/app-health/app/readiness\"")
        .contains("\"prefixRewrite\": \"/healthz\"").contains("\"prefixRewrite\": \"/live\"")
        .contains("\"portValue\": 9901").contains("\"portValue\": 15021");
    assertThat(init(injected, "weft-init").getCommand().get(2))
        .contains("-A WEFT_INBOUND -p tcp --dport 15021 -j RETURN");
  }

  @Test
  void leavesTheAppsProbesAloneWhenThePodSaysSo() {
    Pod probed = pod().editMetadata().addToAnnotations("weft.dev/rewrite-app-probes", "false").endMetadata()
        .editSpec().editFirstContainer().withNewReadinessProbe().withNewHttpGet().withPath("/healthz")
        .withNewPort(8080).endHttpGet().endReadinessProbe().endContainer().endSpec().build();

    Container app = injector.inject(probed, "shop").getSpec().getContainers().get(0);

    assertThat(app.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(8080);
  }

  @Test
  void injectingAnInjectedPodChangesNothing() {
    Pod once = injector.admit(pod().build(), "shop", LABELLED).pod();

    SidecarInjector.Outcome twice = injector.admit(once, "shop", LABELLED);

    assertThat(twice.skipped()).contains(SkipReason.ALREADY_INJECTED);
    assertThat(Serialization.asJson(twice.pod())).isEqualTo(Serialization.asJson(once));
  }

  @Test
  void skipsPodsOutsideTheMeshWithTheReason() {
    Pod plain = pod().build();

    assertThat(injector.skipReason(plain, "shop", Map.of())).contains(SkipReason.NAMESPACE_NOT_LABELLED);
    assertThat(injector.skipReason(plain, "shop", Map.of("weft.dev/inject", "disabled")))
        .contains(SkipReason.NAMESPACE_NOT_LABELLED);
    assertThat(injector.skipReason(plain, "kube-system", LABELLED)).contains(SkipReason.SYSTEM_NAMESPACE);
    assertThat(injector.skipReason(plain, "weft-system", LABELLED)).contains(SkipReason.MESH_NAMESPACE);
    assertThat(injector.skipReason(pod().editMetadata().addToAnnotations("weft.dev/inject", "false").endMetadata()
        .build(), "shop", LABELLED)).contains(SkipReason.OPTED_OUT);
    assertThat(injector.skipReason(pod().editSpec().withHostNetwork(true).endSpec().build(), "shop", LABELLED))
        .contains(SkipReason.HOST_NETWORK);
    assertThat(injector.skipReason(plain, "shop", LABELLED)).isEmpty();
  }

  @Test
  void aSkippedPodIsReturnedUnchanged() {
    Pod plain = pod().build();

    SidecarInjector.Outcome outcome = injector.admit(plain, "shop", Map.of());

    assertThat(outcome.injected()).isFalse();
    assertThat(outcome.pod()).isSameAs(plain);
  }

  @Test
  void quotesScriptWordsSoAnySingleQuoteSurvives() {
    assertThat(SidecarInjector.quote("it's")).isEqualTo("'it'\\''s'");
  }
}
