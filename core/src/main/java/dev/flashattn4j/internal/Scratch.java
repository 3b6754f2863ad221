package dev.flashattn4j.internal;

/**
 * One thread's scratch memory for every kind of call on a {@link Team}: a worker owns one, and each
 * pooled call object owns one for its caller. Grown when a call needs more, never shrunk, so that a
 * steady stream of calls allocates nothing.
 */
public final class Scratch {

  /** The forward kernel's tiles (a {@code Workspace}, created by the kernel on first use). */
  public Sized forward;

  /** The decode step's buffers (a {@code DecodeWorker}, created by the decode package on use). */
  public Sized decode;

  /** The backward pass's panels and dK/dV accumulators (created by the kernel on first use). */
  public Sized backward;

  /** The bytes held now: what a call costs beyond its inputs and outputs. */
  public long bytes() {
    return (forward == null ? 0 : forward.bytes())
        + (decode == null ? 0 : decode.bytes())
        + (backward == null ? 0 : backward.bytes());
  }

  /** Scratch that can say its size. */
  public interface Sized {
    long bytes();
  }
}
