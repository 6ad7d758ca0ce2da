package dev.weft.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A container image as a docker-archive tar ({@code docker save} layout), which the test node's
 * containerd imports without a registry: packed from a folder by {@code hack/pack-image.sh}, or
 * read back for the name it carries.
 */
public final class ImageArchive {

  private static final Pattern REPO_TAG = Pattern.compile("\"RepoTags\"\\s*:\\s*\\[\\s*\"([^\"]+)\"");
  private static final int BLOCK = 512;

  private ImageArchive() {
  }

  /**
   * Packs {@code rootfs} as a one-layer image named {@code name} (with a domain and a tag, e.g.
   * {@code weft.local/hello:1}) into {@code out}, with {@code entrypoint} (empty: the pod spec names
   * the command). Returns {@code out}.
   */
  public static Path pack(Path rootfs, String name, Path out, List<String> entrypoint) {
    List<String> command = new ArrayList<>(List.of(
        WeftTools.repoRoot().resolve("hack").resolve("pack-image.sh").toString(),
        rootfs.toString(), name, out.toString()));
    if (!entrypoint.isEmpty()) {
      command.add("--");
      command.addAll(entrypoint);
    }
    Command.run(command, Map.of(), null, Command.DEFAULT_TIMEOUT).requireSuccess();
    return out;
  }

  /** The image reference an archive carries (the first RepoTag of its manifest.json). */
  public static String name(Path archive) {
    try (InputStream in = Files.newInputStream(archive)) {
      byte[] header = new byte[BLOCK];
      while (in.readNBytes(header, 0, BLOCK) == BLOCK && header[0] != 0) {
        String entry = field(header, 0, 100);
        long size = Long.parseLong(field(header, 124, 12).strip(), 8);
        long padded = (size + BLOCK - 1) / BLOCK * BLOCK;
        if (entry.equals("manifest.json") || entry.equals("./manifest.json")) {
          String manifest = new String(in.readNBytes((int) size), StandardCharsets.UTF_8);
          Matcher tag = REPO_TAG.matcher(manifest);
          if (!tag.find()) {
            throw new IllegalStateException(archive + ": manifest.json names no image: " + manifest);
          }
          return tag.group(1);
        }
        in.skipNBytes(padded);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + archive, e);
    }
    throw new IllegalStateException(archive + " has no manifest.json: not a docker-archive image");
  }

  private static String field(byte[] header, int offset, int length) {
    int end = offset;
    while (end < offset + length && header[end] != 0) {
      end++;
    }
    return new String(header, offset, end - offset, StandardCharsets.US_ASCII);
  }
}
