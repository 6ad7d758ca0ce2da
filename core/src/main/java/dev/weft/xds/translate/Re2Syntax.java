package dev.weft.xds.translate;

import java.util.Optional;
import java.util.Set;

/**
 * A conservative check of a user's regular expression before it becomes an Envoy
 * {@code safe_regex}: Envoy (RE2) refuses the whole route configuration over one bad regex, and a
 * proxyless gRPC client (RE2/J) does too. There is no RE2 in the JVM core, so this accepts a
 * subset that both engines agree on and rejects the rest with a reason:
 *
 * <ul>
 *   <li>literals, {@code .}, {@code ^}, {@code $}, alternation, groups {@code (...)},
 *       {@code (?:...)}, {@code (?P<name>...)}, flag groups with {@code i}, {@code m}, {@code s};
 *   <li>{@code * + ?}, their lazy forms, and counted repetition {@code {n}}, {@code {n,}},
 *       {@code {n,m}} up to 1000;
 *   <li>character classes with ranges, {@code [:alpha:]}-style names and the escapes below;
 *   <li>escapes {@code \d \D \w \W \s \S \b \B \A \z \n \r \t \f \xHH} and any escaped
 *       punctuation.
 * </ul>
 *
 * <p>Not accepted, though some engines know them: lookaround, backreferences, atomic groups,
 * possessive quantifiers, {@code (?<name>...)}, {@code \p} classes, {@code \Q...\E}, {@code \x{...}},
 * an unescaped {@code {} that is not a repetition, and control characters.
 *
 * <p>Envoy also refuses a regex whose compiled RE2 program is larger than 100 instructions (its
 * default {@code re2.max_program_size.error_level}). The check estimates the program size from
 * above with costs measured against Envoy's RE2 (a literal or simple class costs about one
 * instruction, a capture two, a counted repetition copies its operand) and rejects anything whose
 * estimate passes the limit, so a regex it accepts is never refused for its size.
 */
final class Re2Syntax {

  /** Envoy's default {@code re2.max_program_size.error_level}. */
  static final int MAX_PROGRAM_SIZE = 100;
  static final int MAX_REPEAT = 1000;

  /** Instructions every program has (match, fail, the implicit anchoring). */
  private static final int BASE_COST = 4;
  private static final Set<String> POSIX_CLASSES = Set.of("alnum", "alpha", "ascii", "blank", "cntrl",
      "digit", "graph", "lower", "print", "punct", "space", "upper", "word", "xdigit");

  private final String regex;
  private int pos;

  private Re2Syntax(String regex) {
    this.regex = regex;
  }

  /** Why {@code regex} cannot be used, if it cannot: a sentence without the leading field name. */
  static Optional<String> problem(String regex) {
    if (regex == null || regex.isEmpty()) {
      return Optional.of("a regular expression must not be empty");
    }
    try {
      long size = estimatedProgramSize(regex);
      if (size > MAX_PROGRAM_SIZE) {
        return Optional.of("the regular expression is too complex for Envoy: its estimated RE2 program size "
            + "is " + size + ", above the limit of " + MAX_PROGRAM_SIZE + "; shorten it or use fewer and "
            + "smaller counted repetitions");
      }
      return Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.of("not a regular expression Weft accepts (RE2 syntax): " + e.getMessage()
          + "; rewrite it in RE2 syntax (https://github.com/google/re2/wiki/Syntax)");
    }
  }

  /**
   * An upper bound of the size of the RE2 program Envoy compiles {@code regex} to.
   *
   * @throws IllegalArgumentException with the reason, when the regex is outside the accepted syntax
   */
  static long estimatedProgramSize(String regex) {
    Re2Syntax parser = new Re2Syntax(regex);
    long size = BASE_COST + parser.alternation();
    if (parser.pos < regex.length()) {
      throw parser.error("unmatched ')'");
    }
    return size;
  }

  /** Estimated size of an alternation, consuming up to an unmatched ')' or the end. */
  private long alternation() {
    long cost = concatenation();
    while (peek() == '|') {
      pos++;
      cost += concatenation() + 1;
    }
    return cost;
  }

