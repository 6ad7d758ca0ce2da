package dev.weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.ProxyGroup;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeerIdentityTest {

  static final ProxyGroup WEB = new ProxyGroup(ProxyGroup.Kind.SIDECAR, "shop", "web", null, List.of());

  @Test
  void aCertificateSpeaksOnlyForItsOwnNamespaceAndServiceAccount() {
    assertThat(PeerIdentity.speaksFor("spiffe://cluster.local/ns/shop/sa/web", WEB)).isTrue();
    assertThat(PeerIdentity.speaksFor("spiffe://cluster.local/ns/shop/sa/payments", WEB)).isFalse();
    assertThat(PeerIdentity.speaksFor("spiffe://cluster.local/ns/other/sa/web", WEB)).isFalse();
    assertThat(PeerIdentity.speaksFor("spiffe://cluster.local/ns/shop/sa/web/extra", WEB)).isFalse();
    assertThat(PeerIdentity.speaksFor("https://cluster.local/ns/shop/sa/web", WEB)).isFalse();
    assertThat(PeerIdentity.speaksFor("spiffe://cluster.local", WEB)).isFalse();
  }
}
