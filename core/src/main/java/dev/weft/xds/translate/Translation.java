package dev.weft.xds.translate;

import dev.weft.mesh.ProxyGroup;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one mesh state translates to: a {@link ProxyConfig} per proxy group (in group order) and
 * the user configuration that was left out, each with the reason.
 */
public record Translation(Map<ProxyGroup, ProxyConfig> configs, List<Rejection> rejections) {

  public Translation {
    configs = Collections.unmodifiableMap(new LinkedHashMap<>(configs));
    rejections = List.copyOf(rejections);
  }

  /** The config of one group that was asked for. */
  public ProxyConfig config(ProxyGroup group) {
    ProxyConfig config = configs.get(group);
    if (config == null) {
      throw new IllegalArgumentException("no config was translated for group " + group.id());
    }
    return config;
  }
}
