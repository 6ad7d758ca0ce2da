package dev.weft.xds.server.delta;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SubscriptionTest {

  @Test
  void firstRequestMakesTheSameSubscriptionWhateverTheOrder() {
    Subscription ab = Subscription.first(List.of("a", "b"));
    Subscription ba = Subscription.first(List.of("b", "a"));

    assertThat(ba).isSameAs(ab);
    assertThat(ab.names()).containsExactlyInAnyOrder("a", "b");
    assertThat(ab.wildcard()).isFalse();
    assertThat(Subscription.NONE.change(List.of("a", "b"), List.of())).isSameAs(ab);
  }

  @Test
  void remembersTheOrderOfTheFirstRequestThatMadeIt() {
    Subscription made = Subscription.first(List.of("x1", "x2", "x3"));

    assertThat(made.requestedFirstAs(List.of("x1", "x2", "x3"))).isTrue();
    assertThat(made.requestedFirstAs(List.of("x2", "x1", "x3"))).as("another order is not recognised").isFalse();
    assertThat(made.requestedFirstAs(List.of("x1", "x2"))).isFalse();
  }

  @Test
  void emptyFirstRequestIsTheWildcardAndANamedWildcardToo() {
    assertThat(Subscription.first(List.of()).wildcard()).isTrue();
    Subscription named = Subscription.first(List.of("*", "y"));
    assertThat(named.wildcard()).isTrue();
    assertThat(named.names()).containsExactly("y");
    assertThat(named.requestedFirstAs(List.of("*", "y"))).isFalse();
  }
}
