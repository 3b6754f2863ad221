package dev.flashattn4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.api.AttentionMask;
import dev.flashattn4j.api.AttentionOptions;
import dev.flashattn4j.api.AttentionResult;
import dev.flashattn4j.api.Causal;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** Same bits for any thread count; no allocation per call in the caller-owned-buffer overload. */
class DeterminismAndAllocationTest {

  @Test
  void resultsAreBitwiseIdenticalForOneTwoAndThreeThreads() {
    Tensor q = TestTensors.normal(1, 2, 4, 300, 40);
    Tensor k = TestTensors.normal(2, 2, 2, 260, 40);
    Tensor v = TestTensors.normal(3, 2, 2, 260, 24);
    float[] bias = new float[300 * 260];
    for (int i = 0; i < bias.length; i++) {
      bias[i] = (i * 7919) % 13 == 0 ? Float.NEGATIVE_INFINITY : (i % 5) * 0.1f;
    }
    AttentionOptions[] options = {
      AttentionOptions.DEFAULTS,
      AttentionOptions.builder().causal(Causal.TOP_LEFT).softcap(5).build(),
      AttentionOptions.builder()
          .causal(Causal.BOTTOM_RIGHT)
          .window(70, 3)
          .mask(AttentionMask.additive(bias, 300, 260))
          .build()
    };
    for (boolean vector : new boolean[] {true, false}) {
      for (AttentionOptions o : options) {
        AttentionResult first = null;
        for (int threads = 1; threads <= 3; threads++) {
          try (FlashForward f =
              new FlashForward(
                  KernelConfig.defaults().withThreads(threads).withVectorized(vector))) {
            AttentionResult r = f.forward(q, k, v, o);
            if (first == null) {
              first = r;
              assertTrue(ErrorBudget.check(q, k, v, o, r).passed());
            } else {
              assertArrayEquals(
                  first.output().toArray(), r.output().toArray(), threads + " threads");
              assertArrayEquals(first.lse(), r.lse(), threads + " threads");
            }
          }
        }
      }
    }
  }

  @Test
  void theCallerOwnedBufferOverloadAllocatesNothingOnceWarm() {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    assertTrue(mx.isThreadAllocatedMemorySupported());
    mx.setThreadAllocatedMemoryEnabled(true);
    Tensor q = TestTensors.normal(4, 1, 8, 1, 64);
    Tensor k = TestTensors.normal(5, 1, 2, 512, 64);
    Tensor v = TestTensors.normal(6, 1, 2, 512, 64);
    Tensor out = Tensor.zeros(1, 8, 1, 64);
    float[] lse = new float[8];
    AttentionOptions o =
        AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).window(256, 0).build();
    for (int threads : new int[] {1, 2}) {
      try (FlashForward f = new FlashForward(KernelConfig.defaults().withThreads(threads))) {
        for (int i = 0; i < 2000; i++) {
          f.forward(q, k, v, o, out, lse); // warm up: JIT, workspaces, the shape check
        }
        long id = Thread.currentThread().threadId();
        long before = mx.getThreadAllocatedBytes(id);
        for (int i = 0; i < 100; i++) {
          f.forward(q, k, v, o, out, lse);
        }
        long after = mx.getThreadAllocatedBytes(id);
        assertEquals(0, after - before, threads + " threads: bytes allocated by 100 calls");
      }
    }
    assertTrue(ErrorBudget.check(q, k, v, o, new AttentionResult(out, lse)).passed());
  }

  @Test
  void theWorkspaceIsSizedByTheTileNotBySequenceLength() {
    try (FlashForward f = new FlashForward(KernelConfig.defaults().withThreads(1))) {
      long small = f.workspaceBytesPerThread(1024, 64, 64);
      long large = f.workspaceBytesPerThread(65536, 64, 64);
      assertEquals(small, large, "workspace grows with N");
      assertTrue(large < 1 << 20, "workspace of " + large + " bytes");
    }
  }
}
