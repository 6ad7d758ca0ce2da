package dev.weft.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A directory laid out as the kubelet mounts a Secret: the files live in a versioned directory,
 * {@code ..data} links to it and each key links through {@code ..data}. An update writes a new
 * directory and renames a new {@code ..data} link over the old one, one atomic move, which is what
 * Envoy's watched directory reacts to. Local pods have no kubelet; this stands in for it.
 */
public final class SecretVolume {

  private static final AtomicInteger VERSIONS = new AtomicInteger();

  private SecretVolume() {}

  /** Writes {@code files} (name to content) into {@code dir} as the kubelet would, replacing what was there. */
  public static synchronized void update(Path dir, Map<String, String> files) throws IOException {
    Files.createDirectories(dir);
    Path version = dir.resolve("..v" + VERSIONS.incrementAndGet());
    Files.createDirectories(version);
    for (Map.Entry<String, String> file : files.entrySet()) {
      Files.writeString(version.resolve(file.getKey()), file.getValue());
    }
    Path tmp = dir.resolve("..data_tmp");
    Files.deleteIfExists(tmp);
    Files.createSymbolicLink(tmp, version.getFileName());
    Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    for (String key : files.keySet()) {
      Path link = dir.resolve(key);
      if (!Files.isSymbolicLink(link)) {
        Files.createSymbolicLink(link, Path.of("..data").resolve(key));
      }
    }
  }
}
