package dev.weft.operator.webhook;

import dev.weft.operator.injection.IdentityMounts;
import dev.weft.operator.injection.SidecarInjector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.webhook.admission.AdmissionController;
import io.javaoperatorsdk.webhook.admission.NotAllowedException;
import io.javaoperatorsdk.webhook.admission.Operation;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook's two admission handlers on JOSDK's webhooks framework, over fabric8's AdmissionReview
 * model: {@value #INJECT_PATH} mutates a pod with the {@link SidecarInjector} (the framework turns
 * the result into a JSONPatch), {@value #VALIDATE_PATH} refuses a pod that borrows another
 * ServiceAccount's identity ({@link IdentityMounts}). A body that is no AdmissionReview for a Pod is
 * answered 400 with the reason, never guessed at.
 */
public final class PodAdmission {

  public static final String INJECT_PATH = "/inject";
  public static final String VALIDATE_PATH = "/validate";

  private static final Logger LOG = LoggerFactory.getLogger(PodAdmission.class);

  /** An HTTP answer: the status code and a JSON body (an AdmissionReview, or a Status on 4xx). */
  public record Answer(int status, String json) {}

  private final KubernetesSerialization json = new KubernetesSerialization();
  private final AdmissionController<Pod> injecting;
  private final AdmissionController<Pod> validating;

  /** {@code namespaceLabels} gives a namespace's labels (empty when it is unknown). */
  public PodAdmission(SidecarInjector injector, Function<String, Map<String, String>> namespaceLabels) {
    Objects.requireNonNull(injector, "injector");
    Objects.requireNonNull(namespaceLabels, "namespaceLabels");
    this.injecting = new AdmissionController<>((Pod pod, Operation operation) -> {
      String namespace = pod.getMetadata().getNamespace();
      try {
        SidecarInjector.Outcome outcome = injector.admit(pod, namespace, namespaceLabels.apply(namespace));
        LOG.info("admission pod={}/{} {}", namespace, name(pod),
            outcome.injected() ? "injected" : "skipped: " + outcome.skipped().get().message());
        return outcome.pod();
      } catch (IllegalArgumentException e) {
        LOG.info("admission pod={}/{} refused: {}", namespace, name(pod), e.getMessage());
        throw new NotAllowedException(refusal(e.getMessage()));
      }
    });
    this.validating = new AdmissionController<>((Pod pod, Pod old, Operation operation) -> {
      var refusal = IdentityMounts.refusal(pod);
      if (refusal.isPresent()) {
        LOG.info("admission pod={}/{} refused: {}", pod.getMetadata().getNamespace(), name(pod), refusal.get());
        throw new NotAllowedException(refusal(refusal.get()));
      }
    });
  }

  /** Answers a request to {@code path} with {@code body}. */
  public Answer handle(String path, byte[] body) {
    AdmissionController<Pod> controller = switch (path) {
      case INJECT_PATH -> injecting;
      case VALIDATE_PATH -> validating;
      default -> null;
    };
    if (controller == null) {
      return error(404, "NotFound", "no admission handler at " + path + "; use " + INJECT_PATH + " or " + VALIDATE_PATH);
    }
    AdmissionReview review;
    try {
      review = read(body);
    } catch (IllegalArgumentException e) {
      LOG.warn("admission path={} malformed request: {}", path, e.getMessage());
      return error(400, "BadRequest", "malformed AdmissionReview: " + e.getMessage());
    }
    AdmissionReview answer = controller.handle(review);
    answer.setApiVersion(review.getApiVersion());
    answer.setKind("AdmissionReview");
    return new Answer(200, json.asJson(answer));
  }

  /** The AdmissionReview in {@code body}, with its object read as a Pod in the request's namespace. */
  private AdmissionReview read(byte[] body) {
    AdmissionReview review;
    try {
      review = json.unmarshal(new String(body, StandardCharsets.UTF_8), AdmissionReview.class);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("the body is not JSON of an AdmissionReview (" + rootMessage(e) + ")");
    }
    if (review == null || !"AdmissionReview".equals(review.getKind())) {
      throw new IllegalArgumentException("kind must be AdmissionReview");
    }
    if (!"admission.k8s.io/v1".equals(review.getApiVersion())) {
      throw new IllegalArgumentException("apiVersion must be admission.k8s.io/v1 (admissionReviewVersions: [v1]), not "
          + review.getApiVersion());
    }
    AdmissionRequest request = review.getRequest();
    if (request == null) {
      throw new IllegalArgumentException("request is missing");
    }
    if (request.getUid() == null || request.getUid().isBlank()) {
      throw new IllegalArgumentException("request.uid is missing");
    }
    if (request.getKind() == null || !"Pod".equals(request.getKind().getKind())) {
      throw new IllegalArgumentException("request.kind must be a Pod; this webhook admits pods only");
    }
    if (request.getOperation() == null) {
      throw new IllegalArgumentException("request.operation is missing");
    }
    if (!(request.getObject() instanceof Pod)) {
      if (request.getObject() == null) {
        throw new IllegalArgumentException("request.object is missing");
      }
      try {
        request.setObject(json.convertValue(request.getObject(), Pod.class));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("request.object is not a Pod (" + rootMessage(e) + ")");
      }
    }
    Pod pod = (Pod) request.getObject();
    if (pod.getMetadata() == null || pod.getSpec() == null) {
      throw new IllegalArgumentException("request.object has no metadata or spec");
    }
    // A pod's namespace may come only from the request's URL.
    if (pod.getMetadata().getNamespace() == null || pod.getMetadata().getNamespace().isBlank()) {
      pod.getMetadata().setNamespace(request.getNamespace());
    }
    return review;
  }

  private Answer error(int code, String reason, String message) {
    Status status = new StatusBuilder().withStatus("Failure").withCode(code).withReason(reason).withMessage(message)
        .build();
    return new Answer(code, json.asJson(status));
  }

  private static Status refusal(String message) {
    return new StatusBuilder().withStatus("Failure").withCode(400).withReason("BadRequest").withMessage(message)
        .build();
  }

  private static String name(Pod pod) {
    String name = pod.getMetadata().getName();
    return name == null || name.isEmpty() ? pod.getMetadata().getGenerateName() + "*" : name;
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    int newline = message.indexOf('\n');
    return newline > 0 ? message.substring(0, newline) : message;
  }
}
