package dev.flashattn4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
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

  @org.junit.jupiter.api.Tag("allocation") // run alone in a fresh JVM: see core/pom.xml
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
        // Until C2 has compiled the vector code (and recompiled it after any deoptimisation: other
        // tests in this JVM may have trained it on other shapes), calls box vectors and allocate.
        // Once warm, a call allocates nothing: ask for three windows of 1,000 calls in a row that
        // allocate 0 bytes, within 60,000 calls. A call that allocates every time never gets there.
        long id = Thread.currentThread().threadId();
        int clean = 0;
        long last = -1;
        for (int round = 0; round < 60 && clean < 3; round++) {
          long start = mx.getThreadAllocatedBytes(id);
          for (int i = 0; i < 1000; i++) {
            f.forward(q, k, v, o, out, lse);
          }
          last = mx.getThreadAllocatedBytes(id) - start;
          clean = last == 0 ? clean + 1 : 0;
        }
        assertEquals(
            3, clean, threads + " threads: bytes allocated by the last 1,000 calls: " + last);
      }
    }
    assertTrue(ErrorBudget.check(q, k, v, o, new AttentionResult(out, lse)).passed());
  }

  @Test
  void concurrentCallersOfOneKernelGetTheirOwnResults() throws Exception {
    // the facade's shared kernels are used from any thread: calls take turns, results stay apart
    try (FlashForward f = new FlashForward(KernelConfig.defaults().withThreads(2))) {
      Tensor[][] inputs = new Tensor[4][];
      AttentionResult[] expected = new AttentionResult[4];
      for (int c = 0; c < 4; c++) {
        inputs[c] =
            new Tensor[] {
              TestTensors.normal(10 + c, 1, 2, 70 + c, 16),
              TestTensors.normal(20 + c, 1, 2, 90, 16),
              TestTensors.normal(30 + c, 1, 2, 90, 16)
            };
        expected[c] =
            f.forward(inputs[c][0], inputs[c][1], inputs[c][2], AttentionOptions.DEFAULTS);
      }
      Thread[] callers = new Thread[4];
      Throwable[] failures = new Throwable[4];
      for (int c = 0; c < 4; c++) {
        int index = c;
        callers[c] =
            Thread.ofPlatform()
                .start(
                    () -> {
                      try {
                        for (int i = 0; i < 50; i++) {
                          Tensor[] in = inputs[index];
                          AttentionResult r =
                              f.forward(in[0], in[1], in[2], AttentionOptions.DEFAULTS);
                          assertArrayEquals(
                              expected[index].output().toArray(), r.output().toArray());
                        }
                      } catch (Throwable t) {
                        failures[index] = t;
                      }
                    });
      }
      for (int c = 0; c < 4; c++) {
        callers[c].join();
        if (failures[c] != null) {
          throw new AssertionError("caller " + c, failures[c]);
        }
      }
    }
  }

  @Test
  void theWorkspaceIsSizedByTheTileNotBySequenceLength() {
    try (FlashForward f = new FlashForward(KernelConfig.defaults().withThreads(1))) {
      long small = f.workspaceBytesPerThread(4096, 4096, 64, 64);
      long large = f.workspaceBytesPerThread(65536, 65536, 64, 64);
      long huge = f.workspaceBytesPerThread(1 << 24, 1 << 24, 64, 64);
      assertEquals(large, huge, "workspace grows with N");
      assertTrue(large <= 4 * small, "long sequences: larger row blocks, bounded: " + large);
      assertTrue(huge < 1 << 20, "workspace of " + huge + " bytes");
    }
  }
}
