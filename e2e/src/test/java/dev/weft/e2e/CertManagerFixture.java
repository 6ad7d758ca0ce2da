package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * cert-manager as hack/tools.sh provisions it: the CRDs of the pinned release
 * ({@code .tools/cert-manager/crds}, copied from the module's {@code deploy/crds}) and, when it
 * could be built, its controllers ({@code .tools/bin/cert-manager-controller}).
 */
final class CertManagerFixture {

  private CertManagerFixture() {}

  static Path crds(WeftTools tools) {
    return tools.dir().resolve("cert-manager").resolve("crds");
  }

  /** Installs cert-manager's CRDs (cert-manager.io and acme.cert-manager.io) and waits until they serve. */
  static void installCrds(WeftTools tools, Kubectl kubectl) throws IOException {
    Path dir = crds(tools);
    assertThat(dir).as("cert-manager's CRDs; run hack/tools.sh").isDirectory();
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).as("CRD files in " + dir).isNotEmpty();
    for (Path file : files) {
      kubectl.run("apply", "--server-side", "-f", file.toString()).requireSuccess();
    }
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s", "crd/certificates.cert-manager.io",
        "crd/clusterissuers.cert-manager.io", "crd/issuers.cert-manager.io",
        "crd/certificaterequests.cert-manager.io").requireSuccess();
  }
}
