package dev.weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.xds.translate.ProxyConfig;
import dev.weft.xds.translate.Translation;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ContentVersionedSnapshotTest {

  @Test
  void versionsEachResourceByItsContent() throws Exception {
    Snapshot snapshot = SnapshotPublisher.snapshotOf(TestConfigs.sidecar(8080, "outbound|80|a", "outbound|80|b"));

    Map<String, VersionedResource<?>> clusters = versioned(snapshot, Resources.ResourceType.CLUSTER);
    assertThat(clusters).containsOnlyKeys("outbound|80|a", "outbound|80|b");
    // The digest of the content, the same in every JVM (a protobuf hashCode() is not): this value is
    // what any replica, or a restarted one, sends for this cluster.
    assertThat(clusters.get("outbound|80|a").version()).isEqualTo("9a05eccec828e9af");
    assertThat(snapshot.resources(Resources.ResourceType.CLUSTER)).containsOnlyKeys("outbound|80|a", "outbound|80|b");
    assertThat(snapshot.version(Resources.ResourceType.CLUSTER))
        .isEqualTo(TestConfigs.sidecar(8080, "outbound|80|a", "outbound|80|b").clustersVersion());
  }

  @Test
  void aChangedResourceChangesOnlyItsOwnVersion() throws Exception {
    ProxyConfig before = TestConfigs.sidecar(8080, "outbound|80|a", "outbound|80|b");
    ProxyConfig after = TestConfigs.sidecar(8080, "outbound|80|a", "outbound|80|c");

    Map<String, VersionedResource<?>> was = versioned(SnapshotPublisher.snapshotOf(before),
        Resources.ResourceType.ENDPOINT);
    Map<String, VersionedResource<?>> now = versioned(SnapshotPublisher.snapshotOf(after),
        Resources.ResourceType.ENDPOINT);

    assertThat(now.get("outbound|80|a").version()).isEqualTo(was.get("outbound|80|a").version());
    assertThat(now).doesNotContainKey("outbound|80|b");
    assertThat(after.resourceVersion(Translation.ENDPOINT_TYPE_URL, "outbound|80|c"))
        .isEqualTo(now.get("outbound|80|c").version());
  }

  @Test
  void takesTheTypesWhoseVersionDidNotChangeFromThePreviousSnapshot() throws Exception {
    ProxyConfig before = TestConfigs.sidecar(8080, "outbound|80|a", "outbound|80|b");
    // Only the routes differ: they now go to b.
    ProxyConfig after = TestConfigs.of(before.clusters(), before.endpoints(), before.listeners(),
        TestConfigs.sidecar(8080, "outbound|80|b", "outbound|80|a").routes());
    ContentVersionedSnapshot previous = (ContentVersionedSnapshot) SnapshotPublisher.snapshotOf(before);

    ContentVersionedSnapshot next = (ContentVersionedSnapshot) SnapshotPublisher.snapshotOf(after, previous);

    assertThat(next.clusters()).isSameAs(previous.clusters());
    assertThat(next.endpoints()).isSameAs(previous.endpoints());
    assertThat(next.listeners()).isSameAs(previous.listeners());
    assertThat(next.routes()).isNotSameAs(previous.routes());
    assertThat(next.routes().version()).isEqualTo(after.routesVersion());
    assertThat(next.routes().resources()).isEqualTo(SnapshotPublisher.snapshotOf(after).routes().resources());
  }

  @Test
  void configsSharingAListShareItsResources() throws Exception {
    ProxyConfig web = TestConfigs.sidecar(8080, "outbound|80|a", "outbound|80|b");
    // Another group's config: other listeners, the very same list of endpoint assignments.
    ProxyConfig api = TestConfigs.of(web.clusters(), web.endpoints(),
        TestConfigs.sidecar(9090, "outbound|80|a", "outbound|80|b").listeners(), web.routes());

    Snapshot first = SnapshotPublisher.snapshotOf(web);
    Snapshot second = SnapshotPublisher.snapshotOf(api);

    assertThat(second.endpoints()).isSameAs(first.endpoints());
    assertThat(second.listeners()).isNotSameAs(first.listeners());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, VersionedResource<?>> versioned(Snapshot snapshot, Resources.ResourceType type) {
    return (Map<String, VersionedResource<?>>) (Map<?, ?>) snapshot.versionedResources(type);
  }
}
