package dev.weft.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageArchiveTest {

  @TempDir
  Path work;

  @Test
  void packsAFolderIntoAnArchiveThatCarriesItsName() throws IOException {
    Path rootfs = Files.createDirectories(work.resolve("rootfs/www"));
    Files.writeString(rootfs.resolve("index.html"), "hello\n");

    Path archive = ImageArchive.pack(work.resolve("rootfs"), "weft.local/hello:1", work.resolve("hello.tar"),
        List.of("/bin/httpd", "-f"));

    assertThat(ImageArchive.name(archive)).isEqualTo("weft.local/hello:1");
  }

  @Test
  void theSameFolderGivesTheSameArchive() throws IOException {
    Path rootfs = Files.createDirectories(work.resolve("rootfs"));
    Files.writeString(rootfs.resolve("file"), "content\n");

    Path first = ImageArchive.pack(rootfs, "weft.local/same:1", work.resolve("first.tar"), List.of());
    Files.setLastModifiedTime(rootfs.resolve("file"), java.nio.file.attribute.FileTime.fromMillis(0));
    Path second = ImageArchive.pack(rootfs, "weft.local/same:1", work.resolve("second.tar"), List.of());

    assertThat(Files.mismatch(first, second)).isEqualTo(-1L);
  }

  @Test
  void refusesANameWithoutADomainAndTag() {
    assertThatThrownBy(() -> ImageArchive.pack(work, "hello", work.resolve("x.tar"), List.of()))
        .hasMessageContaining("needs a domain and a tag");
  }
}
