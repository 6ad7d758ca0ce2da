package dev.weft.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.operator.injection.InjectionSettings;
import dev.weft.operator.injection.SidecarInjector;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodAdmissionTest {

  static final ObjectMapper JSON = new ObjectMapper();
  final PodAdmission admission = new PodAdmission(
      new SidecarInjector(InjectionSettings.of("weft-xds.weft-system.svc", 18000, "weft-system")),
      namespace -> namespace.equals("shop") ? Map.of("weft.dev/inject", "enabled") : Map.of());

  static String review(String namespace, String annotations, String volumes) {
    return """
        {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
         "request": {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
           "kind": {"group": "", "version": "v1", "kind": "Pod"},
           "resource": {"group": "", "version": "v1", "resource": "pods"},
           "namespace": "%s", "operation": "CREATE",
           "object": {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"generateName": "payments-", "annotations": {%s}},
             "spec": {"serviceAccountName": "payments", "volumes": [%s],
               "containers": [{"name": "app", "image": "payments:1"}]}}}}
        """.formatted(namespace, annotations, volumes);
  }

  JsonNode answer(String path, String body, int status) throws Exception {
    PodAdmission.Answer answer = admission.handle(path, body.getBytes(StandardCharsets.UTF_8));
    assertThat(answer.status()).as(answer.json()).isEqualTo(status);
    return JSON.readTree(answer.json());
  }

  @Test
  void injectsAPodInALabelledNamespaceWithAJsonPatch() throws Exception {
    JsonNode review = answer("/inject", review("shop", "", ""), 200);

    assertThat(review.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
    assertThat(review.path("kind").asText()).isEqualTo("AdmissionReview");
    assertThat(review.at("/response/uid").asText()).isEqualTo("705ab4f5-6393-11e8-b7cc-42010a800002");
    assertThat(review.at("/response/allowed").asBoolean()).isTrue();
    assertThat(review.at("/response/patchType").asText()).isEqualTo("JSONPatch");
    String patch = new String(Base64.getDecoder().decode(review.at("/response/patch").asText()), StandardCharsets.UTF_8);
    assertThat(patch).contains("weft-proxy").contains("weft-init").contains("weft-identity-payments")
        .doesNotContain("\"namespace\"");
  }

  @Test
  void leavesAPodInAnUnlabelledNamespaceAlone() throws Exception {
    JsonNode review = answer("/inject", review("elsewhere", "", ""), 200);

    assertThat(review.at("/response/allowed").asBoolean()).isTrue();
    String patch = review.at("/response/patch").isMissingNode() ? "[]"
        : new String(Base64.getDecoder().decode(review.at("/response/patch").asText()), StandardCharsets.UTF_8);
    assertThat(JSON.readTree(patch)).isEmpty();
  }

  @Test
  void refusesAPodWhoseAnnotationsCannotBeReadNamingTheAnnotation() throws Exception {
    JsonNode review = answer("/inject", review("shop", "\"weft.dev/exclude-outbound-ports\": \"db\"", ""), 200);

    assertThat(review.at("/response/allowed").asBoolean()).isFalse();
    assertThat(review.at("/response/status/message").asText()).contains("weft.dev/exclude-").contains("'db'");
  }

  @Test
  void refusesAPodBorrowingAnotherServiceAccountsIdentity() throws Exception {
    JsonNode review = answer("/validate", review("shop", "",
        "{\"name\": \"id\", \"secret\": {\"secretName\": \"weft-identity-orders\"}}"), 200);

    assertThat(review.at("/response/allowed").asBoolean()).isFalse();
    assertThat(review.at("/response/status/message").asText()).contains("weft-identity-orders")
        .contains("'payments'");
    assertThat(answer("/validate", review("shop", "", ""), 200).at("/response/allowed").asBoolean()).isTrue();
  }

  @Test
  void answersAMalformedReviewWith400AndTheReason() throws Exception {
    assertThat(answer("/inject", "{not json", 400).path("message").asText())
        .startsWith("malformed AdmissionReview: the body is not JSON");
    assertThat(answer("/inject", "{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": \"AdmissionReview\"}", 400)
        .path("message").asText()).isEqualTo("malformed AdmissionReview: request is missing");
    assertThat(answer("/inject", review("shop", "", "").replace("\"uid\": \"705ab4f5-6393-11e8-b7cc-42010a800002\",", ""),
        400).path("message").asText()).contains("request.uid is missing");
    assertThat(answer("/inject", review("shop", "", "").replace("\"kind\": \"Pod\"},", "\"kind\": \"Secret\"},"), 400)
        .path("message").asText()).contains("request.kind must be a Pod");
    assertThat(answer("/inject", review("shop", "", "").replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1"), 400)
        .path("message").asText()).contains("apiVersion must be admission.k8s.io/v1");
  }

  @Test
  void answersAnUnknownPathWith404() throws Exception {
    assertThat(answer("/mutate", review("shop", "", ""), 404).path("message").asText()).contains("/inject");
  }
}
