package dev.flashattn4j.model;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The threads the model's matrix products run on: {@code threads − 1} daemon workers and the
 * calling thread, owned by the {@link Model} that made them and stopped by its {@link #close()}.
 *
 * <p>A call is a {@link Job}: tasks [0, n) taken in order from the job's own counter. The caller
 * publishes its job in a free slot, wakes the workers and takes tasks itself; idle workers take
 * tasks from any open job. Calls from several threads therefore run at once (the workers take turns
 * between them) and none waits for another's tasks; when the slots are full a call runs on its
 * caller alone. Which thread runs a task never changes its result.
 *
 * <p>Nothing is allocated per call: the job objects are reused ({@link JobPool}), the workers park
 * when no job is open. The protocol is the engine's team's: a worker <em>joins</em> a job
 * (increments {@code joined}) and only then reads {@code open}; the caller closes its job when its
 * own claims run out and waits until {@code joined} is 0 before it returns or reuses the job.
 */
final class Workers implements AutoCloseable {

  /** Jobs that can be open at once; more concurrent callers run their jobs alone. */
  private static final int SLOTS = 16;

  private final int threads;
  private final Thread[] helpers;
  private final AtomicReferenceArray<Job> open = new AtomicReferenceArray<>(SLOTS);
  private final JobPool<MatMul.Product> products;
  private volatile boolean closed;

  /**
   * One call's tasks, with a scratch array for each thread that runs them (the caller's is seat 0).
   * A job object serves one call at a time; its subclass holds the call's arguments.
   */
  abstract static class Job {
    private float[][] scratch;
    private int tasks;
    private volatile boolean open;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger seats = new AtomicInteger();
    private final AtomicInteger joined = new AtomicInteger();
    private volatile Thread caller;
    private volatile Throwable failure;

    /**
     * @param seats the threads that may run tasks of one call, counting the caller
     * @param scratchFloats the scratch floats each of them gets
     */
    Job(int seats, int scratchFloats) {
      scratch = new float[seats][scratchFloats];
    }

    /**
     * Grows every seat's scratch to at least {@code floats} (the caller, before {@link
     * Workers#run}: the job is not open, and opening it publishes the arrays). Allocates only when
     * a call needs more than any before it.
     */
    void ensureScratch(int floats) {
      if (scratch[0].length < floats) {
        float[][] bigger = new float[scratch.length][];
        for (int i = 0; i < bigger.length; i++) {
          bigger[i] = new float[floats];
        }
        scratch = bigger;
      }
    }

    /** Runs task {@code task} with the scratch of the thread that runs it. */
    abstract void run(int task, float[] scratch);

    private void start(int tasks) {
      this.tasks = tasks;
      this.caller = Thread.currentThread();
      this.failure = null;
      seats.set(1); // seat 0 is the caller's
      next.set(0); // published to helpers by the volatile write of open
    }

    /** Claims and runs tasks until none is left or one has failed. */
    private void work(float[] mine) {
      try {
        for (int i; failure == null && (i = next.getAndIncrement()) < tasks; ) {
          run(i, mine);
        }
      } catch (Throwable t) {
        if (failure == null) {
          failure = t;
        }
      }
    }

    /** A worker's visit: joins and, when the job is open and a seat is free, runs tasks. */
    private boolean help(Workers workers) {
      joined.incrementAndGet();
      try {
        if (!open) {
          return false;
        }
        int seat = seats.getAndIncrement();
        if (seat >= scratch.length || next.get() >= tasks || workers.closed) {
          return false;
        }
        work(scratch[seat]);
        return true;
      } finally {
        if (joined.decrementAndGet() == 0) {
          LockSupport.unpark(caller);
        }
      }
    }

    /** The caller, after closing the job: waits until every helper has left it. */
    private void awaitHelpers() {
      int spins = 0;
      while (joined.get() != 0) {
        if (++spins < 1000) {
          Thread.onSpinWait();
        } else {
          LockSupport.park(this);
        }
      }
    }

    private void rethrow() {
      Throwable t = failure;
      failure = null;
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
  }

  Workers(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    this.threads = threads;
    this.products = new JobPool<>(() -> new MatMul.Product(threads));
    this.helpers = new Thread[threads - 1];
    for (int i = 0; i < helpers.length; i++) {
      int index = i;
      helpers[i] =
          Thread.ofPlatform()
              .daemon()
              .name("flashattn-model-" + (i + 1))
              .unstarted(() -> loop(index));
    }
    for (Thread t : helpers) {
      t.start();
    }
  }

  /** Threads a call runs on, counting its caller. */
  int threads() {
    return threads;
  }

  /** The pool of matrix-product jobs of these workers. */
  JobPool<MatMul.Product> products() {
    return products;
  }

  /**
   * Runs {@code job.run(i, scratch)} for i in [0, tasks) on the workers and the calling thread, and
   * returns when all have run. An exception of a task is thrown here (the first one).
   *
   * @throws IllegalStateException when the workers were closed (the model was)
   */
  void run(Job job, int tasks) {
    if (closed) {
      throw new IllegalStateException("the model was closed");
    }
    job.start(tasks);
    int slot = helpers.length > 0 && tasks > 1 ? publish(job) : -1;
    job.work(job.scratch[0]);
    if (slot >= 0) {
      job.open = false;
      open.set(slot, null);
      job.awaitHelpers();
    }
    job.rethrow();
  }

  /** Puts the job in a free slot, opens it and wakes the workers; -1 when every slot is taken. */
  private int publish(Job job) {
    int start = (int) (Thread.currentThread().threadId() % SLOTS);
    for (int i = 0; i < SLOTS; i++) {
      int s = (start + i) % SLOTS;
      if (open.get(s) == null && open.compareAndSet(s, null, job)) {
        job.open = true;
        for (Thread t : helpers) {
          LockSupport.unpark(t);
        }
        return s;
      }
    }
    return -1;
  }

  /** A worker: helps open jobs until none has a task left, then sleeps until woken. */
  private void loop(int index) {
    int start = index * 5 % SLOTS;
    while (!closed) {
      boolean worked = false;
      for (int i = 0; i < SLOTS && !closed; i++) {
        Job job = open.get((start + i) % SLOTS);
        if (job != null) {
          worked |= job.help(this);
        }
      }
      if (!worked && !closed) {
        LockSupport.park(this);
      }
    }
  }

  /**
   * Stops the workers after their current task and waits for them to end; a call running now
   * finishes on its caller's thread, later calls throw IllegalStateException. Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    for (Thread t : helpers) {
      LockSupport.unpark(t);
    }
    for (Thread t : helpers) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
