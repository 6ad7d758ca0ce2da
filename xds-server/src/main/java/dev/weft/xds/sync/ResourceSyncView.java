package dev.weft.xds.sync;

import dev.weft.mesh.SourceRef;
import dev.weft.xds.server.ProxyStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Whether each user resource is programmed on the proxies connected to this replica: for every
 * TrafficSplit or VirtualService (at one generation) in some proxy's config, how many connected
 * proxies need it, how many have accepted a config that contains it, and which rejected one.
 *
 * <ul>
 *   <li>A proxy <b>needs</b> a resource when the version its group is currently served, of some
 *       xDS type, contains it.
 *   <li>It has <b>acked</b> it when, for each such type, the version it last applied contains the
 *       resource too (once a proxy applied a version of a type it has every resource in it; an
 *       older version that contained the same generation counts as well, so an unrelated change in
 *       flight does not make a resource look unprogrammed).
 *   <li>It <b>nacked</b> it when its standing rejection of some type (one not yet followed by an
 *       accepted response) is of a version that contains the resource. Such a proxy is not counted
 *       as acked, even if an older accepted version contained the resource, so that
 *       {@code acked + nacked <= proxies} for a resource every nacking proxy still needs.
 * </ul>
 * A client with several streams (a reconnect overlapping the old stream) counts once, by its
 * newest stream. Pure: the inputs are the tracker's statuses, the versions each group is served,
 * and what each version contains.
 */
public record ResourceSyncView(List<ResourceSync> resources) {

  /** What a version of a group's resources of one type contains; empty when unknown. */
  @FunctionalInterface
  public interface VersionContents {
    Set<SourceRef> sourcesOf(String groupId, String typeUrl, String version);
  }

  /** One resource at one generation: proxies that need it, how many acked it, which rejected it. */
  public record ResourceSync(SourceRef source, int proxies, int acked, List<Rejection> nacked) {

    public ResourceSync {
      Objects.requireNonNull(source, "source");
      nacked = List.copyOf(nacked);
    }

    /** Every proxy that needs it has accepted it and none rejected it. */
    public boolean programmed() {
      return nacked.isEmpty() && acked == proxies;
    }
  }

  /** A proxy's rejection of a version containing the resource, with Envoy's message. */
  public record Rejection(String proxy, String typeUrl, String version, String message, Instant at) {}

  /** Resources by kind, namespace, name and generation. */
  static final Comparator<SourceRef> BY_NAME = Comparator.comparing(SourceRef::kind)
      .thenComparing(SourceRef::namespace).thenComparing(SourceRef::name)
      .thenComparingLong(SourceRef::generation).thenComparing(SourceRef::creationTimestamp);

  public ResourceSyncView {
    resources = List.copyOf(resources);
  }

  /**
   * The view of {@code proxies} (the tracker's statuses), given the versions per type URL each
   * group is currently served ({@code servedVersions}, by group id) and what each version contains.
   */
  public static ResourceSyncView of(Collection<ProxyStatus> proxies,
      Function<String, Map<String, String>> servedVersions, VersionContents contents) {
    Map<SourceRef, Tally> tallies = new HashMap<>();
    for (ProxyStatus proxy : newestStreamPerProxy(proxies)) {
      String group = proxy.groupId();
      Map<String, ProxyStatus.TypeStatus> types = new HashMap<>();
      proxy.types().forEach(t -> types.put(t.typeUrl(), t));

      Map<SourceRef, ProxyStatus.Nack> rejected = new LinkedHashMap<>();
      for (ProxyStatus.TypeStatus type : proxy.types()) {
        if (type.nack() != null) {
          for (SourceRef source : contents.sourcesOf(group, type.typeUrl(), type.nack().version())) {
            rejected.putIfAbsent(source, type.nack());
          }
        }
      }
      Map<SourceRef, List<String>> needed = new LinkedHashMap<>();
      servedVersions.apply(group).forEach((typeUrl, version) -> {
        for (SourceRef source : contents.sourcesOf(group, typeUrl, version)) {
          needed.computeIfAbsent(source, s -> new ArrayList<>()).add(typeUrl);
        }
      });
      needed.forEach((source, typeUrls) -> {
        Tally tally = tallies.computeIfAbsent(source, s -> new Tally());
        tally.proxies++;
        boolean applied = typeUrls.stream().allMatch(typeUrl -> {
          ProxyStatus.TypeStatus type = types.get(typeUrl);
          return type != null && !type.ackedVersion().isEmpty()
              && contents.sourcesOf(group, typeUrl, type.ackedVersion()).contains(source);
        });
        if (applied && !rejected.containsKey(source)) {
          tally.acked++;
        }
      });
      rejected.forEach((source, nack) -> tallies.computeIfAbsent(source, s -> new Tally()).nacked
          .add(new Rejection(proxy.nodeId(), nack.typeUrl(), nack.version(), nack.message(), nack.at())));
    }
    List<ResourceSync> resources = new ArrayList<>();
    tallies.forEach((source, tally) -> {
      tally.nacked.sort(Comparator.comparing(Rejection::proxy));
      resources.add(new ResourceSync(source, tally.proxies, tally.acked, tally.nacked));
    });
    resources.sort(Comparator.comparing(ResourceSync::source, BY_NAME));
    return new ResourceSyncView(resources);
  }

  /** The resource at this exact reference, if some proxy needs or rejected it. */
  public Optional<ResourceSync> resource(SourceRef source) {
    return resources.stream().filter(r -> r.source().equals(source)).findFirst();
  }

  /** One status per client (node id): the one of its newest stream. */
  static List<ProxyStatus> newestStreamPerProxy(Collection<ProxyStatus> proxies) {
    Map<String, ProxyStatus> newest = new LinkedHashMap<>();
    for (ProxyStatus proxy : proxies) {
      newest.merge(proxy.nodeId(), proxy, (a, b) -> a.streamId() >= b.streamId() ? a : b);
    }
    return List.copyOf(newest.values());
  }

  /** Counting for one resource. */
  private static final class Tally {
    int proxies;
    int acked;
    final List<Rejection> nacked = new ArrayList<>();
  }
}
