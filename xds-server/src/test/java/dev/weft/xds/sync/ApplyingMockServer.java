package dev.weft.xds.sync;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The fabric8 mock server in CRUD mode, plus the one thing it lacks for the sync report:
 * server-side apply (it answers 415). Here an apply creates the object when it is missing and
 * replaces it otherwise. With one field manager forcing its fields, as the publisher does, that is
 * the apiserver's result too, except that fields others added are dropped here; the real
 * apiserver's merge is the e2e suite's business. The applies are kept, so a test can check how
 * they were sent.
 */
final class ApplyingMockServer {

  private static final String APPLY_PATCH = "application/apply-patch";

  private final KubernetesMockServer server;
  private final List<RecordedRequest> applies = new CopyOnWriteArrayList<>();

  private ApplyingMockServer() {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new Dispatcher(), false);
  }

  /** A started server; stop it with {@link #close()}. */
  static ApplyingMockServer start() {
    ApplyingMockServer mock = new ApplyingMockServer();
    mock.server.init();
    return mock;
  }

  KubernetesMockServer server() {
    return server;
  }

  /** The server-side apply requests so far. */
  List<RecordedRequest> applies() {
    return List.copyOf(applies);
  }

  void close() {
    server.destroy();
  }

  /** CRUD, with applies turned into a create or a replace. */
  private final class Dispatcher extends KubernetesCrudDispatcher {

    @Override
    public MockResponse handlePatch(RecordedRequest request) {
      String contentType = request.getHeader("Content-Type");
      if (contentType == null || !contentType.startsWith(APPLY_PATCH)) {
        return super.handlePatch(request);
      }
      applies.add(request);
      String path = request.getPath();
      String object = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
      byte[] body = request.getUtf8Body().getBytes(StandardCharsets.UTF_8);
      if (handleGet(object).code() == HttpURLConnection.HTTP_NOT_FOUND) {
        String collection = object.substring(0, object.lastIndexOf('/'));
        return handleCreate(new RecordedRequest(request.getHttpVersion(), HttpMethod.POST, collection,
            request.getHeaders(), new Buffer(body)));
      }
      return handleUpdate(new RecordedRequest(request.getHttpVersion(), HttpMethod.PUT, object,
          request.getHeaders(), new Buffer(body)));
    }
  }
}
