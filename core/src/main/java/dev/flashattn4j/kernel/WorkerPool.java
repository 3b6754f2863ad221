package dev.flashattn4j.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed team of worker threads that run one body together, with no allocation per run: the caller
 * is worker 0 and {@code threads − 1} daemon threads are workers 1.. . Each {@link #run} wakes the
 * workers, runs the body on the caller too, and returns when all have finished. Not reentrant: the
 * owner serialises calls. Used by the forward kernel and the decode step.
 */
public final class WorkerPool implements AutoCloseable {

  private final Thread[] workers;
  private final IntConsumer body;
  private final AtomicInteger running = new AtomicInteger();
  private volatile int generation;
  private volatile boolean closed;
  private volatile Thread caller;
  private volatile Throwable failure;

  /**
   * @param threads the team size, counting the caller
   * @param body what each member runs, given its index in [0, threads)
   * @param name the prefix of the worker threads' names
   */
  public WorkerPool(int threads, IntConsumer body, String name) {
    this.body = body;
    workers = new Thread[threads - 1];
    for (int i = 0; i < workers.length; i++) {
      int index = i + 1;
      workers[i] =
          Thread.ofPlatform().daemon().name(name + "-" + index).unstarted(() -> loop(index));
      workers[i].start();
    }
  }

  /** The team size, counting the caller. */
  public int threads() {
    return workers.length + 1;
  }

  private void loop(int index) {
    int seen = 0;
    while (true) {
      while (generation == seen && !closed) {
        LockSupport.park(this);
      }
      if (closed) {
        return;
      }
      seen = generation;
      try {
        body.accept(index);
      } catch (Throwable t) {
        if (failure == null) {
          failure = t;
        }
      }
      if (running.decrementAndGet() == 0) {
        LockSupport.unpark(caller);
      }
    }
  }

  /**
   * Runs the body on every member and waits for all of them.
   *
   * @throws RuntimeException or Error the first failure of any member
   */
  public void run() {
    if (closed) {
      throw new IllegalStateException("the kernel was closed");
    }
    failure = null;
    caller = Thread.currentThread();
    running.set(workers.length);
    generation = generation + 1; // publishes the job the owner set up before this call
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
    Throwable own = null;
    try {
      body.accept(0);
    } catch (Throwable t) {
      own = t;
    }
    int spins = 0;
    while (running.get() > 0) {
      if (++spins < 2000) {
        Thread.onSpinWait();
      } else {
        LockSupport.park(this);
      }
    }
    Throwable t = own != null ? own : failure;
    if (t instanceof RuntimeException e) {
      throw e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    if (t != null) {
      throw new IllegalStateException(t);
    }
  }

  /** Stops the worker threads; a later {@link #run} throws. */
  @Override
  public void close() {
    closed = true;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
  }
}
