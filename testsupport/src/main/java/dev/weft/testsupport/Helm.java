package dev.weft.testsupport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The pinned helm binary against one cluster's kubeconfig, with its caches and config in a folder
 * of its own (never the person's ~/.cache/helm), as a user types it.
 */
public final class Helm {

  public static final Duration TIMEOUT = Duration.ofMinutes(3);

  private final Path binary;
  private final Path kubeconfig;
  private final Path home;

  /** helm at {@code binary} using {@code kubeconfig}, keeping its cache, config and data under {@code home}. */
  public Helm(Path binary, Path kubeconfig, Path home) {
    this.binary = binary;
    this.kubeconfig = kubeconfig;
    this.home = home;
  }

  /** The helm of {@code tools} against {@code kubeconfig}, its state under {@code home}. */
  public static Helm of(WeftTools tools, Path kubeconfig, Path home) {
    return new Helm(tools.helm(), kubeconfig, home);
  }

  /** {@code helm <args>}; never throws on a non-zero exit. */
  public CommandResult run(String... args) {
    List<String> command = new ArrayList<>(List.of(binary.toString(), "--kubeconfig", kubeconfig.toString()));
    command.addAll(List.of(args));
    return Command.run(command, Map.of("HELM_CACHE_HOME", home.resolve("helm-cache").toString(),
        "HELM_CONFIG_HOME", home.resolve("helm-config").toString(),
        "HELM_DATA_HOME", home.resolve("helm-data").toString()), null, TIMEOUT);
  }
}