  private long concatenation() {
    long cost = 0;
    while (pos < regex.length() && peek() != '|' && peek() != ')') {
      cost += repetition();
    }
    return cost;
  }

  private long repetition() {
    int start = pos;
    Atom atom = atom();
    if (pos >= regex.length() || !isQuantifierStart()) {
      return atom.cost;
    }
    if (atom.emptyWidth) {
      throw error("a repetition operator must follow something that matches text, not an anchor or "
          + "boundary (at '" + regex.substring(start, pos + 1) + "')");
    }
    long cost = quantified(atom.cost);
    if (peek() == '?') {
      pos++; // lazy form, same program size
    }
    if (pos < regex.length() && isQuantifierStart()) {
      throw error("a repetition operator cannot follow another one (possessive and doubled quantifiers "
          + "are not RE2)");
    }
    return cost;
  }

  private boolean isQuantifierStart() {
    char c = peek();
    return c == '*' || c == '+' || c == '?' || (c == '{' && countedRepetitionAhead());
  }

  private long quantified(long operand) {
    char c = regex.charAt(pos++);
    if (c == '*' || c == '+' || c == '?') {
      return operand + 1;
    }
    int min = number();
    int max = min;
    boolean unbounded = false;
    if (peek() == ',') {
      pos++;
      if (peek() == '}') {
        unbounded = true;
      } else {
        max = number();
      }
    }
    pos++; // the closing brace, checked by countedRepetitionAhead
    if (min > MAX_REPEAT || max > MAX_REPEAT) {
      throw error("a counted repetition above " + MAX_REPEAT + " is not supported");
    }
    if (!unbounded && max < min) {
      throw error("the counted repetition {" + min + "," + max + "} has its bounds reversed");
    }
    // RE2 writes x{n,} as n-1 copies and x+, and x{n,m} as n copies and m-n optional ones.
    return unbounded ? operand * Math.max(min, 1) + 1 : operand * max + (max - min);
  }

  /** Whether the '{' at pos starts {n}, {n,} or {n,m}. */
  private boolean countedRepetitionAhead() {
    int i = pos + 1;
    int digits = 0;
    while (i < regex.length() && Character.isDigit(regex.charAt(i)) && regex.charAt(i) < 128) {
      i++;
      digits++;
    }
    if (digits == 0 || i >= regex.length()) {
      return false;
    }
    if (regex.charAt(i) == '}') {
      return true;
    }
    if (regex.charAt(i) != ',') {
      return false;
    }
    i++;
    while (i < regex.length() && regex.charAt(i) >= '0' && regex.charAt(i) <= '9') {
      i++;
    }
    return i < regex.length() && regex.charAt(i) == '}';
  }

  private int number() {
    int start = pos;
    while (pos < regex.length() && regex.charAt(pos) >= '0' && regex.charAt(pos) <= '9') {
      pos++;
    }
    String digits = regex.substring(start, pos);
    // Longer than four digits is above the limit anyway; avoid overflowing the parse.
    return digits.length() > 4 ? MAX_REPEAT + 1 : Integer.parseInt(digits);
  }

  private Atom atom() {
    char c = peek();
    switch (c) {
      case '(':
        return group();
      case '[':
        return new Atom(characterClass(), false);
      case '.':
        pos++;
        return new Atom(3, false);
      case '^':
      case '$':
        pos++;
        return new Atom(1, true);
      case '\\':
        return escape();
      case '*':
      case '+':
      case '?':
        throw error("missing argument to repetition operator '" + c + "'");
      case '{':
        throw error("a literal '{' must be escaped as \\{");
      default:
        return new Atom(literal(), false);
    }
  }

