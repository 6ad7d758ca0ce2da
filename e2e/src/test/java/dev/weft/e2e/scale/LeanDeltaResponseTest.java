package dev.weft.e2e.scale;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.CodedInputStream;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import org.junit.jupiter.api.Test;

class LeanDeltaResponseTest {

  @Test
  void readsWhatTheProxyNeedsAndCountsLikeTheParsedMessage() throws Exception {
    Cluster eds = Cluster.newBuilder().setName("outbound|80||web.demo.svc.cluster.local")
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ConfigSource.getDefaultInstance()))
        .build();
    Cluster named = eds.toBuilder().setName("a")
        .setEdsClusterConfig(eds.getEdsClusterConfig().toBuilder().setServiceName("a-endpoints")).build();
    Cluster passthrough = Cluster.newBuilder().setName("passthrough")
        .setType(Cluster.DiscoveryType.ORIGINAL_DST).build();
    // Fields in number order, as the generated serializer writes them (type URL after the resources).
    DeltaDiscoveryResponse clusters = DeltaDiscoveryResponse.newBuilder()
        .setSystemVersionInfo("v1")
        .addResources(resource(eds.getName(), eds))
        .addResources(resource("passthrough", passthrough))
        .addResources(resource("a", named))
        .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster")
        .setNonce("7")
        .addRemovedResources("gone")
        .build();

    LeanDeltaResponse lean = LeanDeltaResponse.read(CodedInputStream.newInstance(clusters.toByteArray()));

    assertThat(lean.typeUrl()).isEqualTo(clusters.getTypeUrl());
    assertThat(lean.version()).isEqualTo("v1");
    assertThat(lean.nonce()).isEqualTo("7");
    assertThat(lean.bytes()).isEqualTo(clusters.getSerializedSize());
    assertThat(lean.resources()).isEqualTo(3);
    assertThat(lean.removed()).isEqualTo(1);
    assertThat(lean.edsNames()).containsExactly("outbound|80||web.demo.svc.cluster.local", "a-endpoints");
    assertThat(lean.listeners()).isEmpty();
  }

  @Test
  void keepsTheListenersWhole() throws Exception {
    Listener listener = Listener.newBuilder().setName("virtualOutbound").build();
    DeltaDiscoveryResponse listeners = DeltaDiscoveryResponse.newBuilder()
        .setTypeUrl("type.googleapis.com/envoy.config.listener.v3.Listener")
        .addResources(resource(listener.getName(), listener))
        .build();

    LeanDeltaResponse lean = LeanDeltaResponse.read(CodedInputStream.newInstance(listeners.toByteArray()));

    assertThat(lean.listeners()).containsExactly(Any.pack(listener));
    assertThat(lean.resources()).isEqualTo(1);
  }

  private static Resource resource(String name, com.google.protobuf.Message message) {
    return Resource.newBuilder().setName(name).setVersion("1").setResource(Any.pack(message)).build();
  }
}
