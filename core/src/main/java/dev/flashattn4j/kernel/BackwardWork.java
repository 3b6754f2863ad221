package dev.flashattn4j.kernel;

import dev.flashattn4j.internal.TeamJob;
import dev.flashattn4j.values.AttentionShape;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The backward's work list and its dQ turn-taking. An item is (sequence, K/V head, key chunk); a
 * (sequence, K/V head) pair with few siblings has its keys cut into chunks so that the cores have
 * work ({@link #chunkCount}: a function of the shape alone). The chunks of a pair add their parts
 * of a query block's dQ in chunk order: each block has a turn counter, which chunk c waits to reach
 * c ({@link #awaitTurn}) and then passes on ({@link #passTurn}). No atomics on the gradients and no
 * order that depends on scheduling, so the bits do not depend on the threads. Reused by later
 * calls: a warm call allocates nothing.
 */
final class BackwardWork {

  /**
   * Fewer (sequence, K/V head) pairs than this cut their keys into chunks: twice the machine's
   * cores, read once (as the tile sizes are chosen from its caches), and at least 4. Never the
   * engine's threads, so the bits do not depend on them. Measured on 2 cores: cutting H = 8 into 16
   * items cost 2–5% on 2 threads, while H = 1 went from one busy core to two.
   */
  static final int SPLIT_BELOW = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());

  /** The fewest keys of a chunk: below that, reloading a block's panels per chunk would show. */
  static final int MIN_CHUNK_KEYS = 512;

  private static final VarHandle TURN = MethodHandles.arrayElementVarHandle(int[].class);

  /**
   * How many key chunks each (sequence, K/V head) of a call with {@code pairs} such pairs and
   * {@code nk} keys is cut into: 1 from {@value #SPLIT_BELOW} pairs on, else enough for that many
   * items, with chunks of at least {@value #MIN_CHUNK_KEYS} keys.
   */
  static int chunkCount(int pairs, int nk) {
    if (pairs >= SPLIT_BELOW || nk <= MIN_CHUNK_KEYS) {
      return 1;
    }
    return Math.min(ceilDiv(SPLIT_BELOW, pairs), ceilDiv(nk, MIN_CHUNK_KEYS));
  }

  static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  // per sequence: key chunks, keys per chunk, first turn
  int[] chunks = new int[0];
  int[] chunkLen = new int[0];
  int[] turnStart = new int[1];
  // per item: its sequence, K/V head and key chunk
  int[] itemSeq = new int[0];
  int[] itemHead = new int[0];
  int[] itemChunk = new int[0];
  int longestChunk;
  // per (sequence, K/V head, query block): the chunk whose part of dQ goes in next; null when
  // no sequence is cut
  private int[] turns;
  private int[] turnArray = new int[0];

  /**
   * The items: (sequence, K/V head, key chunk), chunk 0 of every pair first, then chunk 1, and so
   * on, so that a chunk's predecessor is always claimed before it (long before, when there are
   * several pairs, so that it has added its parts of dQ by the time they are needed); and the turns
   * of the ordered dQ sums where a sequence is cut.
   *
   * @return the number of items
   */
  int plan(AttentionShape s, int[] cuQ, int[] cuK, int sequences, int group, int br, int bc) {
    int pairs = sequences * s.kvHeads();
    if (chunks.length < sequences) {
      chunks = new int[sequences];
      chunkLen = new int[sequences];
      turnStart = new int[sequences + 1];
    }
    boolean cut = false;
    longestChunk = 0;
    int mostChunks = 0;
    int count = 0;
    for (int x = 0; x < sequences; x++) {
      int nq = cuQ == null ? s.queryRows() : cuQ[x + 1] - cuQ[x];
      int nk = cuK == null ? s.keyRows() : cuK[x + 1] - cuK[x];
      int c = chunkCount(pairs, nk);
      int len = nk;
      if (c > 1) {
        len = ceilDiv(ceilDiv(nk, c), bc) * bc; // chunks start on tile edges
        c = ceilDiv(nk, len);
        cut |= c > 1;
      }
      chunks[x] = c;
      chunkLen[x] = len;
      longestChunk = Math.max(longestChunk, len);
      mostChunks = Math.max(mostChunks, c);
      count += s.kvHeads() * c;
      turnStart[x + 1] = turnStart[x] + s.kvHeads() * ceilDiv(group * nq, br);
    }
    if (itemSeq.length < count) {
      itemSeq = new int[count];
      itemHead = new int[count];
      itemChunk = new int[count];
    }
    int n = 0;
    for (int c = 0; c < mostChunks; c++) {
      for (int x = 0; x < sequences; x++) {
        for (int hk = 0; c < chunks[x] && hk < s.kvHeads(); hk++, n++) {
          itemSeq[n] = x;
          itemHead[n] = hk;
          itemChunk[n] = c;
        }
      }
    }
    turns = null;
    if (cut) {
      int t = turnStart[sequences];
      if (turnArray.length < t) {
        turnArray = new int[t];
      }
      Arrays.fill(turnArray, 0, t, 0); // published to the helpers when the team opens the call
      turns = turnArray;
    }
    return n;
  }

  /**
   * Waits until the chunks before {@code chunk} have added their parts of a block's dQ. The chunk
   * before was claimed first, so it is running (or done) on another thread; on one thread the
   * chunks run in order and never wait.
   */
  void awaitTurn(int turn, int chunk, TeamJob call) {
    if (turns == null) {
      return;
    }
    int spins = 0;
    while ((int) TURN.getAcquire(turns, turn) != chunk) {
      if (call.failed()) {
        throw new IllegalStateException("another item of the call failed");
      }
      if (++spins < 1 << 12) {
        Thread.onSpinWait();
      } else {
        Thread.yield();
      }
    }
  }

  /** Lets the next chunk add its part of the block's dQ. */
  void passTurn(int turn, int chunk) {
    if (turns != null) {
      TURN.setRelease(turns, turn, chunk + 1);
    }
  }
}
