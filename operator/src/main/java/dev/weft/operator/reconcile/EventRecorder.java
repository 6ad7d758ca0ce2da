package dev.weft.operator.reconcile;

import dev.weft.api.v1alpha1.Condition;
import dev.weft.operator.status.ConditionChange;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records a core/v1 Event on a resource for each condition that changed, so {@code kubectl describe}
 * shows the history: Warning when a condition turns False, Normal otherwise, with the condition's
 * reason and message.
 */
public final class EventRecorder {

  /** The Event's source component, as kubectl describe shows it in the From column. */
  public static final String COMPONENT = "weft-operator";

  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  /** events.k8s.io caps a note at 1 KiB; stay within it whichever API reads the Event. */
  private static final int MAX_MESSAGE_LENGTH = 1024;

  private final KubernetesClient client;
  private final String instance;
  private final Clock clock;
  private final AtomicLong sequence = new AtomicLong();

  public EventRecorder(KubernetesClient client, String instance, Clock clock) {
    this.client = client;
    this.instance = instance;
    this.clock = clock;
  }

  /** Records the change; a failure is logged and dropped, since the status already carries the news. */
  public void record(HasMetadata resource, ConditionChange change) {
    Condition condition = change.current();
    Instant now = clock.instant();
    String timestamp = now.truncatedTo(ChronoUnit.SECONDS).toString();
    String message = condition.getType() + "=" + condition.getStatus() + ": " + condition.getMessage();
    if (message.length() > MAX_MESSAGE_LENGTH) {
      message = message.substring(0, MAX_MESSAGE_LENGTH - 3) + "...";
    }
    Event event = new EventBuilder()
        .withNewMetadata()
          // The client-go convention, the object's name and the time in hex, plus a sequence number
          // because one reconciliation may record two Events within a clock tick.
          .withName(resource.getMetadata().getName() + "." + Long.toHexString(now.getEpochSecond() * 1_000_000_000L
              + now.getNano()) + Long.toHexString(sequence.incrementAndGet()))
          .withNamespace(resource.getMetadata().getNamespace())
        .endMetadata()
        .withInvolvedObject(new ObjectReferenceBuilder()
            .withApiVersion(resource.getApiVersion())
            .withKind(resource.getKind())
            .withNamespace(resource.getMetadata().getNamespace())
            .withName(resource.getMetadata().getName())
            .withUid(resource.getMetadata().getUid())
            .withResourceVersion(resource.getMetadata().getResourceVersion())
            .build())
        .withType(change.isWarning() ? "Warning" : "Normal")
        .withReason(condition.getReason())
        .withMessage(message)
        .withCount(1)
        .withFirstTimestamp(timestamp)
        .withLastTimestamp(timestamp)
        .withNewSource().withComponent(COMPONENT).endSource()
        .withReportingComponent(COMPONENT)
        .withReportingInstance(instance)
        .build();
    try {
      client.v1().events().inNamespace(resource.getMetadata().getNamespace()).resource(event).create();
    } catch (KubernetesClientException e) {
      LOG.warn("event not recorded kind={} namespace={} name={} reason={}: {}", resource.getKind(),
          resource.getMetadata().getNamespace(), resource.getMetadata().getName(), condition.getReason(),
          e.getMessage());
    }
  }
}
