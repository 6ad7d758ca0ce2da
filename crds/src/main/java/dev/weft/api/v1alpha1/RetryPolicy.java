package dev.weft.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** How a rule retries failed requests (maps onto Envoy's route retry policy). */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class RetryPolicy {

  /** Failure kinds that trigger a retry; the JSON names are Envoy's retry_on values. */
  public enum RetryOn {
    @JsonProperty("5xx")
    SERVER_ERROR,
    @JsonProperty("gateway-error")
    GATEWAY_ERROR,
    @JsonProperty("reset")
    RESET,
    @JsonProperty("connect-failure")
    CONNECT_FAILURE,
    @JsonProperty("retriable-4xx")
    RETRIABLE_4XX,
    @JsonProperty("refused-stream")
    REFUSED_STREAM
  }

  @Required
  @Min(0)
  @Max(10)
  @JsonPropertyDescription("How many times to retry after the first try, 0 to 10. 0 turns retries off.")
  private Integer attempts;

  @Size(max = 32)
  @ValidationRule(
      value = "self.matches('" + WeftApi.DURATION_PATTERN + "')",
      message = "perTryTimeout must be a duration such as 500ms, 2s or 1m30s (units h, m, s, ms; no spaces)")
  @JsonPropertyDescription("Time allowed for each try, e.g. 500ms. Unset: each try may use what is left of the rule's timeout.")
  private String perTryTimeout;

  @Size(max = 6)
  @ValidationRule(
      value = "self.all(x, self.exists_one(o, o == x))",
      message = "retryOn lists a condition twice; list each once")
  @JsonPropertyDescription("Which failures are retried: 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream. Unset: connect-failure, refused-stream, reset and gateway-error, which are safe for requests that may not be idempotent.")
  private List<RetryOn> retryOn = new ArrayList<>();

  public RetryPolicy() {}

  public RetryPolicy(Integer attempts, String perTryTimeout, List<RetryOn> retryOn) {
    this.attempts = attempts;
    this.perTryTimeout = perTryTimeout;
    setRetryOn(retryOn);
  }

  public Integer getAttempts() {
    return attempts;
  }

  public void setAttempts(Integer attempts) {
    this.attempts = attempts;
  }

  public String getPerTryTimeout() {
    return perTryTimeout;
  }

  public void setPerTryTimeout(String perTryTimeout) {
    this.perTryTimeout = perTryTimeout;
  }

  public List<RetryOn> getRetryOn() {
    return retryOn;
  }

  public void setRetryOn(List<RetryOn> retryOn) {
    this.retryOn = retryOn == null ? new ArrayList<>() : new ArrayList<>(retryOn);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RetryPolicy r
        && Objects.equals(attempts, r.attempts)
        && Objects.equals(perTryTimeout, r.perTryTimeout)
        && Objects.equals(retryOn, r.retryOn);
  }

  @Override
  public int hashCode() {
    return Objects.hash(attempts, perTryTimeout, retryOn);
  }
}
