package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The workers' team: every task of a call runs once, calls from several threads at once keep their
 * results apart, a failing task is thrown to its caller, and close never hangs a running call.
 */
class WorkersTest {

  /** Counts how often each task ran. */
  private static final class Counting extends Workers.Job {
    final AtomicIntegerArray runs;
    final int failAt;

    Counting(int seats, int tasks, int failAt) {
      super(seats, 4);
      this.runs = new AtomicIntegerArray(tasks);
      this.failAt = failAt;
    }

    @Override
    void run(int task, float[] scratch) {
      scratch[0] = task; // a seat's scratch is its thread's alone
      if (task == failAt) {
        throw new IllegalArgumentException("task " + task);
      }
      Thread.onSpinWait();
      runs.incrementAndGet(task);
      assertEquals(task, scratch[0]);
    }
  }

  @Test
  void everyTaskRunsOnceAndAJobIsReusable() {
    for (int threads = 1; threads <= 4; threads++) {
      try (Workers workers = new Workers(threads)) {
        Counting job = new Counting(threads, 500, -1);
        for (int call = 1; call <= 20; call++) {
          workers.run(job, 500);
          for (int t = 0; t < 500; t++) {
            assertEquals(call, job.runs.get(t), "task " + t);
          }
        }
      }
    }
  }

  @Test
  void aFailingTaskIsThrownToItsCallerAndTheWorkersGoOn() {
    try (Workers workers = new Workers(3)) {
      Counting bad = new Counting(3, 100, 37);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> workers.run(bad, 100));
      assertEquals("task 37", e.getMessage());
      Counting good = new Counting(3, 100, -1);
      workers.run(good, 100);
      for (int t = 0; t < 100; t++) {
        assertEquals(1, good.runs.get(t));
      }
    }
  }

  @Test
  void concurrentProductsOnOneTeamGiveTheirOwnBits() throws Exception {
    SplittableRandom r = new SplittableRandom(21);
    int callers = 4;
    float[][] x = new float[callers][];
    PackedMatrix[] w = new PackedMatrix[callers];
    float[][] want = new float[callers][];
    try (Workers workers = new Workers(3)) {
      for (int c = 0; c < callers; c++) {
        int rows = 1 + c * 5;
        x[c] = random(r, rows * 70);
        w[c] = PackedMatrix.of(random(r, 90 * 70), 90, 70);
        want[c] = new float[rows * 90];
        MatMul.multiply(workers, x[c], rows, w[c], null, want[c]);
      }
      Thread[] threads = new Thread[callers];
      Throwable[] failures = new Throwable[callers];
      for (int c = 0; c < callers; c++) {
        int index = c;
        threads[c] =
            Thread.ofPlatform()
                .start(
                    () -> {
                      try {
                        int rows = 1 + index * 5;
                        float[] y = new float[rows * 90];
                        for (int i = 0; i < 300; i++) {
                          MatMul.multiply(workers, x[index], rows, w[index], null, y);
                          assertArrayEquals(want[index], y);
                        }
                      } catch (Throwable t) {
                        failures[index] = t;
                      }
                    });
      }
      for (int c = 0; c < callers; c++) {
        threads[c].join();
        if (failures[c] != null) {
          throw new AssertionError("caller " + c, failures[c]);
        }
      }
    }
  }

  @Test
  void closeDuringACallLetsItFinishAndLaterCallsThrow() throws Exception {
    SplittableRandom r = new SplittableRandom(22);
    for (int round = 0; round < 50; round++) {
      Workers workers = new Workers(3);
      Counting job = new Counting(3, 20_000, -1);
      AtomicInteger finished = new AtomicInteger();
      Thread caller =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      workers.run(job, 20_000);
                      finished.incrementAndGet();
                    } catch (IllegalStateException closedFirst) {
                      finished.decrementAndGet();
                    }
                  });
      Thread.sleep(r.nextInt(3));
      workers.close();
      caller.join(10_000);
      assertTrue(!caller.isAlive(), "the call hung after close");
      // a call that started finished every task; one that came after close was refused
      assertTrue(finished.get() != 0);
      for (int t = 0; t < 20_000; t++) {
        assertEquals(finished.get() == 1 ? 1 : 0, job.runs.get(t), "task " + t);
      }
      Counting later = new Counting(3, 10, -1);
      assertThrows(IllegalStateException.class, () -> workers.run(later, 10));
    }
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextGaussian();
    }
    return a;
  }
}
