package dev.weft.xds.translate;

import java.util.regex.Pattern;

/**
 * Checks that an address is an IP literal before it goes into a socket address or CIDR range:
 * Envoy refuses a whole resource over one bad address, and resolving names is not ours to do here.
 */
final class IpLiteral {

  private static final Pattern HEX_GROUP = Pattern.compile("[0-9A-Fa-f]{1,4}");

  private IpLiteral() {}

  static boolean isValid(String address) {
    return address != null && (isIpv4(address) || isIpv6(address));
  }

  /**
   * Four decimal octets 0-255 without leading zeros. Read by hand rather than by a regex: every
   * endpoint of every Service is checked on each translation (20,000 at 1,000 Services), and the
   * regex was 5% of a weight edit's server time.
   */
  static boolean isIpv4(String address) {
    int octets = 0;
    int i = 0;
    int length = address.length();
    while (octets < 4) {
      int start = i;
      int value = 0;
      while (i < length && i - start < 3 && address.charAt(i) >= '0' && address.charAt(i) <= '9') {
        value = value * 10 + (address.charAt(i) - '0');
        i++;
      }
      int digits = i - start;
      if (digits == 0 || value > 255 || (digits > 1 && address.charAt(start) == '0')) {
        return false;
      }
      octets++;
      if (octets < 4) {
        if (i >= length || address.charAt(i) != '.') {
          return false;
        }
        i++;
      }
    }
    return i == length;
  }

  static boolean isIpv6(String address) {
    if (!address.contains(":") || address.contains(":::")) {
      return false;
    }
    int doubleColon = address.indexOf("::");
    if (doubleColon >= 0 && address.indexOf("::", doubleColon + 1) >= 0) {
      return false;
    }
    String[] halves = doubleColon >= 0
        ? new String[] {address.substring(0, doubleColon), address.substring(doubleColon + 2)}
        : new String[] {address};
    int groups = 0;
    for (int h = 0; h < halves.length; h++) {
      if (halves[h].isEmpty()) {
        continue;
      }
      String[] parts = halves[h].split(":", -1);
      for (int i = 0; i < parts.length; i++) {
        boolean last = h == halves.length - 1 && i == parts.length - 1;
        if (last && parts[i].contains(".")) {
          // An embedded IPv4 address (::ffff:10.0.0.1) stands for two groups.
          if (!isIpv4(parts[i])) {
            return false;
          }
          groups += 2;
        } else if (HEX_GROUP.matcher(parts[i]).matches()) {
          groups++;
        } else {
          return false;
        }
      }
    }
    return doubleColon >= 0 ? groups <= 7 : groups == 8;
  }

  /** The prefix length that selects exactly this address. */
  static int hostPrefixLength(String address) {
    return isIpv6(address) ? 128 : 32;
  }

  /** The address as it appears in a Host header: IPv6 in brackets. */
  static String hostHeaderForm(String address) {
    return isIpv6(address) ? "[" + address + "]" : address;
  }
}
