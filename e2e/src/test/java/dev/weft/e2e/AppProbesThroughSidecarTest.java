package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weft.operator.injection.CaptureRules;
import dev.weft.operator.injection.InjectionSettings;
import dev.weft.operator.injection.SidecarInjector;
import dev.weft.testsupport.NetworkNamespace;
import dev.weft.testsupport.WeftTools;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An injected pod's HTTP readiness probe, as the kubelet sends it, through a real Envoy started
 * with the injector's own arguments: in a private network namespace with the capture rules
 * installed, the probe the injector rewrote (to the sidecar's 15021) reaches the app's port and
 * path over loopback, while a plaintext request to the app's port itself is captured to 15006. No
 * xds-server is needed: the probe listener is in the bootstrap. Addresses: 198.18.14.0/30 only.
 */
class AppProbesThroughSidecarTest {

  static final int SUBNET = 14;
  static NetworkNamespace netns;
  static Pod injected;
  static final List<Process> processes = new ArrayList<>();
  static Path envoyLog;

  @BeforeAll
  static void runTheSidecarAndAnAppInANamespace() throws Exception {
    netns = NetworkNamespace.create("app-probes", SUBNET);
    Pod pod = new PodBuilder().withNewMetadata().withName("payments-v1-abcde").withNamespace("shop").endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("payments:1")
        .addNewPort().withContainerPort(8080).endPort()
        .withNewReadinessProbe().withNewHttpGet().withPath("/healthz").withNewPort(8080).endHttpGet()
        .endReadinessProbe().endContainer().endSpec().build();
    // Nothing listens at the xds address: the probe listener must work from the bootstrap alone.
    injected = new SidecarInjector(InjectionSettings.of("127.0.0.1", 1, "weft-system")).inject(pod, "shop");

    Container init = injected.getSpec().getInitContainers().get(0);
    String script = init.getCommand().get(2);
    String capture = script.substring(script.indexOf("set -e\n"));
    assertThat(netns.run(Duration.ofSeconds(20), List.of("sh", "-c", capture)).exitCode()).isZero();

    Path app = Files.createTempDirectory("weft-app");
    Files.writeString(app.resolve("healthz"), "app healthy\n");
    Files.writeString(app.resolve("index.html"), "app\n");
    start(List.of("busybox", "httpd", "-f", "-p", "8080", "-h", app.toString()), null);
    Path inbound = Files.createTempDirectory("weft-inbound");
    Files.writeString(inbound.resolve("index.html"), "inbound listener\n");
    start(List.of("busybox", "httpd", "-f", "-p", "15006", "-h", inbound.toString()), null);

    Container proxy = injected.getSpec().getInitContainers().get(1);
    List<String> envoy = new ArrayList<>(List.of(WeftTools.locate().envoy().toString()));
    proxy.getArgs().forEach(a -> envoy.add(a.replace("$(WEFT_POD_NAME)", "payments-v1-abcde")));
    envoy.addAll(List.of("--base-id", String.valueOf(SUBNET + 4000)));
    envoyLog = Files.createTempFile("weft-envoy-probes", ".log");
    start(envoy, envoyLog);
  }

  static void start(List<String> command, Path log) throws Exception {
    List<String> full = new ArrayList<>(netns.enter());
    full.addAll(command);
    ProcessBuilder builder = new ProcessBuilder(full).redirectErrorStream(true);
    builder.redirectOutput(log == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(log.toFile()));
    processes.add(builder.start());
  }

  @AfterAll
  static void tearDown() {
    processes.forEach(Process::destroyForcibly);
    if (netns != null) {
      netns.close();
    }
  }

  static HttpResponse<String> get(String url) throws Exception {
    return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build().send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theRewrittenReadinessProbeReachesTheAppThroughTheSidecar() throws Exception {
    Container app = injected.getSpec().getContainers().get(0);
    String probe = "http://" + netns.namespaceAddress() + ":" + app.getReadinessProbe().getHttpGet().getPort()
        .getIntVal() + app.getReadinessProbe().getHttpGet().getPath();

    // Envoy binds its listeners once its initial xDS fetch gives up (15 s without an xds-server).
    HttpResponse<String> answer = await("the probe answered through Envoy (log " + envoyLog + ")")
        .atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
        .until(() -> get(probe), r -> r.statusCode() == 200);

    assertThat(probe).endsWith(":15021/app-health/app/readiness");
    assertThat(answer.body()).isEqualTo("app healthy\n");
    assertThat(answer.headers().firstValue("server")).hasValueSatisfying(s -> assertThat(s).contains("envoy"));
    System.out.println("GET " + probe + " -> " + answer.statusCode() + " " + answer.body().strip() + " (server "
        + answer.headers().firstValue("server").orElse("?") + ")");
  }

  @Test
  void aPlainRequestToTheAppsPortIsCapturedInbound() throws Exception {
    HttpResponse<String> answer = await("the inbound stand-in answers").atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> get("http://" + netns.namespaceAddress() + ":8080/"), r -> r.statusCode() == 200);

    assertThat(answer.body()).isEqualTo("inbound listener\n");
    assertThat(CaptureRules.SIDECAR_PORTS).contains(15021);
  }
}
