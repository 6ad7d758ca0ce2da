package dev.weft.demo;

import dev.weft.testsupport.CommandResult;
import dev.weft.testsupport.Kubectl;
import dev.weft.testsupport.WeftTools;
import java.nio.file.Path;

/** Installs the generated CRDs with kubectl, as a user would, and waits until they are served. */
public final class WeftCrds {

  private WeftCrds() {}

  /** {@code kubectl apply -f crds/manifests} from the repository the tools were found in. */
  public static void install(Kubectl kubectl) {
    install(kubectl, WeftTools.repoRoot());
  }

  /** {@code kubectl apply -f <repoRoot>/crds/manifests}, then waits for every CRD to be Established. */
  public static void install(Kubectl kubectl, Path repoRoot) {
    kubectl.run("apply", "-f", repoRoot.resolve("crds/manifests").toString()).requireSuccess();
    // kubectl wait fails at once ("accessor error") on a CRD the apiserver has not given a status
    // yet; a few tries get past that instant, and --timeout still bounds each.
    CommandResult wait = null;
    for (int attempt = 0; attempt < 5 && (wait == null || !wait.succeeded()); attempt++) {
      wait = kubectl.run("wait", "--for=condition=Established", "--timeout=60s",
          "crd/trafficsplits.weft.dev", "crd/virtualservices.weft.dev",
          "crd/accesspolicies.weft.dev", "crd/meshstatuses.weft.dev");
      if (!wait.succeeded() && !wait.stderr().contains("accessor error")) {
        break;
      }
    }
    wait.requireSuccess();
  }
}
