package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContentVersionTest {

  private static Cluster cluster(String name) {
    return Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.EDS).build();
  }

  @Test
  void givesEqualContentTheSameVersion() {
    assertThat(new ContentVersion().of(List.of(cluster("a"), cluster("b"))))
        .isEqualTo(new ContentVersion().of(List.of(cluster("a"), cluster("b"))))
        .hasSize(16)
        .matches("[0-9a-f]+");
  }

  @Test
  void givesDifferentContentADifferentVersion() {
    ContentVersion versions = new ContentVersion();

    assertThat(versions.of(List.of(cluster("a")))).isNotEqualTo(versions.of(List.of(cluster("b"))));
    assertThat(versions.of(List.of(cluster("a"), cluster("b")))).isNotEqualTo(versions.of(List.of(cluster("ab"))));
    assertThat(versions.of(List.of())).isNotBlank();
  }

  @Test
  void ignoresTheOrderMapEntriesWereAddedIn() {
    Any one = Any.pack(StringValue.of("1"));
    Any two = Any.pack(StringValue.of("2"));
    Cluster forward = Cluster.newBuilder().setName("c").putTypedExtensionProtocolOptions("x", one)
        .putTypedExtensionProtocolOptions("y", two).build();
    Cluster backward = Cluster.newBuilder().setName("c").putTypedExtensionProtocolOptions("y", two)
        .putTypedExtensionProtocolOptions("x", one).build();

    assertThat(new ContentVersion().of(List.of(forward))).isEqualTo(new ContentVersion().of(List.of(backward)));
  }

  @Test
  void keepsResourcesOfDifferentTypesWithEqualBytesApart() {
    ContentVersion versions = new ContentVersion();

    // Both serialize to the same bytes: field 1, string "x".
    assertThat(versions.of(List.of(Cluster.newBuilder().setName("x").build())))
        .isNotEqualTo(versions.of(List.of(ClusterLoadAssignment.newBuilder().setClusterName("x").build())));
  }
}
