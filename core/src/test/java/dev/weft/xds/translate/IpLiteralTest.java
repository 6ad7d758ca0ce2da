package dev.weft.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IpLiteralTest {

  @ParameterizedTest
  @ValueSource(strings = {"10.0.0.1", "0.0.0.0", "255.255.255.255", "198.18.0.1", "1.2.3.4", "99.199.249.250"})
  void acceptsDottedDecimalIpv4(String address) {
    assertThat(IpLiteral.isIpv4(address)).isTrue();
    assertThat(IpLiteral.isValid(address)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "1.1.1", "1.1.1.1.", "1.1.1.1.1", "256.1.1.1", "1.1.1.300", "01.1.1.1", "1.1.1.00",
      "1..1.1", ".1.1.1", "1.1.1.1 ", " 1.1.1.1", "1234.1.1.1", "a.b.c.d", "1.1.1.-1", "1.1.1.1/32", "１.1.1.1"})
  void refusesAnythingElseAsIpv4(String address) {
    assertThat(IpLiteral.isIpv4(address)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"::1", "fd00::1", "::ffff:10.0.0.1", "2001:db8:0:0:0:0:0:1"})
  void acceptsIpv6(String address) {
    assertThat(IpLiteral.isValid(address)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"payments.demo.svc", "::ffff:10.0.0.256", "1:2:3:4:5:6:7:8:9", "fd00:::1"})
  void refusesNamesAndMalformedIpv6(String address) {
    assertThat(IpLiteral.isValid(address)).isFalse();
  }
}
