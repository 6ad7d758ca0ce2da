package dev.weft.e2e;

import dev.weft.testsupport.Kubectl;
import java.nio.file.Path;

/** Installs the generated CRDs with kubectl, as a user would, and waits until they are served. */
final class WeftCrds {

  static final Path ROOT = Path.of(System.getProperty("weft.repo.root"));

  private WeftCrds() {}

  static void install(Kubectl kubectl) {
    kubectl.run("apply", "-f", ROOT.resolve("crds/manifests").toString()).requireSuccess();
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s",
        "crd/trafficsplits.weft.dev", "crd/virtualservices.weft.dev",
        "crd/accesspolicies.weft.dev", "crd/meshstatuses.weft.dev").requireSuccess();
  }
}
