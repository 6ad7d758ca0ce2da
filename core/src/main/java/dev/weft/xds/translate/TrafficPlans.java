package dev.weft.xds.translate;

import dev.weft.mesh.MeshService;
import dev.weft.mesh.MeshState;
import dev.weft.mesh.SameObjects;
import dev.weft.mesh.ServiceKey;
import java.lang.ref.WeakReference;
import java.util.Map;

/**
 * The {@link TrafficPlan} of the last mesh state planned, for the translators of one pipeline to
 * share: {@link LastGoodTranslator} plans a state to find what it rejects, then
 * {@link MeshTranslator} translates that very instance (when nothing was rejected) and needs the
 * same plan, which at 1,000 Services is worth not computing twice per change. A plan is immutable
 * once made, so sharing it is safe; it is held weakly, so it never keeps an old mesh alive.
 *
 * <p>A state that differs from the last one planned only in what a plan does not read (endpoints,
 * cluster IPs, identities: pods coming and going) gets the same plan, so an endpoint change is not
 * planned again.
 */
public final class TrafficPlans {

  private WeakReference<TrafficPlan> last = new WeakReference<>(null);
  /** The last state {@link #last} was handed out for; another instance than the one it was made from after an endpoint change. */
  private WeakReference<MeshState> lastState = new WeakReference<>(null);

  /** {@link TrafficPlan#of}: the last plan when {@code state} plans as the last state asked for did, else a new one. */
  public TrafficPlan of(MeshState state) {
    synchronized (this) {
      TrafficPlan known = last.get();
      MeshState knownState = lastState.get();
      if (known != null && knownState != null && (knownState == state || samePlanInputs(knownState, state))) {
        lastState = new WeakReference<>(state);
        return known;
      }
    }
    // Planned outside the lock: a proxy group joining on another thread asks for the state it has.
    TrafficPlan plan = TrafficPlan.of(state);
    synchronized (this) {
      last = new WeakReference<>(plan);
      lastState = new WeakReference<>(state);
    }
    return plan;
  }

  /**
   * Whether {@code state} plans as {@code planned} does: a plan reads the TrafficSplits and
   * VirtualServices (here the very objects, in order), which Services exist, their ports and the
   * DNS aliases, and nothing else of the state.
   */
  static boolean samePlanInputs(MeshState planned, MeshState state) {
    if (!SameObjects.inOrder(planned.splits(), state.splits())
        || !SameObjects.inOrder(planned.routings(), state.routings())
        || planned.services().size() != state.services().size()
        || !planned.aliases().equals(state.aliases())) {
      return false;
    }
    for (Map.Entry<ServiceKey, MeshService> entry : state.services().entrySet()) {
      MeshService was = planned.services().get(entry.getKey());
      if (was == null || (was != entry.getValue() && !was.ports().equals(entry.getValue().ports()))) {
        return false;
      }
    }
    return true;
  }
}
