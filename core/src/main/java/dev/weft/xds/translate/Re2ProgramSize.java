package dev.weft.xds.translate;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An upper bound of the size of the program Envoy's RE2 compiles a valid RE2 pattern to, the number
 * Envoy compares with {@code re2.max_program_size.error_level}. RE2/J parses but does not expose
 * programs, so this reads the pattern token by token and adds up what RE2 emits.
 *
 * <p>Envoy 1.40 compiles in Latin-1 mode (see {@link Re2Syntax}), where a literal byte is one
 * instruction (two under case folding) and a character class one per range of Latin-1 characters it
 * matches. The other costs were measured against RE2 itself, on tens of thousands of generated
 * patterns, and are kept on the safe side: two per capture, one per empty-width assertion, two per
 * further alternative, counted repetitions expanded as RE2 expands them, and loops and options
 * over operands that match empty or are themselves repetitions priced higher, because RE2 then
 * copies the operand's first instructions. The e2e corpus loads what this lets through into Envoy.
 */
final class Re2ProgramSize {

  /** Instructions every program has (fail, match, the unanchored start loop). */
  private static final int BASE = 4;

  /** One token of a valid pattern; classes and escapes whole, so their contents are not read as syntax. */
  private static final Pattern TOKEN = Pattern.compile(String.join("|",
      "\\\\Q(?s:.)*?(?:\\\\E|\\z)",
      "\\\\x\\{[^}]*\\}",
      "\\\\[pP](?:\\{[^}]*\\}|.)",
      "\\\\[0-7]{1,3}",
      "\\\\(?s:.)",
      "\\[\\^?\\]?(?:\\[:\\^?[a-z]+:\\]|\\\\(?:x\\{[^}]*\\}|[pP]\\{[^}]*\\}|(?s:.))|[^\\]])*\\]",
      "\\(\\?P?<[^>]*>",
      "\\(\\?[imsU-]*[:)]",
      "(?:[*+?]|\\{[0-9]+(?:,[0-9]*)?\\})\\??",
      "(?s:.)"));
  private static final Pattern COUNTED = Pattern.compile("\\{([0-9]+)(,([0-9]*))?\\}\\??");
  /** A flag group that may turn case folding on; where it applies is not tracked, which only costs precision. */
  private static final Pattern FOLD_FLAG = Pattern.compile("\\(\\?[imsU-]*i[imsU-]*[:)]");
  private static final String LATIN1 = latin1Alphabet();
  /**
   * Class costs by class text: the same few classes recur in every regex and every translation, and
   * each costs two RE2/J compilations. Cleared when it grows past what real meshes hold.
   */
  private static final Map<String, Integer> CLASS_COSTS = new ConcurrentHashMap<>();
  private static final int CLASS_COSTS_KEPT = 10_000;

  private final boolean foldCase;
  private final Deque<Group> groups = new ArrayDeque<>();

  private Re2ProgramSize(String regex) {
    this.foldCase = FOLD_FLAG.matcher(regex).find();
    groups.push(new Group(0));
  }

  /**
   * The bound for {@code regex}.
   *
   * @throws IllegalArgumentException if RE2/J does not accept {@code regex}
   */
  static long of(String regex) {
    try {
      Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("not RE2 syntax: " + regex, e);
    }
    Re2ProgramSize walk = new Re2ProgramSize(regex);
    Matcher token = TOKEN.matcher(regex);
    while (token.find()) {
      walk.add(token.group());
    }
    return BASE + walk.groups.getLast().total();
  }

  private void add(String token) {
    Group group = groups.peek();
    char first = token.charAt(0);
    if (first == '\\') {
      escape(token, group);
    } else if (first == '[' && token.length() > 1) {
      group.atom(classCost(token), false);
    } else if (token.startsWith("(?") && token.endsWith(")")) {
      // (?flags) adds nothing: a repetition after it repeats what came before.
    } else if (first == '(') {
      groups.push(new Group(token.equals("(") || token.endsWith(">") ? 2 : 0));
    } else if (first == ')') {
      if (groups.size() > 1) {
        Group closed = groups.pop();
        groups.peek().atom(closed.total() + closed.extra, closed.nullable(), closed.repetition());
      }
    } else if (first == '|') {
      group.alternative();
    } else if (first == '*' || first == '+' || first == '?' || (first == '{' && token.length() > 1)) {
      repetition(token, group);
    } else if (first == '.') {
      group.atom(2, false); // [^\n], two ranges; under (?s) one
    } else if (first == '^' || first == '$') {
      group.atom(1, true);
    } else {
      text(token, group);
    }
  }

  private void escape(String token, Group group) {
    char kind = token.length() > 1 ? token.charAt(1) : '\\';
    switch (kind) {
      case 'Q' -> text(token.substring(2, token.endsWith("\\E") ? token.length() - 2 : token.length()), group);
      case 'd', 'D', 'w', 'W', 's', 'S', 'p', 'P' -> group.atom(classCost(token), false);
      case 'b', 'B', 'A', 'z' -> group.atom(1, true);
      default -> group.atom(foldCase ? 2 : 1, false); // one Latin-1 character
    }
  }

  private static void repetition(String token, Group group) {
    char first = token.charAt(0);
    if (first != '{') {
      group.repeatLast(first == '+' ? 1 : 0, first == '?' ? 1 : -1);
      return;
    }
    Matcher counted = COUNTED.matcher(token);
    counted.matches();
    int min = count(counted.group(1));
    int max = counted.group(2) == null ? min : counted.group(3).isEmpty() ? -1 : count(counted.group(3));
    group.repeatLast(min, max);
  }

  /** RE2/J has checked counts (at most 1000); read defensively all the same. */
  private static int count(String digits) {
    return digits.length() > 4 ? 10_000 : Integer.parseInt(digits);
  }

