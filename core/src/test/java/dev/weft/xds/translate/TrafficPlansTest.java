package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.mesh.MeshState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrafficPlansTest {

  @Test
  void aStateIsPlannedOnceWhileItIsTheLastAskedFor() {
    TrafficPlans plans = new TrafficPlans();
    MeshState state = new MeshState(Map.of(), List.of(), List.of());
    MeshState equalButAnother = new MeshState(Map.of(), List.of(), List.of());

    TrafficPlan first = plans.of(state);

    assertThat(plans.of(state)).isSameAs(first);
    assertThat(plans.of(equalButAnother)).as("kept by instance, as the translators hand it on").isNotSameAs(first);
    assertThat(plans.of(state)).as("only the last state's plan is kept").isNotSameAs(first);
  }
}
