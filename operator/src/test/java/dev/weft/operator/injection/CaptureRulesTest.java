package dev.weft.operator.injection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class CaptureRulesTest {

  @Test
  void redirectsOutboundTcpToEnvoysOutboundPortAfterTheExemptions() {
    List<String> rules = CaptureRules.commands(CaptureRules.Exclusions.NONE);

    assertThat(rules).containsSubsequence(
        "iptables -w 5 -t nat -A OUTPUT -p tcp -j WEFT_OUTBOUND",
        "iptables -w 5 -t nat -A WEFT_OUTBOUND -m owner --uid-owner 1337 -j RETURN",
        "iptables -w 5 -t nat -A WEFT_OUTBOUND -o lo -j RETURN",
        "iptables -w 5 -t nat -A WEFT_OUTBOUND -d 127.0.0.0/8 -j RETURN",
        "iptables -w 5 -t nat -A WEFT_OUTBOUND -p tcp -j REDIRECT --to-ports 15001");
    assertThat(rules.get(rules.size() - 1)).endsWith("REDIRECT --to-ports 15001");
  }

  @Test
  void redirectsInboundTcpToEnvoysInboundPortExceptTheSidecarsOwnPorts() {
    List<String> rules = CaptureRules.commands(CaptureRules.Exclusions.NONE);

    assertThat(rules).contains("iptables -w 5 -t nat -A PREROUTING -p tcp -j WEFT_INBOUND",
        "iptables -w 5 -t nat -A WEFT_INBOUND -p tcp -j REDIRECT --to-ports 15006");
    for (int port : List.of(15000, 15001, 15006, 15090)) {
      assertThat(rules).contains("iptables -w 5 -t nat -A WEFT_INBOUND -p tcp --dport " + port + " -j RETURN",
          "iptables -w 5 -t nat -A WEFT_OUTBOUND -p tcp --dport " + port + " -j RETURN");
    }
    assertThat(rules.indexOf("iptables -w 5 -t nat -A WEFT_INBOUND -p tcp --dport 15090 -j RETURN"))
        .isLessThan(rules.indexOf("iptables -w 5 -t nat -A WEFT_INBOUND -p tcp -j REDIRECT --to-ports 15006"));
  }

  @Test
  void excludedPortsAndCidrsReturnBeforeTheRedirect() {
    List<String> rules = CaptureRules.commands(
        CaptureRules.Exclusions.parse("5432, 6379", "10.0.0.0/8,203.0.113.7", "9090", "test"));
    int redirect = rules.indexOf("iptables -w 5 -t nat -A WEFT_OUTBOUND -p tcp -j REDIRECT --to-ports 15001");

    assertThat(rules.indexOf("iptables -w 5 -t nat -A WEFT_OUTBOUND -p tcp --dport 5432 -j RETURN"))
        .isBetween(0, redirect);
    assertThat(rules.indexOf("iptables -w 5 -t nat -A WEFT_OUTBOUND -d 203.0.113.7/32 -j RETURN"))
        .isBetween(0, redirect);
    assertThat(rules).contains("iptables -w 5 -t nat -A WEFT_OUTBOUND -d 10.0.0.0/8 -j RETURN",
        "iptables -w 5 -t nat -A WEFT_INBOUND -p tcp --dport 9090 -j RETURN");
  }

  @Test
  void theSameExclusionsGiveTheSameRules() {
    assertThat(CaptureRules.commands(CaptureRules.Exclusions.parse("6379,5432", "", "", "a")))
        .isEqualTo(CaptureRules.commands(CaptureRules.Exclusions.parse("5432,6379,5432", "", "", "b")));
  }

  @Test
  void refusesExclusionsThatAreNotPortsOrCidrs() {
    assertThatThrownBy(() -> CaptureRules.Exclusions.parse("0", "", "", "where")).hasMessageContaining("where")
        .hasMessageContaining("'0'");
    assertThatThrownBy(() -> CaptureRules.Exclusions.parse("", "300.1.1.1/8", "", "where"))
        .hasMessageContaining("'300.1.1.1/8'");
    assertThatThrownBy(() -> CaptureRules.Exclusions.parse("", "10.0.0.0/33", "", "where"))
        .hasMessageContaining("'10.0.0.0/33'");
  }

  @Test
  void theScriptStopsAtTheFirstFailureAndListsWhatItInstalled() {
    String script = CaptureRules.script(CaptureRules.Exclusions.NONE);

    assertThat(script).startsWith("set -e\n").endsWith("iptables -t nat -S\n");
  }

  @Test
  void theScriptCanRunAgainInTheSameNamespace() {
    String script = CaptureRules.script(CaptureRules.Exclusions.NONE);

    assertThat(script).contains("iptables -w 5 -t nat -N WEFT_OUTBOUND 2>/dev/null || iptables -w 5 -t nat -F WEFT_OUTBOUND\n")
        .contains("iptables -w 5 -t nat -C OUTPUT -p tcp -j WEFT_OUTBOUND 2>/dev/null || "
            + "iptables -w 5 -t nat -A OUTPUT -p tcp -j WEFT_OUTBOUND\n")
        .contains("\niptables -w 5 -t nat -A WEFT_OUTBOUND -m owner --uid-owner 1337 -j RETURN\n");
  }
}
