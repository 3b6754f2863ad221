package dev.flashattn4j.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One call's work on a {@link Team}: {@link #items} independent items, taken in order from a shared
 * counter by the caller and the workers that join. Subclasses hold the call's state (its tensors,
 * options and tile sizes) in their own fields, set by the caller before {@link Team#run}; the job
 * object is reused for later calls only after every helper has left it.
 */
public abstract class TeamJob {

  /** Items of the current call; set by the caller before {@link Team#run}. */
  protected int items;

  volatile boolean open;
  int seats; // workers that may still join this call, set before open
  private final AtomicInteger seatsLeft = new AtomicInteger();
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger joined = new AtomicInteger();
  private volatile Thread caller;
  private volatile Throwable failure;

  /** Runs item {@code item} with the scratch of the thread that runs it. */
  protected abstract void runItem(int item, Scratch scratch);

  /** Called by the owner, before publishing: resets the counters of a new call. */
  final void start(Thread caller, int seats) {
    this.caller = caller;
    this.failure = null;
    this.seats = Math.max(0, seats);
    seatsLeft.set(this.seats);
    next.set(0); // published to helpers by the volatile write of open
  }

  /** The caller's share: claims and runs items until none is left. */
  final void work(Scratch scratch) {
    for (int i = next.getAndIncrement(); i < items; i = next.getAndIncrement()) {
      runItem(i, scratch);
    }
  }

  /**
   * A worker's visit: joins, and when the job is open and has a seat, runs items. Returns whether
   * it ran any.
   */
  final boolean help(Scratch scratch, Team team) {
    joined.incrementAndGet();
    try {
      if (!open || seatsLeft.getAndDecrement() <= 0) {
        return false;
      }
      boolean ran = false;
      try {
        // closed is looked at before an item is claimed, never after: a claimed item always runs
        while (!team.closed()) {
          int i = next.getAndIncrement();
          if (i >= items) {
            break;
          }
          runItem(i, scratch);
          ran = true;
        }
      } catch (Throwable t) {
        fail(t);
      }
      return ran;
    } finally {
      if (joined.decrementAndGet() == 0) {
        LockSupport.unpark(caller);
      }
    }
  }

  /**
   * Whether an item of the current call has failed: an item that waits for another (an ordered
   * reduction) stops waiting then, since the one it waits for may never finish.
   */
  public final boolean failed() {
    return failure != null;
  }

  /** Records the first failure of the call. */
  final void fail(Throwable t) {
    if (failure == null) {
      failure = t;
    }
  }

  /** The owner, after closing the job: waits until every helper has left it. */
  final void awaitHelpers() {
    int spins = 0;
    while (joined.get() != 0) {
      if (++spins < 1000) {
        Thread.onSpinWait();
      } else {
        LockSupport.park(this);
      }
    }
  }

  /** Throws the call's first failure, if any. */
  final void rethrow() {
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
