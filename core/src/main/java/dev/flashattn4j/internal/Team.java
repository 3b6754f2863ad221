package dev.flashattn4j.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of worker threads shared by every call on an engine, with no lock and no allocation
 * per call. A call is a {@link TeamJob}: a list of independent items. The calling thread publishes
 * its job in a free slot, wakes the workers and works on its own job; idle workers take items from
 * any open job. Calls from many threads therefore run at once and share the workers, and a job
 * never waits for a worker: when every worker is busy (or the slots are full) the caller does all
 * its items itself.
 *
 * <p>The protocol (see {@link TeamJob}): a worker <em>joins</em> a job (increments {@code joined})
 * and only then reads {@code open}; the caller closes the job ({@code open = false}) when its own
 * claims run out, then waits until {@code joined} is 0 before it returns or reuses the job object.
 * A worker that joins late sees {@code open == false} and leaves without touching the job, or sees
 * the job reopened for a later call, which it may then help with: its join is counted in that call.
 *
 * <p>{@link #close()} stops the workers after their current item; a call already running finishes
 * on its caller's thread, a later call throws {@link IllegalStateException}.
 */
public final class Team implements AutoCloseable {

  /** Jobs that can be open at once; more concurrent callers run their jobs alone. */
  static final int SLOTS = 64;

  private final Thread[] workers;
  private final Scratch[] scratch;
  private final AtomicReferenceArray<TeamJob> open = new AtomicReferenceArray<>(SLOTS);
  private final AtomicInteger running = new AtomicInteger(); // calls in progress
  private volatile boolean closed;

  /**
   * @param threads the threads a call may run on, counting its caller; capped at the available
   *     processors (more would only take turns on the same cores)
   * @param name the prefix of the worker threads' names
   */
  public Team(int threads, String name) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    int n = Math.min(threads, Runtime.getRuntime().availableProcessors()) - 1;
    workers = new Thread[n];
    scratch = new Scratch[n];
    for (int i = 0; i < n; i++) {
      int index = i;
      scratch[i] = new Scratch();
      workers[i] =
          Thread.ofPlatform().daemon().name(name + "-" + (i + 1)).unstarted(() -> loop(index));
    }
    for (Thread w : workers) {
      w.start();
    }
  }

  /** The threads one call runs on, counting its caller. */
  public int threads() {
    return workers.length + 1;
  }

  /** True once {@link #close()} was called. */
  public boolean closed() {
    return closed;
  }

  /**
   * Runs every item of {@code job}: on the calling thread, helped by idle workers (at most {@code
   * maxThreads − 1} of them). Returns when every item has finished.
   *
   * @param callerScratch the calling thread's scratch for this job
   * @throws IllegalStateException when the team was closed before the call
   * @throws RuntimeException or Error the first failure of an item
   */
  public void run(TeamJob job, Scratch callerScratch, int maxThreads) {
    if (closed) {
      throw new IllegalStateException("the engine was closed");
    }
    job.start(Thread.currentThread(), Math.min(maxThreads, threads()) - 1);
    // Callers already running keep the cores busy: when there are as many as threads, helpers
    // would only take turns with them, so the call runs alone and wakes nobody.
    int busy = running.incrementAndGet();
    int slot = -1;
    try {
      if (job.seats > 0 && job.items > 1 && busy < threads()) {
        slot = publish(job);
      }
      try {
        job.work(callerScratch);
      } catch (Throwable t) {
        job.fail(t);
      }
      if (slot >= 0) {
        job.open = false;
        open.set(slot, null);
        job.awaitHelpers();
      }
    } finally {
      running.decrementAndGet();
    }
    job.rethrow();
  }

  /** Puts the job in a free slot, opens it and wakes workers; -1 when every slot is taken. */
  private int publish(TeamJob job) {
    int start = (int) (Thread.currentThread().threadId() % SLOTS);
    for (int i = 0; i < SLOTS; i++) {
      int s = (start + i) % SLOTS;
      if (open.get(s) == null && open.compareAndSet(s, null, job)) {
        job.open = true;
        // every worker: a busy one finds the job when it next looks, an idle one must be woken,
        // and which are idle is not known without a lock
        for (Thread w : workers) {
          LockSupport.unpark(w);
        }
        return s;
      }
    }
    return -1;
  }

  /** A worker: helps open jobs until none has an item left, then sleeps until woken. */
  private void loop(int index) {
    Scratch mine = scratch[index];
    int start = index * 7 % SLOTS;
    while (!closed) {
      boolean worked = false;
      for (int i = 0; i < SLOTS && !closed; i++) {
        TeamJob job = open.get((start + i) % SLOTS);
        if (job != null) {
          worked |= job.help(mine, this);
        }
      }
      if (!worked && !closed) {
        LockSupport.park(this);
      }
    }
  }

  /** The scratch bytes the workers hold now. */
  public long workerScratchBytes() {
    long total = 0;
    for (Scratch s : scratch) {
      total += s.bytes();
    }
    return total;
  }

  /**
   * Stops the workers after their current item and waits for them to end. Calls already running
   * finish on their callers' threads; later calls throw {@link IllegalStateException}. Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
    // the workers finish their current item (if any) and end: wait for them, so that a closed
    // engine holds no thread
    for (Thread w : workers) {
      try {
        w.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
