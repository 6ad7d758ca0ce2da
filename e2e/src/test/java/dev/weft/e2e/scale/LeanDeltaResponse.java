package dev.weft.e2e.scale;

import com.google.protobuf.Any;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a simulated proxy reads of a delta response, read straight off the wire without building
 * the message: the type URL, nonce and version, how many bytes, resources and removed names it
 * held, and of the resources only what decides the next subscription: each EDS cluster's service
 * name, and the route configuration names of the listeners' HTTP connection managers. The rest of
 * every resource is skipped: with 2,000 proxies the load client reads ~6 GB on a cold sync, and
 * parsing all of it into messages made the client cost more CPU than the server (and parsing a
 * capture-mode listener's ~2,000 filter chains with their packed connection managers was still
 * two thirds of what was left).
 */
record LeanDeltaResponse(String typeUrl, String version, String nonce, int bytes, int resources, int removed,
    List<String> edsNames, List<String> routeNames) {

  private static final String HTTP_CONNECTION_MANAGER = HttpConnectionManager.getDescriptor().getFullName();

  /** Reads responses with {@link #read}; writing one is not needed (the proxies only receive them). */
  static final MethodDescriptor.Marshaller<LeanDeltaResponse> MARSHALLER = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(LeanDeltaResponse value) {
      throw new UnsupportedOperationException("simulated proxies only read responses");
    }

    @Override
    public LeanDeltaResponse parse(InputStream stream) {
      try {
        return read(CodedInputStream.newInstance(stream));
      } catch (IOException e) {
        throw new UncheckedIOException("a delta response that does not parse", e);
      }
    }
  };

  static LeanDeltaResponse read(CodedInputStream in) throws IOException {
    String typeUrl = "";
    String version = "";
    String nonce = "";
    int resources = 0;
    int removed = 0;
    List<String> edsNames = new ArrayList<>();
    List<String> routeNames = new ArrayList<>();
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      switch (WireFormat.getTagFieldNumber(tag)) {
        case DeltaDiscoveryResponse.TYPE_URL_FIELD_NUMBER -> typeUrl = in.readStringRequireUtf8();
        case DeltaDiscoveryResponse.SYSTEM_VERSION_INFO_FIELD_NUMBER -> version = in.readStringRequireUtf8();
        case DeltaDiscoveryResponse.NONCE_FIELD_NUMBER -> nonce = in.readStringRequireUtf8();
        case DeltaDiscoveryResponse.REMOVED_RESOURCES_FIELD_NUMBER -> {
          removed++;
          in.skipField(tag);
        }
        case DeltaDiscoveryResponse.RESOURCES_FIELD_NUMBER -> {
          resources++;
          int limit = in.pushLimit(in.readRawVarint32());
          readResource(in, edsNames, routeNames);
          in.popLimit(limit);
        }
        default -> in.skipField(tag);
      }
    }
    return new LeanDeltaResponse(typeUrl, version, nonce, in.getTotalBytesRead(), resources, removed, edsNames,
        routeNames);
  }

  /** A {@link Resource}: only its packed body ({@link Any}: type URL first, then the value) is looked into. */
  private static void readResource(CodedInputStream in, List<String> edsNames, List<String> routeNames)
      throws IOException {
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        return;
      }
      if (WireFormat.getTagFieldNumber(tag) != Resource.RESOURCE_FIELD_NUMBER) {
        in.skipField(tag);
        continue;
      }
      int limit = in.pushLimit(in.readRawVarint32());
      String type = "";
      while (true) {
        int anyTag = in.readTag();
        if (anyTag == 0) {
          break;
        }
        int field = WireFormat.getTagFieldNumber(anyTag);
        if (field == Any.TYPE_URL_FIELD_NUMBER) {
          type = in.readStringRequireUtf8();
        } else if (field == Any.VALUE_FIELD_NUMBER && type.equals(Resources.V3.CLUSTER_TYPE_URL)) {
          int clusterLimit = in.pushLimit(in.readRawVarint32());
          String edsName = edsName(in);
          if (edsName != null) {
            edsNames.add(edsName);
          }
          in.popLimit(clusterLimit);
        } else if (field == Any.VALUE_FIELD_NUMBER && type.equals(Resources.V3.LISTENER_TYPE_URL)) {
          int listenerLimit = in.pushLimit(in.readRawVarint32());
          readListener(in, routeNames);
          in.popLimit(listenerLimit);
        } else {
          in.skipField(anyTag);
        }
      }
      in.popLimit(limit);
    }
  }

  /**
   * The RDS route configuration names of a {@link Listener}'s HTTP connection managers, in its
   * filter chains and its default filter chain, in order.
   */
  private static void readListener(CodedInputStream in, List<String> routeNames) throws IOException {
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        return;
      }
      int field = WireFormat.getTagFieldNumber(tag);
      if (field == Listener.FILTER_CHAINS_FIELD_NUMBER || field == Listener.DEFAULT_FILTER_CHAIN_FIELD_NUMBER) {
        int limit = in.pushLimit(in.readRawVarint32());
        forEachMessage(in, FilterChain.FILTERS_FIELD_NUMBER, () -> readFilter(in, routeNames));
        in.popLimit(limit);
      } else {
        in.skipField(tag);
      }
    }
  }

  /** A {@link Filter}: its typed config, when that is an HTTP connection manager loading routes over RDS. */
  private static void readFilter(CodedInputStream in, List<String> routeNames) throws IOException {
    forEachMessage(in, Filter.TYPED_CONFIG_FIELD_NUMBER, () -> {
      String type = "";
      while (true) {
        int tag = in.readTag();
        if (tag == 0) {
          return;
        }
        int field = WireFormat.getTagFieldNumber(tag);
        if (field == Any.TYPE_URL_FIELD_NUMBER) {
          type = in.readStringRequireUtf8();
        } else if (field == Any.VALUE_FIELD_NUMBER && type.substring(type.lastIndexOf('/') + 1)
            .equals(HTTP_CONNECTION_MANAGER)) {
          int limit = in.pushLimit(in.readRawVarint32());
          forEachMessage(in, HttpConnectionManager.RDS_FIELD_NUMBER, () -> {
            String name = null;
            while (true) {
              int rdsTag = in.readTag();
              if (rdsTag == 0) {
                break;
              }
              if (WireFormat.getTagFieldNumber(rdsTag) == Rds.ROUTE_CONFIG_NAME_FIELD_NUMBER) {
                name = in.readStringRequireUtf8();
              } else {
                in.skipField(rdsTag);
              }
            }
            routeNames.add(name == null ? "" : name);
          });
          in.popLimit(limit);
        } else {
          in.skipField(tag);
        }
      }
    });
  }

  private interface Reader {
    void read() throws IOException;
  }

  /** Runs {@code reader} within each occurrence of message field {@code number} of the current message; skips the rest. */
  private static void forEachMessage(CodedInputStream in, int number, Reader reader) throws IOException {
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        return;
      }
      if (WireFormat.getTagFieldNumber(tag) == number
          && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        int limit = in.pushLimit(in.readRawVarint32());
        reader.read();
        in.popLimit(limit);
      } else {
        in.skipField(tag);
      }
    }
  }

  /** The EDS service name of a {@link Cluster} (its name when it sets none); null for a cluster not fed by EDS. */
  private static String edsName(CodedInputStream in) throws IOException {
    String name = "";
    String serviceName = "";
    int type = Cluster.DiscoveryType.STATIC_VALUE; // proto3's default
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      switch (WireFormat.getTagFieldNumber(tag)) {
        case Cluster.NAME_FIELD_NUMBER -> name = in.readStringRequireUtf8();
        case Cluster.TYPE_FIELD_NUMBER -> type = in.readEnum();
        case Cluster.EDS_CLUSTER_CONFIG_FIELD_NUMBER -> {
          int limit = in.pushLimit(in.readRawVarint32());
          while (true) {
            int edsTag = in.readTag();
            if (edsTag == 0) {
              break;
            }
            if (WireFormat.getTagFieldNumber(edsTag) == Cluster.EdsClusterConfig.SERVICE_NAME_FIELD_NUMBER) {
              serviceName = in.readStringRequireUtf8();
            } else {
              in.skipField(edsTag);
            }
          }
          in.popLimit(limit);
        }
        default -> in.skipField(tag);
      }
    }
    if (type != Cluster.DiscoveryType.EDS_VALUE) {
      return null;
    }
    return serviceName.isEmpty() ? name : serviceName;
  }
}
