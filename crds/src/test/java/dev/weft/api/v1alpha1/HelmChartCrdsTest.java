package dev.weft.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The helm chart installs the CRDs from its own {@code crds/} folder; it must hold exactly the files
 * of {@code crds/manifests} ({@code make crds} copies them there).
 */
class HelmChartCrdsTest {

  static final Path MANIFESTS = Path.of("manifests");
  static final Path CHART_CRDS = Path.of("..", "helm", "weft", "crds");

  @Test
  void chartCrdsAreIdenticalToTheGeneratedManifests() throws IOException {
    Map<String, String> manifests = read(MANIFESTS);
    assertThat(manifests).as("crds/manifests").isNotEmpty();
    assertThat(read(CHART_CRDS))
        .as("helm/weft/crds differs from crds/manifests; run `make crds` (it copies them) and commit the result")
        .isEqualTo(manifests);
  }

  private static Map<String, String> read(Path dir) throws IOException {
    Map<String, String> files = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return files;
    }
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : list.filter(Files::isRegularFile).toList()) {
        files.put(p.getFileName().toString(), Files.readString(p));
      }
    }
    return files;
  }
}