  /**
   * Literal text: one instruction per UTF-8 byte, two per non-ASCII byte under case folding. Envoy
   * reads a non-ASCII character as several Latin-1 ones, so a repetition after it repeats only its
   * last byte: the last byte is an atom of its own.
   */
  private void text(String literal, Group group) {
    byte[] bytes = literal.getBytes(StandardCharsets.UTF_8);
    if (bytes.length == 0) {
      return;
    }
    long cost = 0;
    for (byte b : bytes) {
      cost += byteCost(b);
    }
    long lastByte = byteCost(bytes[bytes.length - 1]);
    if (cost > lastByte) {
      group.atom(cost - lastByte, false);
    }
    group.atom(lastByte, false);
  }

  private long byteCost(byte b) {
    return b >= 0 || !foldCase ? 1 : 2;
  }

  /** Instructions for a class, class escape or Unicode class: its Latin-1 ranges, folded or not. */
  private static int classCost(String text) {
    Integer known = CLASS_COSTS.get(text);
    if (known != null) {
      return known;
    }
    String latin1 = new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    int cost = Math.max(latin1Ranges(latin1, false), latin1Ranges(latin1, true));
    if (CLASS_COSTS.size() >= CLASS_COSTS_KEPT) {
      CLASS_COSTS.clear();
    }
    CLASS_COSTS.put(text, cost);
    return cost;
  }

  /**
   * The ranges RE2 compiles a class to in Latin-1 mode: the runs of Latin-1 characters it matches
   * (RE2/J says which), less the runs within A-Z when the class treats A-Z like a-z (RE2 then
   * matches a-z folding case).
   */
  private static int latin1Ranges(String latin1Class, boolean foldCase) {
    boolean[] in = new boolean[256];
    try {
      Matcher m = Pattern.compile(foldCase ? "(?i:" + latin1Class + ")" : latin1Class).matcher(LATIN1);
      while (m.find()) {
        in[m.start()] = true;
      }
    } catch (PatternSyntaxException e) {
      return 128; // the most ranges 256 characters form; unreachable for a class RE2/J accepted
    }
    boolean foldsAscii = true;
    for (char c = 'A'; c <= 'Z'; c++) {
      foldsAscii &= in[c] == in[c + 32];
    }
    int ranges = 0;
    for (int c = 0; c < 256; c++) {
      if (in[c] && (c == 0 || !in[c - 1])) {
        int end = c;
        while (end + 1 < 256 && in[end + 1]) {
          end++;
        }
        ranges += foldsAscii && c >= 'A' && end <= 'Z' ? 0 : 1;
      }
    }
    // A class of all 256 characters compiles like (?s). and costs what . costs.
    return ranges == 1 && in[0] && in[255] ? 2 : Math.max(ranges, 1);
  }

  private static String latin1Alphabet() {
    StringBuilder all = new StringBuilder(256);
    for (char c = 0; c < 256; c++) {
      all.append(c);
    }
    return all.toString();
  }

  /**
   * A group being read: the cost of its finished alternatives and of the one in progress, whether
   * it can match the empty string, and whether it is nothing but a repetition.
   */
  private static final class Group {

    final int extra;
    private long finished;
    private int alternatives;
    private boolean anyEmptyAlternative;
    private long current;
    private int atoms;
    /** Atoms of the current alternative that cannot match the empty string. */
    private int solid;
    /** The last atom of the current alternative, the one a repetition applies to; cost -1 if none. */
    private long last = -1;
    private boolean lastNullable;
    private boolean lastRepeated;

    Group(int extra) {
      this.extra = extra;
    }

    void atom(long cost, boolean nullable) {
      atom(cost, nullable, false);
    }

    void atom(long cost, boolean nullable, boolean repeated) {
      current += cost;
      atoms++;
      solid += nullable ? 0 : 1;
      last = cost;
      lastNullable = nullable;
      lastRepeated = repeated;
    }

    void alternative() {
      finished += current;
      anyEmptyAlternative |= solid == 0;
      alternatives++;
      current = 0;
      atoms = 0;
      solid = 0;
      last = -1;
    }

    /**
     * Repeats the last atom at least {@code min} and at most {@code max} times (-1: unbounded), as
     * RE2 does: x{n,m} as n copies of x and m-n optional ones, x{n,} as n-1 copies and x+. Over an
     * operand that can match empty or is itself a repetition, a loop costs at most twice the
     * operand and five more, an option the operand and five more (measured).
     */
    void repeatLast(int min, int max) {
      long operand = Math.max(last, 1);
      boolean nullable = last < 0 || lastNullable;
      boolean costly = nullable || lastRepeated;
      long loop = costly ? 2 * operand + 5 : operand + 2;
      long optional = operand + (costly ? 5 : 2);
      // x{0} still leaves an empty match behind, one instruction.
      long repeated = Math.max(1,
          max < 0 ? Math.max(min - 1, 0) * operand + loop : min * operand + (max - min) * optional);
      boolean repeatedNullable = min == 0 || nullable;
      current += repeated - Math.max(last, 0);
      solid += (last >= 0 && !lastNullable ? -1 : 0) + (repeatedNullable ? 0 : 1);
      atoms += last >= 0 ? 0 : 1;
      last = repeated;
      lastNullable = repeatedNullable;
      lastRepeated = true;
    }

    boolean nullable() {
      return anyEmptyAlternative || solid == 0;
    }

    /** Whether the group is a single repeated atom, such as (?:x+). */
    boolean repetition() {
      return alternatives == 0 && atoms == 1 && lastRepeated;
    }

    /** Each further alternative costs two instructions (measured: loops in alternatives need both). */
    long total() {
      return finished + current + 2L * alternatives;
    }
  }
}
