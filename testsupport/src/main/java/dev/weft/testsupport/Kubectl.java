package dev.weft.testsupport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The real kubectl binary, run against one cluster's kubeconfig, as a user would type it. */
public final class Kubectl {

  private final Path binary;
  private final Path kubeconfig;
  private final Path cacheDir;
  private final Duration timeout;
  private final List<String> identity;

  /** kubectl at {@code binary} using {@code kubeconfig}, caching discovery in {@code cacheDir}. */
  public Kubectl(Path binary, Path kubeconfig, Path cacheDir) {
    this(binary, kubeconfig, cacheDir, Command.DEFAULT_TIMEOUT, List.of());
  }

  private Kubectl(Path binary, Path kubeconfig, Path cacheDir, Duration timeout, List<String> identity) {
    this.binary = binary;
    this.kubeconfig = kubeconfig;
    this.cacheDir = cacheDir;
    this.timeout = timeout;
    this.identity = List.copyOf(identity);
  }

  /** The same kubectl, killed when a command outlasts {@code timeout}. */
  public Kubectl withTimeout(Duration timeout) {
    return new Kubectl(binary, kubeconfig, cacheDir, timeout, identity);
  }

  /** The same kubectl acting as another identity ({@code --as}, {@code --as-group}); the kubeconfig's user must be allowed to impersonate. */
  public Kubectl impersonating(String user, String... groups) {
    List<String> flags = new ArrayList<>();
    flags.add("--as=" + user);
    for (String group : groups) {
      flags.add("--as-group=" + group);
    }
    return new Kubectl(binary, kubeconfig, cacheDir, timeout, flags);
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  /** {@code kubectl <args>}, e.g. {@code run("get", "trafficsplits", "-A")}; never throws on a non-zero exit. */
  public CommandResult run(String... args) {
    return runWithInput(null, args);
  }

  /** {@code kubectl <args>} with {@code stdin} fed to it (e.g. {@code "apply", "-f", "-"}). */
  public CommandResult runWithInput(String stdin, String... args) {
    List<String> command = new ArrayList<>();
    command.add(binary.toString());
    command.add("--kubeconfig=" + kubeconfig);
    command.addAll(identity);
    command.addAll(List.of(args));
    // Our own discovery cache: the user's ~/.kube/cache would fill with one entry per test port.
    Map<String, String> environment = Map.of("KUBECONFIG", kubeconfig.toString(),
        "KUBECACHEDIR", cacheDir.toString());
    return Command.run(command, environment, stdin, timeout);
  }

  /** {@code kubectl apply -f -} with {@code yaml}; check {@link CommandResult#succeeded()} or call requireSuccess(). */
  public CommandResult apply(String yaml) {
    return runWithInput(yaml, "apply", "-f", "-");
  }

  /** {@code kubectl delete -f -} with {@code yaml}. */
  public CommandResult delete(String yaml) {
    return runWithInput(yaml, "delete", "--ignore-not-found", "-f", "-");
  }

  @Override
  public String toString() {
    return "Kubectl[" + binary + " --kubeconfig=" + kubeconfig + "]";
  }
}
