package dev.weft.xds.translate;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Versions derived from content alone: SHA-256 over the deterministic protobuf serialization of
 * each resource, in the given order. Equal resources give equal versions in every JVM, so xDS
 * replicas agree without talking, and a type whose content did not change keeps its version.
 *
 * <p>One instance serves one translation: it remembers the digest of each resource object it has
 * seen, so the resources shared by every group are serialized once, not once per group. A route
 * configuration is digested from the digests of its virtual hosts, so the hosts that every
 * namespace's configuration shares are serialized once too; likewise a listener from the digests
 * of its filter chains. An instance made from the previous translation's
 * ({@link #ContentVersion(ContentVersion)}) also knows that translation's digests: the messages
 * {@link TranslationCache} carried over are not serialized again.
 */
final class ContentVersion {

  /** 64 bits: a collision between two versions of one type for one group is not a practical risk. */
  private static final int VERSION_BYTES = 8;

  private final Map<Message, byte[]> digests = new IdentityHashMap<>();
  /** Each resource's version as text; groups share most resources, and each config asks for them all. */
  private final Map<Message, String> texts = new IdentityHashMap<>();
  /** The last translation's digests and texts: the messages it shares with this one are not digested again. */
  private final Map<Message, byte[]> previousDigests;
  private final Map<Message, String> previousTexts;
  /**
   * The version and the per-name versions of each list asked for, by the list's identity (lists
   * are immutable), this translation's and the last one's: a group's list that an edit did not
   * touch is the very list it was ({@link TranslationCache}), so it is not walked again.
   */
  private final Map<List<?>, String> listVersions = new IdentityHashMap<>();
  private final Map<List<?>, Map<String, String>> listNames = new IdentityHashMap<>();
  private final Map<List<?>, String> previousListVersions;
  private final Map<List<?>, Map<String, String>> previousListNames;

  /** Versions for a first translation. */
  ContentVersion() {
    this.previousDigests = Map.of();
    this.previousTexts = Map.of();
    this.previousListVersions = Map.of();
    this.previousListNames = Map.of();
  }

  /**
   * Versions for the translation after {@code previous}'s: a message object that translation
   * digested (one {@link TranslationCache} carried over) is not serialized again. Copies of its
   * own maps are kept, not its predecessor's, so at most two translations' digests are held, and
   * a late call on {@code previous} (a join for the last state) cannot race with this one.
   * The caller holds whatever guards {@code previous}.
   */
  ContentVersion(ContentVersion previous) {
    this.previousDigests = new IdentityHashMap<>(previous.digests);
    this.previousTexts = new IdentityHashMap<>(previous.texts);
    this.previousListVersions = new IdentityHashMap<>(previous.listVersions);
    this.previousListNames = new IdentityHashMap<>(previous.listNames);
  }

  /** The version of a list of resources of one type. */
  String of(List<? extends Message> resources) {
    String known = listVersions.get(resources);
    if (known == null) {
      known = previousListVersions.get(resources);
      if (known == null) {
        known = digestOfList(resources);
      }
      listVersions.put(resources, known);
    }
    return known;
  }

  private String digestOfList(List<? extends Message> resources) {
    MessageDigest sha = sha256();
    for (Message resource : resources) {
      sha.update(digestOf(resource));
    }
    byte[] hash = sha.digest();
    return HexFormat.of().formatHex(hash, 0, VERSION_BYTES);
  }

  /** The version of each resource by its name, in the given order (unmodifiable). */
  <T extends Message> Map<String, String> byName(List<T> resources, Function<T, String> name) {
    return byName(resources, name, null, null);
  }

  /**
   * {@link #byName(List, Function)}, taking the version of each resource that is the very object
   * at the same place in {@code before} from {@code beforeVersions} ({@code before}'s own
   * versions, in its order) instead of looking it up: a group's route configurations after a
   * weight edit are its ~2,000 last ones but one, and 20 configs hold them.
   */
  <T extends Message> Map<String, String> byName(List<T> resources, Function<T, String> name, List<T> before,
      Map<String, String> beforeVersions) {
    Map<String, String> known = listNames.get(resources);
    if (known == null) {
      known = previousListNames.get(resources);
    }
    if (known == null) {
      Map<String, String> versions = new LinkedHashMap<>();
      boolean aligned = before != null && beforeVersions != null && before.size() == beforeVersions.size();
      Iterator<String> beforeVersion = aligned ? beforeVersions.values().iterator() : null;
      for (int i = 0; i < resources.size(); i++) {
        T resource = resources.get(i);
        String kept = aligned && i < before.size() ? beforeVersion.next() : null;
        versions.put(name.apply(resource), kept != null && before.get(i) == resource ? kept : versionOf(resource));
      }
      known = Collections.unmodifiableMap(versions);
    }
    listNames.put(resources, known);
    return known;
  }

  private String versionOf(Message resource) {
    String version = texts.get(resource);
    if (version == null) {
      version = previousTexts.get(resource);
      if (version == null) {
        version = HexFormat.of().formatHex(digestOf(resource), 0, VERSION_BYTES);
      }
      texts.put(resource, version);
    }
    return version;
  }

  private byte[] digestOf(Message resource) {
    byte[] known = digests.get(resource);
    if (known != null) {
      return known;
    }
    known = previousDigests.get(resource);
    if (known == null) {
      if (resource instanceof RouteConfiguration routes) {
        known = compositeDigest(routes.toBuilder().clearVirtualHosts().build(), routes.getVirtualHostsList());
      } else if (resource instanceof Listener listener) {
        known = compositeDigest(listener.toBuilder().clearFilterChains().build(), listener.getFilterChainsList());
      } else {
        known = serializedDigest(resource);
      }
    }
    digests.put(resource, known);
    return known;
  }

  /**
   * A resource digested as its shell (the resource without its repeated parts), then each part's
   * digest: equal content, equal digest, and parts shared between resources (the virtual hosts of
   * every namespace's route configuration, the filter chains of every namespace's outbound
   * listener) are serialized once per translation.
   */
  private byte[] compositeDigest(Message shell, List<? extends Message> parts) {
    MessageDigest sha = sha256();
    sha.update(serializedDigest(shell));
    for (Message part : parts) {
      sha.update(digestOf(part));
    }
    return sha.digest();
  }

  private static byte[] serializedDigest(Message resource) {
    byte[] bytes = new byte[resource.getSerializedSize()];
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    // Map fields (typed_extension_protocol_options, metadata) would otherwise be written in
    // hash order, which differs between JVMs.
    out.useDeterministicSerialization();
    try {
      resource.writeTo(out);
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialize " + resource.getDescriptorForType().getFullName(), e);
    }
    MessageDigest sha = sha256();
    // The type name keeps two resources of different types with equal bytes apart.
    sha.update(resource.getDescriptorForType().getFullName().getBytes(StandardCharsets.UTF_8));
    sha.update((byte) 0);
    sha.update(bytes);
    return sha.digest();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