  private Atom group() {
    pos++; // (
    long extra = 2; // a capture costs two instructions
    if (peek() == '?') {
      pos++;
      char kind = peek();
      if (kind == ':') {
        pos++;
        extra = 0;
      } else if (kind == 'P' && lookingAt("P<")) {
        pos += 2;
        groupName();
      } else if (kind == '<' && (lookingAt("<=") || lookingAt("<!"))) {
        throw error("lookbehind (?<= or (?<! is not supported by RE2");
      } else if (kind == '<') {
        throw error("named groups (?<name>...) are not accepted; write (?P<name>...) or (?:...)");
      } else if (kind == '=' || kind == '!') {
        throw error("lookahead (?= or (?! is not supported by RE2");
      } else if (kind == '>') {
        throw error("atomic groups (?>...) are not supported by RE2");
      } else if (kind == '#') {
        throw error("comments (?#...) are not supported by RE2");
      } else {
        boolean setsFlagsOnly = flags();
        if (setsFlagsOnly) {
          return new Atom(0, true);
        }
        extra = 0;
      }
    }
    long cost = alternation() + extra;
    if (peek() != ')') {
      throw error("missing closing )");
    }
    pos++;
    return new Atom(cost, false);
  }

  private void groupName() {
    int start = pos;
    while (pos < regex.length() && (Character.isLetterOrDigit(peek()) || peek() == '_') && peek() < 128) {
      pos++;
    }
    if (pos == start || peek() != '>') {
      throw error("a group name must be letters, digits or '_' followed by '>'");
    }
    pos++;
  }

  /** Parses flags after "(?"; true for "(?flags)", false for "(?flags:" (a group follows). */
  private boolean flags() {
    int start = pos;
    boolean negated = false;
    boolean any = false;
    while (pos < regex.length()) {
      char c = peek();
      if (c == ')' || c == ':') {
        if (!any) {
          throw error("empty or incomplete flag group at '" + regex.substring(start - 2, pos + 1) + "'");
        }
        pos++;
        return c == ')';
      }
      if (c == '-' && !negated) {
        negated = true;
        any = false;
      } else if (c == 'i' || c == 'm' || c == 's') {
        any = true;
      } else {
        throw error("unknown group flag '" + c + "' (accepted: i, m, s)");
      }
      pos++;
    }
    throw error("missing closing )");
  }

  private Atom escape() {
    pos++; // backslash
    if (pos >= regex.length()) {
      throw error("trailing backslash");
    }
    char c = regex.charAt(pos++);
    switch (c) {
      case 'd':
        return new Atom(2, false);
      case 'D':
      case 's':
        return new Atom(4, false);
      case 'w':
      case 'S':
        return new Atom(5, false);
      case 'W':
        return new Atom(6, false);
      case 'b':
      case 'B':
      case 'A':
      case 'z':
        return new Atom(1, true);
      case 'n':
      case 'r':
      case 't':
      case 'f':
        return new Atom(1, false);
      case 'x':
        return new Atom(hexEscape(), false);
      default:
        return new Atom(escapedLiteral(c), false);
    }
  }

  /** The cost of an escaped character that stands for itself; rejects escapes RE2 would not read so. */
  private long escapedLiteral(char c) {
    if (c >= '0' && c <= '9') {
      throw error("backreferences and octal escapes (\\" + c + ") are not supported; RE2 has no backreferences");
    }
    if (c == 'p' || c == 'P') {
      throw error("Unicode classes (\\p, \\P) are not accepted; use an explicit character class");
    }
    if (c == 'Q' || c == 'E') {
      throw error("\\Q...\\E quoting is not accepted; escape each special character with a backslash");
    }
    if (c < 128 && Character.isLetter(c)) {
      throw error("unknown escape \\" + c);
    }
    if (c < 0x20 || c == 0x7f || c >= 128) {
      throw error("only punctuation can be escaped with a backslash, not '\\" + c + "'");
    }
    return 1;
  }

  private long hexEscape() {
    if (pos + 2 > regex.length() || !isHex(regex.charAt(pos)) || !isHex(regex.charAt(pos + 1))) {
      throw error("\\x must be followed by exactly two hex digits (\\x{...} is not accepted)");
    }
    int value = Integer.parseInt(regex.substring(pos, pos + 2), 16);
    pos += 2;
    return value < 0x80 ? 1 : 3;
  }

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** A literal character at pos; its cost in instructions. */
  private long literal() {
    char c = regex.charAt(pos);
    if (c < 0x20 || c == 0x7f) {
      throw error("control character U+" + String.format("%04X", (int) c) + "; write it as \\xHH");
    }
    if (Character.isHighSurrogate(c)) {
      if (pos + 1 >= regex.length() || !Character.isLowSurrogate(regex.charAt(pos + 1))) {
        throw error("broken UTF-16 surrogate pair");
      }
      pos += 2;
      return 4;
    }
    if (Character.isLowSurrogate(c)) {
      throw error("broken UTF-16 surrogate pair");
    }
    pos++;
    return c < 0x80 ? 1 : 3;
  }

