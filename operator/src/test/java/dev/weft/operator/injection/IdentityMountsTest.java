package dev.weft.operator.injection;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

class IdentityMountsTest {

  static PodBuilder pod(String serviceAccount) {
    return new PodBuilder().withNewMetadata().withName("p").withNamespace("shop").endMetadata()
        .withNewSpec().withServiceAccountName(serviceAccount).addNewContainer().withName("app").endContainer()
        .endSpec();
  }

  @Test
  void aPodMayMountItsOwnIdentitySecret() {
    Pod own = pod("payments").editSpec().addNewVolume().withName("id").withNewSecret()
        .withSecretName("weft-identity-payments").endSecret().endVolume().endSpec().build();

    assertThat(IdentityMounts.refusal(own)).isEmpty();
    assertThat(IdentityMounts.refusal(pod("payments").build())).isEmpty();
  }

  @Test
  void aPodMountingAnotherServiceAccountsIdentityIsRefusedNamingBoth() {
    Pod borrowing = pod("client").editSpec().addNewVolume().withName("stolen").withNewSecret()
        .withSecretName("weft-identity-payments").endSecret().endVolume().endSpec().build();

    assertThat(IdentityMounts.refusal(borrowing)).hasValueSatisfying(message -> assertThat(message)
        .contains("'client'").contains("'weft-identity-client'").contains("'weft-identity-payments'")
        .contains("volume 'stolen'"));
  }

  @Test
  void aProjectedVolumeCannotBorrowEither() {
    Pod borrowing = pod(null).editSpec().addNewVolume().withName("mix").withNewProjected().addNewSource()
        .withNewSecret().withName("weft-identity-payments").endSecret().endSource().endProjected().endVolume()
        .endSpec().build();

    assertThat(IdentityMounts.refusal(borrowing)).hasValueSatisfying(message ->
        assertThat(message).contains("'default'").contains("weft-identity-payments"));
  }

  @Test
  void otherSecretsAreNoConcernOfTheMesh() {
    Pod other = pod("client").editSpec().addNewVolume().withName("db").withNewSecret()
        .withSecretName("db-password").endSecret().endVolume().endSpec().build();

    assertThat(IdentityMounts.refusal(other)).isEmpty();
  }
}
