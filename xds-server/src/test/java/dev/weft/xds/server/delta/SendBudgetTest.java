package dev.weft.xds.server.delta;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SendBudgetTest {

  @Test
  void admitsUnderTheLimitAndResumesWaitersInArrivalOrderWhenBudgetComesBack() {
    SendBudget budget = new SendBudget(10);
    List<String> resumed = new ArrayList<>();
    SendBudget.Waiter first = () -> resumed.add("first");
    SendBudget.Waiter second = () -> resumed.add("second");

    assertThat(budget.admit(first)).isTrue();
    budget.spend(10);
    assertThat(budget.admit(first)).isFalse();
    assertThat(budget.admit(second)).isFalse();
    assertThat(budget.admit(first)).as("asking again keeps its place").isFalse();
    assertThat(budget.waiting()).isEqualTo(2);

    budget.release(10);

    assertThat(resumed).containsExactly("first", "second");
    assertThat(budget.waiting()).isZero();
    assertThat(budget.inFlight()).isZero();
  }

  @Test
  void aResumedWaiterThatSpendsTheBudgetAgainStopsTheOthersUntilMoreComesBack() {
    SendBudget budget = new SendBudget(10);
    List<String> resumed = new ArrayList<>();
    SendBudget.Waiter greedy = new SendBudget.Waiter() {
      @Override
      public boolean resume() {
        resumed.add("greedy");
        budget.spend(10);
        return budget.admit(this);
      }
    };
    SendBudget.Waiter patient = () -> resumed.add("patient");
    budget.spend(10);
    budget.admit(greedy);
    budget.admit(patient);

    budget.release(10);

    assertThat(resumed).containsExactly("greedy");
    assertThat(budget.waiting()).isEqualTo(2);
    budget.release(10);
    assertThat(resumed).as("the greedy one queued again behind the patient one")
        .containsExactly("greedy", "patient", "greedy");
  }

  @Test
  void noWaiterIsLeftBehindWhenThreadsSpendAndGiveBackAtOnce() throws Exception {
    SendBudget budget = new SendBudget(2);
    int threads = 4;
    int rounds = 20_000;
    AtomicInteger resumes = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    try {
      for (int t = 0; t < threads; t++) {
        SendBudget.Waiter waiter = () -> {
          resumes.incrementAndGet();
          return true;
        };
        pool.submit(() -> {
          start.await();
          for (int i = 0; i < rounds; i++) {
            if (budget.admit(waiter)) {
              budget.spend(1);
              budget.release(1);
            }
          }
          return null;
        });
      }
      start.countDown();
      pool.shutdown();
      assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      pool.shutdownNow();
    }

    assertThat(budget.inFlight()).isZero();
    assertThat(budget.waiting()).as("every waiter queued while the budget was spent was resumed").isZero();
  }
}
