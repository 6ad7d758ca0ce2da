package dev.weft.xds.server.delta;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnsafeByteOperations;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One resource as a delta response carries it, already encoded: the bytes of a
 * {@code DeltaDiscoveryResponse.resources} entry (field tag, length and the {@link Resource} with its
 * name, version and packed body). A response is these entries written one after another, so a
 * resource sent to 2,000 streams is encoded once and copied 2,000 times.
 */
record EncodedResource(String name, String version, ByteString entry) {

  static EncodedResource of(Resource resource) {
    byte[] bytes = new byte[CodedOutputStream.computeMessageSize(DeltaDiscoveryResponse.RESOURCES_FIELD_NUMBER,
        resource)];
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    try {
      out.writeMessage(DeltaDiscoveryResponse.RESOURCES_FIELD_NUMBER, resource);
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException("encoding into an array cannot fail", e);
    }
    // The array is never written again, and never leaves this object.
    return new EncodedResource(resource.getName(), resource.getVersion(), UnsafeByteOperations.unsafeWrap(bytes));
  }
}
