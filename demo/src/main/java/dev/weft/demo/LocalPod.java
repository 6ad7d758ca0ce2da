package dev.weft.demo;

import dev.weft.testsupport.EnvoyProcess;
import dev.weft.testsupport.HttpBackend;
import dev.weft.xds.bootstrap.SidecarBootstrap;
import dev.weft.xds.bootstrap.SidecarBootstrap.Transport;
import dev.weft.xds.bootstrap.SidecarBootstrap.Workload;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * A pod without a kubelet: an app (an {@link HttpBackend} on 127.0.0.1) and a real Envoy sidecar
 * standing at the pod's own loopback address, configured by the xDS server over ADS. Without
 * iptables the sidecar binds the pod address itself: inbound on the app's port, outbound on 15001.
 * Given {@link MeshIdentities}, the pod is also a Pod object with a sidecar container, its sidecar
 * mounts the certificate the operator issued its ServiceAccount and speaks mTLS to meshed peers
 * (and requires it inbound); without, it has no identity and speaks plaintext.
 */
public final class LocalPod implements AutoCloseable {

  public static final int OUTBOUND_PORT = 15001;

  private final String name;
  private final String address;
  private final HttpBackend app;
  private final EnvoyProcess sidecar;
  private final MeshIdentities.Mounted identity;

  private LocalPod(String name, String address, HttpBackend app, EnvoyProcess sidecar,
      MeshIdentities.Mounted identity) {
    this.name = name;
    this.address = address;
    this.app = app;
    this.sidecar = sidecar;
    this.identity = identity;
  }

  /** Starts a pod that serves HTTP (answering with its name) behind its sidecar, without an identity. */
  public static LocalPod serving(String name, String namespace, String serviceAccount, String address, int xdsPort,
      Transport transport) {
    return serving(name, namespace, serviceAccount, address, xdsPort, transport, null);
  }

  /**
   * Starts a pod that serves HTTP (answering with its name) behind its sidecar, with its identity
   * from {@code identities} (null: none, plaintext).
   */
  public static LocalPod serving(String name, String namespace, String serviceAccount, String address, int xdsPort,
      Transport transport, MeshIdentities identities) {
    MeshIdentities.Mounted identity = identities == null ? null : identities.mount(name, namespace, serviceAccount);
    HttpBackend app = null;
    try {
      app = HttpBackend.start(name, loopback());
      return new LocalPod(name, address, app,
          sidecar(name, namespace, serviceAccount, address, List.of(app.port()), xdsPort, transport, identity,
              identities == null ? "" : identities.xdsServerId()), identity);
    } catch (RuntimeException e) {
      if (app != null) {
        app.close();
      }
      if (identity != null) {
        identity.close();
      }
      throw e;
    }
  }

  /** Starts a pod that only makes calls: a sidecar with no app ports, without an identity. */
  public static LocalPod client(String name, String namespace, String serviceAccount, String address, int xdsPort,
      Transport transport) {
    return client(name, namespace, serviceAccount, address, xdsPort, transport, null);
  }

  /** Starts a pod that only makes calls, with its identity from {@code identities} (null: none). */
  public static LocalPod client(String name, String namespace, String serviceAccount, String address, int xdsPort,
      Transport transport, MeshIdentities identities) {
    MeshIdentities.Mounted identity = identities == null ? null : identities.mount(name, namespace, serviceAccount);
    try {
      return new LocalPod(name, address, null,
          sidecar(name, namespace, serviceAccount, address, List.of(), xdsPort, transport, identity,
              identities == null ? "" : identities.xdsServerId()), identity);
    } catch (RuntimeException e) {
      if (identity != null) {
        identity.close();
      }
      throw e;
    }
  }

  private static EnvoyProcess sidecar(String name, String namespace, String serviceAccount, String address,
      List<Integer> appPorts, int xdsPort, Transport transport, MeshIdentities.Mounted identity, String xdsServerId) {
    Workload workload = new Workload(name, namespace, serviceAccount, address, appPorts, address,
        SidecarBootstrap.ADMIN_PORT, SidecarBootstrap.STATS_PORT,
        identity == null ? "" : identity.sdsDirectory().toAbsolutePath().toString());
    String bootstrap = SidecarBootstrap.json(SidecarBootstrap.build(workload, "127.0.0.1", xdsPort, transport,
        identity == null ? "" : xdsServerId));
    // LIVE means Envoy got its first clusters and listeners over ADS.
    return EnvoyProcess.builder(name).bootstrap(bootstrap).start();
  }

  private static InetAddress loopback() {
    try {
      return InetAddress.getByName("127.0.0.1");
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  public String name() {
    return name;
  }

  /** The pod's own address, as its EndpointSlice lists it. */
  public String address() {
    return address;
  }

  /** The port the app serves on, which is also where the sidecar takes inbound traffic. */
  public int appPort() {
    return app.port();
  }

  public HttpBackend app() {
    return app;
  }

  public EnvoyProcess sidecar() {
    return sidecar;
  }

  /** The pod's mounted identity, or null when it has none. */
  public MeshIdentities.Mounted identity() {
    return identity;
  }

  @Override
  public void close() {
    try {
      sidecar.close();
    } finally {
      if (app != null) {
        app.close();
      }
      if (identity != null) {
        identity.close();
      }
    }
  }

  @Override
  public String toString() {
    return name + "@" + address;
  }
}
