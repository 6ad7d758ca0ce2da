package dev.weft.demo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Sends requests through a client sidecar's outbound listener, naming the Service in the Host
 * header as an app would, and tallies which backend answered (backends answer with their name).
 */
public final class Traffic {

  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2))
      .build();
  private final URI outbound;

  public Traffic(LocalPod client) {
    this.outbound = URI.create("http://" + client.address() + ":" + LocalPod.OUTBOUND_PORT + "/");
  }

  /** Sends {@code count} requests for {@code host} one after another. */
  public Tally send(String host, int count) {
    Tally tally = new Tally();
    for (int i = 0; i < count; i++) {
      tally.add(sendOne(host));
    }
    return tally;
  }

  /** One request; the backend's name, or a description of the failure starting with "FAILED". */
  public String sendOne(String host) {
    // The Host header is restricted in the JDK client: the JVM must run with
    // -Djdk.httpclient.allowRestrictedHeaders=host (e2e/pom.xml and hack/demo.sh set it).
    HttpRequest request = HttpRequest.newBuilder(outbound).header("Host", host).timeout(Duration.ofSeconds(5)).build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      return response.statusCode() == 200
          ? response.body().strip()
          : "FAILED " + response.statusCode() + " " + response.body().strip();
    } catch (IOException e) {
      return "FAILED " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "FAILED interrupted";
    }
  }

  /** Who answered how often, and what failed. */
  public static final class Tally {
    private final Map<String, Integer> answers = new TreeMap<>();
    private final List<String> failures = new ArrayList<>();
    private int total;

    public synchronized void add(String answer) {
      total++;
      if (answer.startsWith("FAILED")) {
        failures.add(answer);
      } else {
        answers.merge(answer, 1, Integer::sum);
      }
    }

    public synchronized int total() {
      return total;
    }

    public synchronized int count(String backend) {
      return answers.getOrDefault(backend, 0);
    }

    public synchronized double share(String backend) {
      return total == 0 ? 0 : (double) count(backend) / total;
    }

    public synchronized List<String> failures() {
      return List.copyOf(failures);
    }

    /** Answers per backend name, in name order. */
    public synchronized Map<String, Integer> answers() {
      return new TreeMap<>(answers);
    }

    @Override
    public synchronized String toString() {
      StringBuilder out = new StringBuilder();
      answers.forEach((backend, n) -> out.append(String.format("%s %d (%.1f%%)  ", backend, n, 100.0 * n / total)));
      out.append("failed ").append(failures.size()).append(" of ").append(total);
      return out.toString();
    }
  }
}
