package dev.flashattn4j.model;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * Idle call objects kept for reuse, without a lock: a call takes one (or makes one when none is
 * idle) and gives it back when it returns. A steady stream of calls from any number of threads
 * allocates nothing once each concurrent caller has had its object.
 *
 * @param <T> the call object
 */
final class JobPool<T> {

  private static final int SIZE = 16;

  private final AtomicReferenceArray<T> idle = new AtomicReferenceArray<>(SIZE);
  private final Supplier<T> factory;

  JobPool(Supplier<T> factory) {
    this.factory = factory;
  }

  /** An idle object, or a new one. */
  T take() {
    int start = (int) (Thread.currentThread().threadId() % SIZE);
    for (int i = 0; i < SIZE; i++) {
      int s = (start + i) % SIZE;
      T t = idle.get(s);
      if (t != null && idle.compareAndSet(s, t, null)) {
        return t;
      }
    }
    return factory.get();
  }

  /** Gives an object back; dropped when the pool is full. */
  void give(T t) {
    int start = (int) (Thread.currentThread().threadId() % SIZE);
    for (int i = 0; i < SIZE; i++) {
      int s = (start + i) % SIZE;
      if (idle.get(s) == null && idle.compareAndSet(s, null, t)) {
        return;
      }
    }
  }
}
