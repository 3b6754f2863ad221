package dev.flashattn4j.internal;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * Idle call objects kept for reuse, without a lock: a call takes one (or makes one when none is
 * idle) and gives it back when it returns. A steady stream of calls from any number of threads
 * allocates nothing once each concurrent caller has had its object.
 *
 * @param <T> the call object
 */
public final class JobPool<T> {

  private static final int SIZE = 64;

  private final AtomicReferenceArray<T> idle = new AtomicReferenceArray<>(SIZE);
  private final AtomicReferenceArray<T> all = new AtomicReferenceArray<>(SIZE);
  private final Supplier<T> factory;

  public JobPool(Supplier<T> factory) {
    this.factory = factory;
  }

  /** An idle object, or a new one. */
  public T take() {
    int start = (int) (Thread.currentThread().threadId() % SIZE);
    for (int i = 0; i < SIZE; i++) {
      int s = (start + i) % SIZE;
      T t = idle.get(s);
      if (t != null && idle.compareAndSet(s, t, null)) {
        return t;
      }
    }
    T t = factory.get();
    for (int i = 0; i < SIZE; i++) {
      if (all.get(i) == null && all.compareAndSet(i, null, t)) {
        break;
      }
    }
    return t;
  }

  /** Gives an object back; dropped when the pool is full. */
  public void give(T t) {
    int start = (int) (Thread.currentThread().threadId() % SIZE);
    for (int i = 0; i < SIZE; i++) {
      int s = (start + i) % SIZE;
      if (idle.get(s) == null && idle.compareAndSet(s, null, t)) {
        return;
      }
    }
  }

  /** Calls {@code f} on each object the pool has made (up to its size), idle or in use. */
  public void forEachMade(java.util.function.Consumer<T> f) {
    for (int i = 0; i < SIZE; i++) {
      T t = all.get(i);
      if (t != null) {
        f.accept(t);
      }
    }
  }
}
