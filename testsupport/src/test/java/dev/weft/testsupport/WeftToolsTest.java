package dev.weft.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeftToolsTest {

  @TempDir
  Path dir;

  @Test
  void findsAnExecutableInBin() throws Exception {
    Path envoy = executable("envoy");

    assertThat(WeftTools.at(dir).envoy()).isEqualTo(envoy);
  }

  @Test
  void aMissingToolNamesMakeTools() {
    assertThatThrownBy(() -> WeftTools.at(dir).kubeApiServer())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("kube-apiserver not found at " + dir.resolve("bin/kube-apiserver"))
        .hasMessageContaining("make tools")
        .hasMessageContaining(WeftTools.TOOLS_DIR_ENV);
  }

  @Test
  void aFileThatIsNotExecutableCountsAsMissing() throws Exception {
    Files.createDirectories(dir.resolve("bin"));
    Files.writeString(dir.resolve("bin/helm"), "not a binary");
    Files.setPosixFilePermissions(dir.resolve("bin/helm"), PosixFilePermissions.fromString("rw-r--r--"));

    assertThatThrownBy(() -> WeftTools.at(dir).helm()).hasMessageContaining("make tools");
  }

  @Test
  void readsPinnedVersions() throws Exception {
    Files.writeString(dir.resolve("versions.txt"), """
            # name version
            envoy 1.40.0
            kube-apiserver 1.34.4

            etcd 3.6.4
            """);

    WeftTools tools = WeftTools.at(dir);

    assertThat(tools.versions()).containsExactly(
        java.util.Map.entry("envoy", "1.40.0"),
        java.util.Map.entry("kube-apiserver", "1.34.4"),
        java.util.Map.entry("etcd", "3.6.4"));
    assertThat(tools.version("etcd")).hasValue("3.6.4");
    assertThat(tools.version("helm")).isEmpty();
  }

  @Test
  void missingVersionsFileNamesMakeTools() {
    assertThatThrownBy(() -> WeftTools.at(dir).versions()).hasMessageContaining("make tools");
  }

  @Test
  void locatesTheRepositoryToolsFolderFromTheSurefireProperty() {
    // Surefire sets weft.repo.root; without WEFT_TOOLS_DIR the tools live in <root>/.tools.
    String root = System.getProperty(WeftTools.REPO_ROOT_PROPERTY);
    if (System.getenv(WeftTools.TOOLS_DIR_ENV) == null && root != null) {
      assertThat(WeftTools.locate().dir()).isEqualTo(Path.of(root, ".tools").toAbsolutePath().normalize());
    }
  }

  private Path executable(String name) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path file = bin.resolve(name);
    Files.writeString(file, "#!/bin/sh\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file.toAbsolutePath().normalize();
  }
}
