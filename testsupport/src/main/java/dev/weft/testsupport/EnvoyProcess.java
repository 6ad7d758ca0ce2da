package dev.weft.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A real Envoy started from a bootstrap, with its admin API at hand and its log under target/. */
public final class EnvoyProcess implements AutoCloseable {

  /** Placeholder for the admin port that the fixture picks; put it in the bootstrap's admin address. */
  public static final String ADMIN_PORT = "ADMIN_PORT";

  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z0-9_]+)}");
  private static final Pattern ADMIN_SECTION = Pattern.compile("(?m)^\\s*\"?admin\"?\\s*:");
  private static final AtomicInteger INSTANCES = new AtomicInteger();
  private static final HttpClient ADMIN_CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  private final String name;
  private final LoggedProcess process;
  private final Path bootstrapFile;
  private final Map<String, Integer> ports;
  private final URI adminUrl;

  private EnvoyProcess(String name, LoggedProcess process, Path bootstrapFile, Map<String, Integer> ports,
      URI adminUrl) {
    this.name = name;
    this.process = process;
    this.bootstrapFile = bootstrapFile;
    this.ports = Collections.unmodifiableMap(ports);
    this.adminUrl = adminUrl;
  }

  /** Starts describing an Envoy; {@code name} labels its log and its files. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** The build string of the provisioned Envoy, e.g. {@code 9e55.../1.40.0/Clean/RELEASE/BoringSSL}. */
  public static String binaryVersion(WeftTools tools) {
    CommandResult result = Command.run(List.of(tools.envoy().toString(), "--version")).requireSuccess();
    String out = result.stdout().strip();
    int at = out.indexOf("version:");
    return at < 0 ? out : out.substring(at + "version:".length()).strip();
  }

  public String name() {
    return name;
  }

  /** Base URL of the admin API, e.g. {@code http://127.0.0.1:23456}. */
  public URI adminUrl() {
    return adminUrl;
  }

  public int adminPort() {
    return adminUrl.getPort();
  }

  /** The port the fixture picked for placeholder {@code key} (see {@link Builder#port(String)}). */
  public int port(String key) {
    Integer port = ports.get(key);
    if (port == null) {
      throw new IllegalArgumentException("no port named " + key + "; this Envoy has " + ports.keySet());
    }
    return port;
  }

  public Path logFile() {
    return process.logFile();
  }

  /** The bootstrap as Envoy read it, with every placeholder filled in. */
  public Path bootstrapFile() {
    return bootstrapFile;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** The operating system's id of the Envoy process. */
  public long pid() {
    return process.pid();
  }

  /** GET on the admin API; fails on a non-2xx answer. */
  public String admin(String pathAndQuery) {
    return adminCall("GET", pathAndQuery);
  }

  /** POST on the admin API (e.g. {@code /healthcheck/fail}, {@code /drain_listeners}); fails on a non-2xx answer. */
  public String adminPost(String pathAndQuery) {
    return adminCall("POST", pathAndQuery);
  }

  /** The whole {@code /config_dump} as JSON. */
  public String configDump() {
    return admin("/config_dump");
  }

  /** One part of {@code /config_dump}, e.g. {@code configDump("dynamic_active_clusters")}. */
  public String configDump(String resource) {
    return admin("/config_dump?resource=" + resource);
  }

  /** {@code /server_info} as JSON: version, state, command line, uptime. */
  public String serverInfo() {
    return admin("/server_info");
  }

  /** All stats by name, as the text admin endpoint prints them (histograms as their summary text). */
  public Map<String, String> stats() {
    Map<String, String> stats = new LinkedHashMap<>();
    for (String line : admin("/stats").split("\n")) {
      int colon = line.lastIndexOf(": ");
      if (colon > 0) {
        stats.put(line.substring(0, colon), line.substring(colon + 2).strip());
      }
    }
    return stats;
  }

  /** A counter or gauge by exact name, empty when Envoy has no such stat (yet). */
  public OptionalLong stat(String statName) {
    String value = stats().get(statName);
    if (value == null) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(value));
    } catch (NumberFormatException histogram) {
      throw new IllegalArgumentException(statName + " is not a counter or gauge: " + value, histogram);
    }
  }

  /** A counter by exact name, 0 while Envoy has not created it (as Prometheus reads a missing counter). */
  public long counter(String statName) {
    return stat(statName).orElse(0);
  }

  /** Whether {@code /ready} answers LIVE: initial xDS fetches done and listeners up. */
  public boolean isLive() {
    try {
      HttpResponse<String> response = send("GET", "/ready");
      return response.statusCode() == 200 && response.body().strip().equals("LIVE");
    } catch (UncheckedIOException notListeningYet) {
      return false;
    }
  }

  /** Waits until {@code /ready} says LIVE, failing at once if Envoy exits. */
  public void awaitLive(Duration timeout) {
    await("Envoy " + name + " /ready to say LIVE (log " + logFile() + ")")
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> {
          process.requireAlive();
          return isLive();
        });
  }

  /** SIGTERM, then SIGKILL if Envoy is still there after 10 s; the log stays. */
  @Override
  public void close() {
    process.stop(Duration.ofSeconds(10));
  }

  @Override
  public String toString() {
    return "EnvoyProcess[" + name + ", admin " + adminUrl + ", log " + logFile() + "]";
  }

  private String adminCall(String method, String pathAndQuery) {
    HttpResponse<String> response = send(method, pathAndQuery);
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException(method + " " + adminUrl + pathAndQuery + " answered "
          + response.statusCode() + ": " + response.body());
    }
    return response.body();
  }

  private HttpResponse<String> send(String method, String pathAndQuery) {
    String path = pathAndQuery.startsWith("/") ? pathAndQuery : "/" + pathAndQuery;
    HttpRequest request = HttpRequest.newBuilder(adminUrl.resolve(path))
        .method(method, HttpRequest.BodyPublishers.noBody())
        .timeout(Duration.ofSeconds(10))
        .build();
    try {
      return ADMIN_CLIENT.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("admin call " + method + " " + request.uri() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted calling " + request.uri(), e);
    }
  }

  /**
   * Fills {@code ${KEY}} placeholders; any left unfilled is an error, since Envoy would reject the
   * bootstrap with a message that no longer names the placeholder.
   */
  static String render(String template, Map<String, String> values) {
    Set<String> unknown = new TreeSet<>();
    Matcher matcher = PLACEHOLDER.matcher(template);
    StringBuilder out = new StringBuilder();
    while (matcher.find()) {
      String value = values.get(matcher.group(1));
      if (value == null) {
        unknown.add(matcher.group(1));
        value = matcher.group();
      }
      matcher.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    matcher.appendTail(out);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("bootstrap has placeholders with no value: " + unknown
          + "; give them with port(...) or variable(...)");
    }
    return out.toString();
  }

  /**
   * Adds an admin section on the fixture's port when the bootstrap (YAML or JSON) has none, so
   * helpers always work.
   */
  static String withAdmin(String template) {
    if (ADMIN_SECTION.matcher(template).find()) {
      return template;
    }
    String separator = template.endsWith("\n") ? "" : "\n";
    return template + separator
        + "admin:\n"
        + "  address:\n"
        + "    socket_address: { address: 127.0.0.1, port_value: ${" + ADMIN_PORT + "} }\n";
  }

  /** What to start: bootstrap, placeholders, flags. */
  public static final class Builder {
    private final String name;
    private final Map<String, String> variables = new LinkedHashMap<>();
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final List<String> extraArgs = new ArrayList<>();
    private final List<String> launcher = new ArrayList<>();
    private String bootstrap;
    private WeftTools tools;
    private String logLevel = "info";
    private int concurrency = 1;
    private boolean awaitLive = true;
    private Duration startupTimeout = Duration.ofSeconds(30);

    private Builder(String name) {
      this.name = name;
    }

    /** The bootstrap YAML, with {@code ${KEY}} placeholders; {@code ${ADMIN_PORT}} is always filled. */
    public Builder bootstrap(String yaml) {
      this.bootstrap = yaml;
      return this;
    }

    /** The bootstrap from a file (e.g. a test resource), with placeholders as in {@link #bootstrap(String)}. */
    public Builder bootstrapFile(Path file) {
      try {
        this.bootstrap = Files.readString(file);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read bootstrap " + file, e);
      }
      return this;
    }

    /** The bootstrap from a classpath resource, e.g. {@code /envoy/static-proxy.yaml}. */
    public Builder bootstrapResource(String resource) {
      // The test's class loader first: the resource lives with the test, not with this jar.
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      String relative = resource.startsWith("/") ? resource.substring(1) : resource;
      try (var in = loader != null && loader.getResource(relative) != null
          ? loader.getResourceAsStream(relative)
          : EnvoyProcess.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalArgumentException("no classpath resource " + resource);
        }
        this.bootstrap = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read bootstrap resource " + resource, e);
      }
      return this;
    }

    /** Fills {@code ${key}} with {@code value}. */
    public Builder variable(String key, Object value) {
      variables.put(key, String.valueOf(value));
      return this;
    }

    /** Picks a free port for {@code ${key}}; read it back with {@link EnvoyProcess#port(String)}. */
    public Builder port(String key) {
      ports.put(key, FreePort.pick());
      return this;
    }

    public Builder tools(WeftTools tools) {
      this.tools = tools;
      return this;
    }

    /** Envoy's {@code --log-level}; info by default. */
    public Builder logLevel(String level) {
      this.logLevel = level;
      return this;
    }

    /** Worker threads; 1 by default, which is plenty on a 2-core machine. */
    public Builder concurrency(int workers) {
      this.concurrency = workers;
      return this;
    }

    /** Whether start() waits for LIVE (default) or only for the admin API, e.g. before xDS serves. */
    public Builder awaitLive(boolean awaitLive) {
      this.awaitLive = awaitLive;
      return this;
    }

    public Builder startupTimeout(Duration timeout) {
      this.startupTimeout = timeout;
      return this;
    }

    /** More command-line flags, e.g. {@code "--component-log-level", "upstream:debug"}. */
    public Builder args(String... args) {
      extraArgs.addAll(List.of(args));
      return this;
    }

    /**
     * A command that runs Envoy, e.g. {@link NetworkNamespace#enter()} for an Envoy inside a network
     * namespace; it must exec Envoy (as nsenter does), so stopping the process stops Envoy.
     */
    public Builder launcher(List<String> prefix) {
      launcher.clear();
      launcher.addAll(prefix);
      return this;
    }

    /** Starts Envoy and waits until it is LIVE (or its admin answers); fails with its log tail. */
    public EnvoyProcess start() {
      if (bootstrap == null) {
        throw new IllegalStateException("Envoy " + name + " needs a bootstrap");
      }
      WeftTools resolvedTools = tools != null ? tools : WeftTools.locate();
      Map<String, Integer> allPorts = new LinkedHashMap<>();
      allPorts.put(ADMIN_PORT, FreePort.pick());
      allPorts.putAll(ports);
      Map<String, String> values = new LinkedHashMap<>(variables);
      allPorts.forEach((key, port) -> values.put(key, String.valueOf(port)));
      String rendered = render(withAdmin(bootstrap), values);

      Path dir = ProcessLogs.directory().resolve("envoy-" + name + "-" + INSTANCES.incrementAndGet());
      Path bootstrapFile = dir.resolve("bootstrap.yaml");
      Path adminAddressFile = dir.resolve("admin-address");
      try {
        Files.createDirectories(dir);
        Files.writeString(bootstrapFile, rendered);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write bootstrap for Envoy " + name, e);
      }

      List<String> command = new ArrayList<>(launcher);
      command.addAll(List.of(
          resolvedTools.envoy().toString(),
          "-c", bootstrapFile.toString(),
          "--admin-address-path", adminAddressFile.toString(),
          // No hot restart: no shared memory or domain socket, so any number of Envoys
          // (and leftovers of a killed run) never collide on a base id.
          "--disable-hot-restart",
          "--concurrency", String.valueOf(concurrency),
          "--log-level", logLevel));
      command.addAll(extraArgs);
      LoggedProcess process = LoggedProcess.start("envoy-" + name, command, Map.of());
      try {
        URI adminUrl = awaitAdmin(process, adminAddressFile);
        EnvoyProcess envoy = new EnvoyProcess(name, process, bootstrapFile, allPorts, adminUrl);
        if (awaitLive) {
          envoy.awaitLive(startupTimeout);
        }
        return envoy;
      } catch (RuntimeException | Error e) {
        process.stop(Duration.ofSeconds(5));
        throw e;
      }
    }

    private URI awaitAdmin(LoggedProcess process, Path adminAddressFile) {
      // Envoy writes this file once its admin listener is bound, so its content is the
      // address to use, whatever the bootstrap said.
      String address = await("Envoy " + name + " to write its admin address to " + adminAddressFile
          + " (log " + process.logFile() + ")")
          .atMost(startupTimeout)
          .pollInterval(Duration.ofMillis(50))
          .until(() -> {
            process.requireAlive();
            return Files.exists(adminAddressFile) ? Files.readString(adminAddressFile).strip() : "";
          }, text -> !text.isEmpty());
      return URI.create("http://" + address);
    }
  }
}
