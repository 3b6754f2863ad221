package dev.flashattn4j.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.kernel.FlashForward;
import dev.flashattn4j.kernel.decode.DecodeAttention;
import dev.flashattn4j.kernel.varlen.VarlenAttention;
import dev.flashattn4j.paper.Algorithm1;
import dev.flashattn4j.paper.IoModel;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every public method of the public API, called with null for each reference argument in turn (the
 * others null or zero too): it may succeed, or throw IllegalArgumentException or
 * IllegalStateException with a message, and nothing else.
 */
class NullSweepTest {

  @Test
  void nullArgumentsGetAClearExceptionEverywhere() throws Exception {
    List<String> escaped = new ArrayList<>();
    int calls = 0;
    Tensor t = Tensor.zeros(1, 1, 4, 8);
    PagedKvCache cache = new PagedKvCache(1, 1, 8, 8, 8, 3, KvStorage.FLOAT32);
    try (AttentionEngine engine = AttentionEngine.create(1);
        FlashForward forward = new FlashForward(KernelConfig.defaults().withThreads(1));
        DecodeAttention decode = DecodeAttention.builder().threads(1).build()) {
      Object[] targets = {
        Attention.class,
        engine,
        AttentionOptions.builder(),
        AttentionOptions.DEFAULTS,
        AttentionMask.class,
        AttentionResult.class,
        Tensor.class,
        t,
        cache,
        forward,
        decode,
        VarlenAttention.class,
        KernelConfig.defaults(),
        NaiveAttention.class,
        Algorithm1.class,
        ErrorBudget.class,
        IoModel.class,
        Npy.class
      };
      for (Object target : targets) {
        Class<?> type = target instanceof Class<?> c ? c : target.getClass();
        for (Method m : type.getMethods()) {
          if (m.getDeclaringClass() == Object.class
              || m.getName().equals("close")
              || (target instanceof Class<?> && !Modifier.isStatic(m.getModifiers()))) {
            continue;
          }
          Class<?>[] p = m.getParameterTypes();
          for (int nullAt = 0; nullAt < p.length; nullAt++) {
            if (p[nullAt].isPrimitive()) {
              continue;
            }
            Object[] args = new Object[p.length];
            for (int i = 0; i < p.length; i++) {
              args[i] = p[i].isPrimitive() ? zero(p[i]) : i == nullAt ? null : sample(p[i], t);
            }
            calls++;
            try {
              m.invoke(Modifier.isStatic(m.getModifiers()) ? null : target, args);
            } catch (InvocationTargetException e) {
              Throwable x = e.getCause();
              boolean clear =
                  (x instanceof IllegalArgumentException || x instanceof IllegalStateException)
                      && x.getMessage() != null
                      && !x.getMessage().isBlank();
              if (!clear) {
                escaped.add(
                    type.getSimpleName() + "." + m.getName() + " (null at " + nullAt + "): " + x);
              }
            }
          }
        }
      }
    }
    assertTrue(calls > 100, "swept " + calls + " calls");
    assertTrue(escaped.isEmpty(), escaped.size() + " escaped:\n" + String.join("\n", escaped));
  }

  /** A valid-looking value of a parameter type, so that only the null argument is wrong. */
  private static Object sample(Class<?> c, Tensor t) {
    if (c == Tensor.class) {
      return t;
    }
    if (c == AttentionOptions.class) {
      return AttentionOptions.DEFAULTS;
    }
    if (c == float[].class) {
      return new float[4];
    }
    if (c == int[].class) {
      return new int[] {0, 4};
    }
    if (c == String.class) {
      return "x";
    }
    return null;
  }

  private static Object zero(Class<?> c) {
    if (c == boolean.class) {
      return false;
    }
    if (c == int.class) {
      return 1;
    }
    if (c == long.class) {
      return 1L;
    }
    if (c == float.class) {
      return 1f;
    }
    if (c == double.class) {
      return 1.0;
    }
    return (byte) 0;
  }
}