  private long characterClass() {
    int start = pos;
    pos++; // [
    // RE2 compiles a class to about one instruction per ASCII range; a range beyond ASCII spans
    // several UTF-8 byte sequences, and so does a negation.
    long cost = 1;
    if (peek() == '^') {
      pos++;
      cost += 3;
    }
    boolean first = true;
    while (true) {
      if (pos >= regex.length()) {
        throw error("missing closing ] for the character class at offset " + start);
      }
      char c = peek();
      if (c == ']' && !first) {
        pos++;
        return cost;
      }
      first = false;
      if (c == '[') {
        cost += posixClass();
        continue;
      }
      int low = classCharacter();
      if (low < 0) {
        cost += 5; // \d, \w, \s and their negations inside a class
        continue;
      }
      int high = low;
      if (peek() == '-' && pos + 1 < regex.length() && regex.charAt(pos + 1) != ']') {
        pos++;
        high = classCharacter();
        if (high < 0) {
          throw error("a range cannot end in a class escape such as \\d");
        }
        if (high < low) {
          throw error("the character class range " + describe(low) + "-" + describe(high) + " is reversed");
        }
      }
      cost += high < 0x80 ? 1 : 4;
    }
  }

  private long posixClass() {
    if (!lookingAt("[:")) {
      throw error("a literal '[' inside a character class must be escaped as \\[");
    }
    int end = regex.indexOf(":]", pos + 2);
    String name = end < 0 ? "" : regex.substring(pos + 2, end);
    String bare = name.startsWith("^") ? name.substring(1) : name;
    if (!POSIX_CLASSES.contains(bare)) {
      throw error("unknown class name [:" + name + ":]");
    }
    pos = end + 2;
    return 5;
  }

  /** One character of a class as a code point, or -1 for a class escape such as \d. */
  private int classCharacter() {
    char c = peek();
    if (c != '\\') {
      if (c < 0x20 || c == 0x7f) {
        throw error("control character U+" + String.format("%04X", (int) c) + "; write it as \\xHH");
      }
      if (Character.isHighSurrogate(c)) {
        if (pos + 1 >= regex.length() || !Character.isLowSurrogate(regex.charAt(pos + 1))) {
          throw error("broken UTF-16 surrogate pair");
        }
        int codePoint = regex.codePointAt(pos);
        pos += 2;
        return codePoint;
      }
      if (Character.isLowSurrogate(c)) {
        throw error("broken UTF-16 surrogate pair");
      }
      pos++;
      return c;
    }
    pos++;
    if (pos >= regex.length()) {
      throw error("trailing backslash");
    }
    char e = regex.charAt(pos++);
    switch (e) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S':
        return -1;
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'f':
        return '\f';
      case 'x': {
        int at = pos;
        hexEscape();
        return Integer.parseInt(regex.substring(at, at + 2), 16);
      }
      default:
        escapedLiteral(e);
        return e;
    }
  }

  private static String describe(int codePoint) {
    return codePoint < 0x20 || codePoint == 0x7f ? String.format("\\x%02X", codePoint)
        : new String(Character.toChars(codePoint));
  }

  private char peek() {
    return pos < regex.length() ? regex.charAt(pos) : '\0';
  }

  private boolean lookingAt(String text) {
    return regex.startsWith(text, pos);
  }

  private Invalid error(String message) {
    return new Invalid(message + " (at offset " + Math.min(pos, regex.length()) + ")");
  }

  /** A parsed piece: its estimated cost and whether it matches no text (so cannot be repeated). */
  private record Atom(long cost, boolean emptyWidth) {}

  /** A reason the regex is not accepted, with the offset where the parser noticed. */
  private static final class Invalid extends IllegalArgumentException {
    Invalid(String message) {
      super(message);
    }
  }
}
