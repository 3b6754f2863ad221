package dev.flashattn4j.model;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The threads the model's matrix products run on: {@code threads − 1} daemon workers and the
 * calling thread, owned by the {@link Model} that made them and stopped by its {@link #close()}.
 * Re-entrant: each {@link #forEach} call hands out its own tasks through its own counter, so calls
 * from several threads run at once (the workers take turns between them) and none waits for
 * another's tasks. Which thread runs a task never changes its result.
 */
final class Workers implements AutoCloseable {

  private final int threads;
  private final ExecutorService pool;
  private volatile boolean closed;

  Workers(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    this.threads = threads;
    AtomicInteger n = new AtomicInteger();
    this.pool =
        threads == 1
            ? null
            : Executors.newFixedThreadPool(
                threads - 1,
                r -> {
                  Thread t = new Thread(r, "flashattn-model-" + n.incrementAndGet());
                  t.setDaemon(true);
                  return t;
                });
  }

  /** Threads a call runs on, counting its caller. */
  int threads() {
    return threads;
  }

  /**
   * Runs {@code task.accept(i)} for i in [0, tasks) on the workers and the calling thread, and
   * returns when all have run. An exception of a task is thrown here (the first one).
   */
  void forEach(int tasks, IntConsumer task) {
    if (closed) {
      throw new IllegalStateException("the model was closed");
    }
    if (pool == null || tasks <= 1) {
      for (int i = 0; i < tasks; i++) {
        task.accept(i);
      }
      return;
    }
    AtomicInteger next = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    int helpers = Math.min(threads - 1, tasks - 1);
    CountDownLatch done = new CountDownLatch(helpers);
    Runnable drain =
        () -> {
          try {
            for (int i; failure.get() == null && (i = next.getAndIncrement()) < tasks; ) {
              task.accept(i);
            }
          } catch (Throwable t) {
            failure.compareAndSet(null, t);
          }
        };
    int started = 0;
    try {
      for (; started < helpers; started++) {
        pool.execute(
            () -> {
              try {
                drain.run();
              } finally {
                done.countDown();
              }
            });
      }
    } catch (RejectedExecutionException closed) {
      // closed meanwhile: the caller does the rest alone
      for (int i = started; i < helpers; i++) {
        done.countDown();
      }
    }
    drain.run();
    boolean interrupted = false;
    while (true) {
      try {
        done.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Throwable t = failure.get();
    if (t instanceof RuntimeException re) {
      throw re;
    }
    if (t instanceof Error err) {
      throw err;
    }
    if (t != null) {
      throw new IllegalStateException(t);
    }
  }

  /** Stops the workers; a call running now finishes. Idempotent. */
  @Override
  public void close() {
    closed = true;
    if (pool != null) {
      pool.shutdown();
    }
  }
}
