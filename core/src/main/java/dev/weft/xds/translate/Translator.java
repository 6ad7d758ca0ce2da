package dev.weft.xds.translate;

import dev.weft.mesh.MeshState;
import dev.weft.mesh.ProxyGroup;
import java.util.Collection;

/** Mesh state in, every group's Envoy config out; the translators wrap one another. */
public interface Translator {

  /** The configs of {@code groups} for {@code state}, with what was left out and why. */
  Translation translate(MeshState state, Collection<ProxyGroup> groups);
}
