package dev.weft.operator.injection;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The iptables rules that send a pod's TCP through its sidecar: outbound connections to Envoy's
 * {@value #OUTBOUND_PORT} and inbound ones to {@value #INBOUND_PORT}, both with the original
 * destination kept for Envoy to read. Envoy's own connections (uid {@value #PROXY_UID}) and loopback
 * traffic are left alone, so the proxy never captures itself; so are the sidecar's own ports and
 * what the exclusions name. Pure: it only writes the commands, which the init container runs as a
 * {@code sh -c} script (any image with sh and iptables will do).
 */
public final class CaptureRules {

  public static final int PROXY_UID = 1337;
  public static final int OUTBOUND_PORT = 15001;
  public static final int INBOUND_PORT = 15006;
  /** Envoy's admin, outbound, inbound, app-probe and stats ports: never redirected, inbound or outbound. */
  public static final Set<Integer> SIDECAR_PORTS = Set.of(15000, OUTBOUND_PORT, INBOUND_PORT, AppProbes.PORT, 15090);
  public static final String INBOUND_CHAIN = "WEFT_INBOUND";
  public static final String OUTBOUND_CHAIN = "WEFT_OUTBOUND";

  private static final Pattern CIDR = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})(/(\\d{1,2}))?");

  /**
   * Traffic the sidecar does not see: outbound to these TCP ports or these IPv4 CIDRs, inbound to
   * these TCP ports. Sorted, so the same exclusions always give the same rules.
   */
  public record Exclusions(SortedSet<Integer> outboundPorts, SortedSet<String> outboundCidrs,
      SortedSet<Integer> inboundPorts) {

    public static final Exclusions NONE = new Exclusions(new TreeSet<>(), new TreeSet<>(), new TreeSet<>());

    public Exclusions {
      outboundPorts = new TreeSet<>(outboundPorts);
      outboundCidrs = new TreeSet<>(outboundCidrs);
      inboundPorts = new TreeSet<>(inboundPorts);
    }

    /**
     * Exclusions from comma-separated lists; a bad entry is an {@link IllegalArgumentException}
     * whose message names {@code where} (the annotation or setting) and the entry.
     */
    public static Exclusions parse(String outboundPorts, String outboundCidrs, String inboundPorts, String where) {
      return new Exclusions(ports(outboundPorts, where), cidrs(outboundCidrs, where), ports(inboundPorts, where));
    }

    /** Both sets of exclusions. */
    public Exclusions plus(Exclusions other) {
      Exclusions sum = new Exclusions(outboundPorts, outboundCidrs, inboundPorts);
      sum.outboundPorts.addAll(other.outboundPorts);
      sum.outboundCidrs.addAll(other.outboundCidrs);
      sum.inboundPorts.addAll(other.inboundPorts);
      return sum;
    }
  }

  private CaptureRules() {}

  /** The iptables commands, in order, for the nat table of the pod's network namespace. */
  public static List<String> commands(Exclusions exclusions) {
    List<String> rules = new ArrayList<>();
    rules.add(nat("-N " + INBOUND_CHAIN));
    rules.add(nat("-N " + OUTBOUND_CHAIN));
    // Inbound: connections arriving at the pod, except to the sidecar's own ports and the excluded ones.
    rules.add(nat("-A PREROUTING -p tcp -j " + INBOUND_CHAIN));
    for (int port : union(SIDECAR_PORTS, exclusions.inboundPorts())) {
      rules.add(nat("-A " + INBOUND_CHAIN + " -p tcp --dport " + port + " -j RETURN"));
    }
    rules.add(nat("-A " + INBOUND_CHAIN + " -p tcp -j REDIRECT --to-ports " + INBOUND_PORT));
    // Outbound: connections the pod's processes open, except Envoy's own (no loop) and loopback.
    rules.add(nat("-A OUTPUT -p tcp -j " + OUTBOUND_CHAIN));
    rules.add(nat("-A " + OUTBOUND_CHAIN + " -m owner --uid-owner " + PROXY_UID + " -j RETURN"));
    rules.add(nat("-A " + OUTBOUND_CHAIN + " -o lo -j RETURN"));
    rules.add(nat("-A " + OUTBOUND_CHAIN + " -d 127.0.0.0/8 -j RETURN"));
    for (String cidr : exclusions.outboundCidrs()) {
      rules.add(nat("-A " + OUTBOUND_CHAIN + " -d " + cidr + " -j RETURN"));
    }
    for (int port : union(SIDECAR_PORTS, exclusions.outboundPorts())) {
      rules.add(nat("-A " + OUTBOUND_CHAIN + " -p tcp --dport " + port + " -j RETURN"));
    }
    rules.add(nat("-A " + OUTBOUND_CHAIN + " -p tcp -j REDIRECT --to-ports " + OUTBOUND_PORT));
    return rules;
  }

  /**
   * A POSIX sh script that runs {@link #commands} and then prints the nat table, so the init
   * container's log shows what it installed; it stops at the first failing command. It can run
   * again in the same network namespace (the kubelet re-runs a failed init container): Weft's
   * chains are emptied and refilled, and the jumps to them are added only when missing.
   */
  public static String script(Exclusions exclusions) {
    StringBuilder script = new StringBuilder("set -e\n");
    for (String command : commands(exclusions)) {
      String rule = command.substring(NAT.length());
      if (rule.startsWith("-N ")) {
        script.append(command).append(" 2>/dev/null || ").append(NAT).append("-F ").append(rule.substring(3));
      } else if (rule.startsWith("-A PREROUTING ") || rule.startsWith("-A OUTPUT ")) {
        script.append(NAT).append("-C ").append(rule.substring(3)).append(" 2>/dev/null || ").append(command);
      } else {
        script.append(command);
      }
      script.append('\n');
    }
    script.append("iptables -t nat -S\n");
    return script.toString();
  }

  private static final String NAT = "iptables -w 5 -t nat ";

  private static String nat(String rule) {
    return NAT + rule;
  }

  private static SortedSet<Integer> union(Set<Integer> a, Set<Integer> b) {
    SortedSet<Integer> all = new TreeSet<>(a);
    all.addAll(b);
    return all;
  }

  private static SortedSet<Integer> ports(String list, String where) {
    SortedSet<Integer> ports = new TreeSet<>();
    for (String entry : entries(list)) {
      int port;
      try {
        port = Integer.parseInt(entry);
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException(where + ": '" + entry + "' is not a port (1-65535); write e.g. \"5432,6379\"");
      }
      ports.add(port);
    }
    return ports;
  }

  private static SortedSet<String> cidrs(String list, String where) {
    SortedSet<String> cidrs = new TreeSet<>();
    for (String entry : entries(list)) {
      var match = CIDR.matcher(entry);
      boolean valid = match.matches();
      for (int group = 1; valid && group <= 4; group++) {
        valid = Integer.parseInt(match.group(group)) <= 255;
      }
      if (valid && match.group(6) != null) {
        valid = Integer.parseInt(match.group(6)) <= 32;
      }
      if (!valid) {
        throw new IllegalArgumentException(where + ": '" + entry
            + "' is not an IPv4 address or CIDR; write e.g. \"169.254.169.254/32,203.0.113.0/24\"");
      }
      cidrs.add(match.group(6) == null ? entry + "/32" : entry);
    }
    return cidrs;
  }

  private static List<String> entries(String list) {
    if (list == null) {
      return List.of();
    }
    return Arrays.stream(list.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
  }
}
