package dev.weft.e2e.scale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** Defaults the chart ships, read from helm/weft/values.yaml so a benchmark runs what an install gets. */
final class ChartValues {

  private ChartValues() {}

  /** The xds-server's heap, {@code xds.jvm.maxHeap} (e.g. {@code 256m}). */
  static String xdsMaxHeap(Path repoRoot) {
    Path values = repoRoot.resolve("helm/weft/values.yaml");
    try {
      JsonNode heap = new ObjectMapper(new YAMLFactory()).readTree(values.toFile()).path("xds").path("jvm")
          .path("maxHeap");
      if (!heap.isTextual()) {
        throw new IllegalStateException(values + " has no xds.jvm.maxHeap");
      }
      return heap.asText();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + values, e);
    }
  }
}
