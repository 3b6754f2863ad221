package dev.flashattn4j.kernel;

/**
 * One thread's scratch memory for every kind of call on a {@link Team}: a worker owns one, and each
 * pooled call object owns one for its caller. Grown when a call needs more, never shrunk, so that a
 * steady stream of calls allocates nothing.
 */
public final class Scratch {

  /** The forward kernel's tiles. */
  final Workspace forward = new Workspace();

  /** The decode step's buffers (a {@code DecodeWorker}, created by the decode package on use). */
  public Object decode;

  /** The bytes held now: what a call costs beyond its inputs and outputs. */
  public long bytes() {
    return forward.bytes() + (decode instanceof Sized s ? s.bytes() : 0);
  }

  /** Scratch that can say its size. */
  public interface Sized {
    long bytes();
  }
}
