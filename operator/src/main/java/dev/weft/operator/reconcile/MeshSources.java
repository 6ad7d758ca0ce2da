package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.TrafficSplit;
import dev.weft.api.v1alpha1.VirtualService;
import dev.weft.convert.ServiceConverter;
import dev.weft.operator.validation.NamespaceView;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The informers a reconciler watches besides its own kind, and the {@link NamespaceView} built from
 * their caches. A Service change re-checks the resources that name it (or, where one resource's
 * verdict depends on whether another one resolves, every resource of the kind in the namespace
 * once any of them names the Service). A TrafficSplit or VirtualService change re-checks every
 * resource of the reconciler's kind in that namespace: conflicts, nesting and precedence can
 * involve any of them, and an object whose root moved carries no trace of the Service it left.
 */
final class MeshSources<P extends HasMetadata> {

  private final Class<P> primary;
  private final Function<P, Set<String>> servicesNamedBy;
  private final boolean watchRoutes;
  private final boolean servicesAffectSiblings;
  private volatile InformerEventSource<Service, P> services;
  private volatile InformerEventSource<TrafficSplit, P> splits;
  private volatile InformerEventSource<VirtualService, P> virtualServices;

  private MeshSources(Class<P> primary, Function<P, Set<String>> servicesNamedBy, boolean watchRoutes,
      boolean servicesAffectSiblings) {
    this.primary = primary;
    this.servicesNamedBy = servicesNamedBy;
    this.watchRoutes = watchRoutes;
    this.servicesAffectSiblings = servicesAffectSiblings;
  }

  /** Services only, for a kind whose validation looks at nothing else. */
  static <P extends HasMetadata> MeshSources<P> services(Class<P> primary, Function<P, Set<String>> servicesNamedBy) {
    return new MeshSources<>(primary, servicesNamedBy, false, false);
  }

  /** Services, TrafficSplits and VirtualServices. */
  static <P extends HasMetadata> MeshSources<P> servicesAndRoutes(Class<P> primary,
      Function<P, Set<String>> servicesNamedBy) {
    return new MeshSources<>(primary, servicesNamedBy, true, false);
  }

  /**
   * The same sources, re-checking every resource of the kind in a namespace when a Service that
   * any of them names changes: for VirtualServices, where an older one blocks a port only once its
   * own backends resolve.
   */
  MeshSources<P> siblingsDependOnServices() {
    return new MeshSources<>(primary, servicesNamedBy, watchRoutes, true);
  }

  List<EventSource<?, P>> prepare(EventSourceContext<P> context) {
    List<EventSource<?, P>> sources = new ArrayList<>();
    services = new InformerEventSource<>(InformerEventSourceConfiguration.from(Service.class, primary)
        .withName("services")
        .withNamespacesInheritedFromController()
        .withSecondaryToPrimaryMapper(service -> primariesAffectedBy(context, service))
        // Only what validation reads: a new ClusterIP or status is no reason to re-check.
        .withOnUpdateFilter((now, before) -> !validationView(now).equals(validationView(before)))
        .build(), context);
    sources.add(services);
    if (watchRoutes) {
      splits = new InformerEventSource<>(InformerEventSourceConfiguration.from(TrafficSplit.class, primary)
          .withName("trafficsplits")
          .withNamespacesInheritedFromController()
          .withSecondaryToPrimaryMapper(everyPrimaryInNamespace(context))
          // Status writes (ours) change nothing that validation reads.
          .withOnUpdateFilter((now, before) -> !Objects.equals(now.getSpec(), before.getSpec()))
          .build(), context);
      virtualServices = new InformerEventSource<>(InformerEventSourceConfiguration.from(VirtualService.class, primary)
          .withName("virtualservices")
          .withNamespacesInheritedFromController()
          .withSecondaryToPrimaryMapper(everyPrimaryInNamespace(context))
          .withOnUpdateFilter((now, before) -> !Objects.equals(now.getSpec(), before.getSpec()))
          .build(), context);
      sources.add(splits);
      sources.add(virtualServices);
    }
    return sources;
  }

  /** The namespace as the informers see it now. */
  NamespaceView view(String namespace) {
    List<Service> serviceList = services.list(namespace, s -> true).toList();
    List<TrafficSplit> splitList = watchRoutes ? splits.list(namespace, s -> true).toList() : List.of();
    List<VirtualService> vsList = watchRoutes ? virtualServices.list(namespace, v -> true).toList() : List.of();
    return new NamespaceView(namespace, serviceList, splitList, vsList);
  }

  /** What validation reads of a Service: whether the mesh routes to it, and its ports. */
  private static List<Object> validationView(Service service) {
    return List.of(ServiceConverter.isMeshed(service), ServiceConverter.isAlias(service),
        ServiceConverter.ports(service));
  }

  private Set<ResourceID> primariesAffectedBy(EventSourceContext<P> context, Service service) {
    String namespace = service.getMetadata().getNamespace();
    Set<ResourceID> naming = primaries(context, namespace,
        p -> servicesNamedBy.apply(p).contains(service.getMetadata().getName()));
    return servicesAffectSiblings && !naming.isEmpty() ? primaries(context, namespace, p -> true) : naming;
  }

  private <R extends HasMetadata> SecondaryToPrimaryMapper<R> everyPrimaryInNamespace(EventSourceContext<P> context) {
    return resource -> primaries(context, resource.getMetadata().getNamespace(), p -> true);
  }

  private static <P extends HasMetadata> Set<ResourceID> primaries(EventSourceContext<P> context, String namespace,
      Predicate<P> filter) {
    return context.getPrimaryCache().list(namespace, filter).map(ResourceID::fromResource)
        .collect(Collectors.toSet());
  }
}
