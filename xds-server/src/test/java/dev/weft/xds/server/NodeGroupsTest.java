package dev.weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.mesh.ProxyGroup;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeGroupsTest {

  @Test
  void mapsSidecarMetadataToItsGroup() {
    Node node = TestConfigs.node("web-7d9f.shop", "envoy", Map.of(
        NodeGroups.NAMESPACE, "shop",
        NodeGroups.SERVICE_ACCOUNT, "web",
        NodeGroups.INBOUND_ADDRESS, "127.0.0.5",
        NodeGroups.APP_PORTS, "9090, 8080,8080"));

    ProxyGroup group = NodeGroups.groupOf(node);

    assertThat(group).isEqualTo(new ProxyGroup(ProxyGroup.Kind.SIDECAR, "shop", "web", "127.0.0.5", List.of(8080, 9090)));
    assertThat(new NodeGroups().hash(node)).isEqualTo(group.id()).isEqualTo("web.shop@127.0.0.5:8080,9090");
  }

  @Test
  void aSidecarWithAnSdsDirectoryHasAnIdentityAndAGroupOfItsOwn() {
    Map<String, String> metadata = Map.of(NodeGroups.NAMESPACE, "shop", NodeGroups.SERVICE_ACCOUNT, "web");
    ProxyGroup plain = NodeGroups.groupOf(TestConfigs.node("web-1.shop", "envoy", metadata));
    Map<String, String> withSds = new java.util.HashMap<>(metadata);
    withSds.put(NodeGroups.SDS_DIRECTORY, "/var/run/weft/sds/");

    ProxyGroup group = NodeGroups.groupOf(TestConfigs.node("web-1.shop", "envoy", withSds));

    assertThat(plain.hasIdentity()).isFalse();
    assertThat(group.hasIdentity()).isTrue();
    assertThat(group.sdsDirectory()).isEqualTo("/var/run/weft/sds");
    assertThat(group.id()).isEqualTo("web.shop@0.0.0.0:+sds:/var/run/weft/sds").isNotEqualTo(plain.id());
  }

  @Test
  void refusesARelativeSdsDirectory() {
    Node node = TestConfigs.node("web-1.shop", "envoy", Map.of(NodeGroups.NAMESPACE, "shop",
        NodeGroups.SDS_DIRECTORY, "sds"));

    assertThatThrownBy(() -> NodeGroups.groupOf(node)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("WEFT_SDS_DIRECTORY").hasMessageContaining("not an absolute path");
  }

  @Test
  void defaultsInboundAddressAndPortsWhenAbsent() {
    ProxyGroup group = NodeGroups.groupOf(TestConfigs.node("web-1.shop", "envoy",
        Map.of(NodeGroups.NAMESPACE, "shop", NodeGroups.SERVICE_ACCOUNT, "web")));

    assertThat(group.inboundAddress()).isEqualTo("0.0.0.0");
    assertThat(group.appPorts()).isEmpty();
  }

  @Test
  void podsOfOneDeploymentShareAGroup() {
    assertThat(NodeGroups.groupOf(TestConfigs.sidecarNode("web-1", "shop", "web", "8080")).id())
        .isEqualTo(NodeGroups.groupOf(TestConfigs.sidecarNode("web-2", "shop", "web", "8080")).id());
  }

  @Test
  void takesNamespaceFromNodeIdWhenMetadataLacksIt() {
    ProxyGroup group = NodeGroups.groupOf(TestConfigs.node("web.v2-abc.payments", "envoy",
        Map.of(NodeGroups.SERVICE_ACCOUNT, "web")));

    assertThat(group.namespace()).isEqualTo("payments");
  }

  @Test
  void usesDefaultServiceAccountWhenMetadataLacksIt() {
    ProxyGroup group = NodeGroups.groupOf(TestConfigs.node("web-1.shop", "envoy", Map.of()));

    assertThat(group.serviceAccount()).isEqualTo("default");
  }

  @Test
  void refusesNodeWithoutNamespaceAnywhere() {
    assertThatThrownBy(() -> NodeGroups.groupOf(TestConfigs.node("lonely", "envoy", Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lonely")
        .hasMessageContaining("WEFT_NAMESPACE");
  }

  @Test
  void refusesPortsThatAreNotPorts() {
    assertThatThrownBy(() -> NodeGroups.groupOf(TestConfigs.sidecarNode("web-1", "shop", "web", "8080,http")))
        .hasMessageContaining("WEFT_APP_PORTS")
        .hasMessageContaining("'http'");
    assertThatThrownBy(() -> NodeGroups.groupOf(TestConfigs.sidecarNode("web-1", "shop", "web", "70000")))
        .hasMessageContaining("'70000'");
  }

  @Test
  void acceptsSinglePortAsNumber() {
    Node node = Node.newBuilder().setId("web-1.shop").setMetadata(Struct.newBuilder()
        .putFields(NodeGroups.APP_PORTS, Value.newBuilder().setNumberValue(8080).build())).build();

    assertThat(NodeGroups.groupOf(node).appPorts()).containsExactly(8080);
  }

  @Test
  void grpcUserAgentIsProxyless() {
    ProxyGroup group = NodeGroups.groupOf(TestConfigs.node("client-1.shop", "gRPC Java", Map.of(
        NodeGroups.NAMESPACE, "shop", NodeGroups.SERVICE_ACCOUNT, "client", NodeGroups.APP_PORTS, "8080")));

    assertThat(group.kind()).isEqualTo(ProxyGroup.Kind.PROXYLESS_GRPC);
    assertThat(group.appPorts()).isEmpty();
    assertThat(group.id()).isEqualTo("grpc:client.shop");
  }

  @Test
  void proxylessMetadataFlagAsStringOrBool() {
    Node asString = TestConfigs.node("client-1.shop", "", Map.of(NodeGroups.PROXYLESS, "true"));
    Node asBool = Node.newBuilder().setId("client-1.shop").setMetadata(Struct.newBuilder()
        .putFields(NodeGroups.PROXYLESS, Value.newBuilder().setBoolValue(true).build())).build();
    Node off = TestConfigs.node("client-1.shop", "envoy", Map.of(NodeGroups.PROXYLESS, "false"));

    assertThat(NodeGroups.groupOf(asString).kind()).isEqualTo(ProxyGroup.Kind.PROXYLESS_GRPC);
    assertThat(NodeGroups.groupOf(asBool).kind()).isEqualTo(ProxyGroup.Kind.PROXYLESS_GRPC);
    assertThat(NodeGroups.groupOf(off).kind()).isEqualTo(ProxyGroup.Kind.SIDECAR);
  }
}
