package dev.weft.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The real binaries (Envoy, kube-apiserver, etcd, kubectl, helm) that `make tools` provisions. */
public final class WeftTools {

  /** Environment variable that points at a tools folder other than {@code <repo>/.tools}. */
  public static final String TOOLS_DIR_ENV = "WEFT_TOOLS_DIR";

  /** System property that surefire sets to the repository root. */
  public static final String REPO_ROOT_PROPERTY = "weft.repo.root";

  private final Path dir;

  private WeftTools(Path dir) {
    this.dir = dir.toAbsolutePath().normalize();
  }

  /** The tools folder named by {@value #TOOLS_DIR_ENV}, else {@code <weft.repo.root>/.tools}. */
  public static WeftTools locate() {
    String fromEnv = System.getenv(TOOLS_DIR_ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return new WeftTools(Path.of(fromEnv));
    }
    return new WeftTools(repoRoot().resolve(".tools"));
  }

  /** Tools in an explicit folder laid out like {@code .tools} (bin/, versions.txt). */
  public static WeftTools at(Path dir) {
    return new WeftTools(dir);
  }

  public Path dir() {
    return dir;
  }

  public Path envoy() {
    return binary("envoy");
  }

  public Path kubeApiServer() {
    return binary("kube-apiserver");
  }

  public Path etcd() {
    return binary("etcd");
  }

  public Path kubectl() {
    return binary("kubectl");
  }

  public Path helm() {
    return binary("helm");
  }

  /** An executable in {@code bin/}, checked to be there so a test fails with the fix in its message. */
  public Path binary(String name) {
    Path path = dir.resolve("bin").resolve(name);
    if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
      throw missing(name, path);
    }
    return path;
  }

  /** The pinned versions from {@code versions.txt}, one {@code name version} a line, in file order. */
  public Map<String, String> versions() {
    Path file = dir.resolve("versions.txt");
    if (!Files.isRegularFile(file)) {
      throw missing("versions.txt", file);
    }
    Map<String, String> versions = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(file)) {
        String trimmed = line.strip();
        if (trimmed.isEmpty() || trimmed.startsWith("#")) {
          continue;
        }
        String[] parts = trimmed.split("\\s+", 2);
        versions.put(parts[0], parts.length > 1 ? parts[1].strip() : "");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return Collections.unmodifiableMap(versions);
  }

  /** The pinned version of one tool, if versions.txt names it. */
  public Optional<String> version(String name) {
    return Optional.ofNullable(versions().get(name));
  }

  @Override
  public String toString() {
    return "WeftTools[" + dir + "]";
  }

  private IllegalStateException missing(String what, Path expected) {
    return new IllegalStateException(what + " not found at " + expected
        + ": run `make tools` in the repository root (it runs hack/tools.sh), or set "
        + TOOLS_DIR_ENV + " to a folder that holds bin/ and versions.txt");
  }

  /**
   * The repository root: the surefire property when set, else the nearest folder upwards from the
   * working directory that has hack/tools.sh, so tests started from an IDE find the tools too.
   */
  public static Path repoRoot() {
    String fromProperty = System.getProperty(REPO_ROOT_PROPERTY);
    if (fromProperty != null && !fromProperty.isBlank()) {
      return Path.of(fromProperty);
    }
    Path cwd = Path.of("").toAbsolutePath();
    for (Path candidate = cwd; candidate != null; candidate = candidate.getParent()) {
      if (Files.isRegularFile(candidate.resolve("hack").resolve("tools.sh"))
          || Files.isDirectory(candidate.resolve(".tools"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("cannot find the Weft repository root from " + cwd
        + ": set -D" + REPO_ROOT_PROPERTY + "=<repo> or " + TOOLS_DIR_ENV + "=<repo>/.tools");
  }
}
