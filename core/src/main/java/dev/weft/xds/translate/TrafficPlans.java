package dev.weft.xds.translate;

import dev.weft.mesh.MeshState;
import java.lang.ref.WeakReference;

/**
 * The {@link TrafficPlan} of the last mesh state planned, for the translators of one pipeline to
 * share: {@link LastGoodTranslator} plans a state to find what it rejects, then
 * {@link MeshTranslator} translates that very instance (when nothing was rejected) and needs the
 * same plan, which at 1,000 Services is worth not computing twice per change. A plan is immutable
 * once made, so sharing it is safe; it is held weakly, so it never keeps an old mesh alive.
 */
public final class TrafficPlans {

  private WeakReference<TrafficPlan> last = new WeakReference<>(null);

  /** {@link TrafficPlan#of}, computed once per state instance while it is the last one asked for. */
  public TrafficPlan of(MeshState state) {
    synchronized (this) {
      TrafficPlan known = last.get();
      if (known != null && known.state() == state) {
        return known;
      }
    }
    // Planned outside the lock: a proxy group joining on another thread asks for the state it has.
    TrafficPlan plan = TrafficPlan.of(state);
    synchronized (this) {
      last = new WeakReference<>(plan);
    }
    return plan;
  }
}
