package dev.weft.xds.translate;

import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import com.google.protobuf.TypeRegistry;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;

/** Expected protos written as text format, with the Any payloads the translators use. */
final class TextProtos {

  private static final TextFormat.Parser PARSER = TextFormat.Parser.newBuilder()
      .setTypeRegistry(TypeRegistry.newBuilder()
          .add(HttpConnectionManager.getDescriptor())
          .add(Router.getDescriptor())
          .add(TcpProxy.getDescriptor())
          .add(OriginalDst.getDescriptor())
          .add(HttpProtocolOptions.getDescriptor())
          .build())
      .build();

  private TextProtos() {}

  /** The message of {@code prototype}'s type that {@code text} describes. */
  @SuppressWarnings("unchecked") // newBuilderForType builds the prototype's own type
  static <T extends Message> T parse(String text, T prototype) {
    Message.Builder builder = prototype.newBuilderForType();
    try {
      PARSER.merge(text, builder);
    } catch (TextFormat.ParseException e) {
      throw new IllegalArgumentException("bad expected " + prototype.getDescriptorForType().getName() + ": "
          + e.getMessage(), e);
    }
    return (T) builder.build();
  }
}
