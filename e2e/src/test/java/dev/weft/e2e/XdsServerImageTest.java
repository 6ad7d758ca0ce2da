package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.testsupport.WeftTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The xds-server image as built ({@code -Pimages}, target/image.tar) starts its JVM on the AppCDS
 * archive it carries: its layers unpacked into a folder, its entrypoint's java run there in a
 * chroot (as the container runs it: the image's JVM, its paths, jib's file times) with
 * {@code -Xshare:on}, which refuses to start when the archive does not map, and the server's main
 * class and the fabric8 client come from the archive, not from their jars.
 */
class XdsServerImageTest {

  @Test
  void theImagesJvmMapsTheArchiveOfTheServersClasses(@TempDir Path work) throws Exception {
    Path image = WeftTools.repoRoot().resolve("xds-server/target/image.tar");
    assertThat(image).as("build the images first (`mvn package -Pimages -pl xds-server -am`; `make test` does)")
        .isRegularFile();
    Path root = work.resolve("rootfs");
    run(work, "mkdir -p rootfs/proc layers && tar -xf " + image + " -C layers && for layer in $(python3 -c "
        + "'import json; print(\" \".join(json.load(open(\"layers/manifest.json\"))[0][\"Layers\"]))'); do "
        + "tar -xf layers/$layer -C rootfs; done");
    String entrypoint = run(work, "python3 -c 'import json; m = json.load(open(\"layers/manifest.json\")); "
        + "print(json.load(open(\"layers/\" + m[0][\"Config\"]))[\"config\"][\"Entrypoint\"])'");
    assertThat(entrypoint).contains("@/app/cds/java-args", "dev.weft.xds.XdsServerApp");
    assertThat(Files.readString(root.resolve("app/cds/java-args"))).contains("-XX:SharedArchiveFile=/app/cds/");

    String version = run(work, inImage(root) + " /opt/java/bin/java -Xshare:on @/app/cds/java-args -version 2>&1");
    // Started with no cluster to talk to, the server fails soon after loading its classes; the log says from where.
    String loads = run(work, "timeout 10 " + inImage(root) + " /opt/java/bin/java -Xlog:class+load @/app/cds/java-args "
        + "dev.weft.xds.XdsServerApp 2>&1 | grep -E ' (dev.weft.xds.XdsServerApp|"
        + "io.fabric8.kubernetes.client.KubernetesClientBuilder) source' || true");

    System.out.println("xds-server image: " + version.lines().reduce((a, b) -> b).orElse("") + "; " + loads.strip());
    assertThat(version).contains("sharing");
    assertThat(loads).contains("dev.weft.xds.XdsServerApp source: shared objects file",
        "io.fabric8.kubernetes.client.KubernetesClientBuilder source: shared objects file");
  }

  /** A chroot of {@code root} with its own /proc (the JVM's loader finds its libraries through /proc/self/exe). */
  private static String inImage(Path root) {
    return "unshare --mount --pid --fork --mount-proc=" + root.resolve("proc") + " chroot " + root;
  }

  private static String run(Path dir, String script) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(List.of("bash", "-c", "set -eo pipefail; " + script)).directory(dir.toFile())
        .redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("finished: %s", script).isTrue();
    assertThat(process.exitValue()).as("%s\n%s", script, output).isZero();
    return output;
  }
}
