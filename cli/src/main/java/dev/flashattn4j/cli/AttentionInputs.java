package dev.flashattn4j.cli;

import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.tensor.NpyArray;
import dev.flashattn4j.tensor.NpyDtype;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionShape;
import dev.flashattn4j.values.Causal;
import dev.flashattn4j.values.Dropout;
import dev.flashattn4j.values.Window;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import picocli.CommandLine.Option;

/**
 * The inputs {@code attend} and {@code verify} share: the Q, K, V (and mask) files, the attention
 * options and the kernel. {@link #load()} reads and checks all of them before any work, turning
 * every problem into a {@link BadInputException} of one line.
 */
final class AttentionInputs {

  /** Refuses outputs that name one of these inputs ({@link Outputs#notInput}). */
  Outputs notInputs(Outputs outputs) {
    return outputs
        .notInput("--q", q)
        .notInput("--k", k)
        .notInput("--v", v)
        .notInput("--mask", mask);
  }

  /** The default SRAM size of the paper's kernel, in floats: 64 Ki floats, 256 KiB, an L2 cache. */
  static final int DEFAULT_SRAM = 65_536;

  @Option(
      names = "--q",
      required = true,
      paramLabel = "Q.npy",
      description = "queries (B,H_q,N_q,d), (H,N,d) or (N,d)")
  Path q;

  @Option(names = "--k", required = true, paramLabel = "K.npy", description = "keys (B,H_kv,N_k,d)")
  Path k;

  @Option(
      names = "--v",
      required = true,
      paramLabel = "V.npy",
      description = "values (B,H_kv,N_k,d_v)")
  Path v;

  @Option(
      names = "--mask",
      paramLabel = "MASK.npy",
      description =
          "keep-mask (bool, or int8/uint8/int16/int32/int64 where non-zero keeps the key) or"
              + " additive float mask, broadcast to (B,H_q,N_q,N_k)")
  Path mask;

  @Option(
      names = "--causal",
      paramLabel = "ALIGN",
      description = "top-left (SDPA's is_causal) or bottom-right (FlashAttention 2.1+)")
  String causal;

  @Option(names = "--scale", paramLabel = "S", description = "factor on q·k (default 1/sqrt(d))")
  String scale;

  @Option(
      names = "--window",
      paramLabel = "LEFT,RIGHT",
      description = "sliding window around the diagonal; -1 for unbounded")
  String window;

  @Option(names = "--softcap", paramLabel = "C", description = "score = C·tanh(score/C)")
  String softcap;

  @Option(
      names = "--dropout",
      paramLabel = "P,SEED,OFFSET",
      description =
          "dropout on the probabilities (training): drop with probability P, keep bits drawn by"
              + " Philox4x32-10 from SEED and OFFSET (the same bits for every kernel)")
  String dropout;

  @Option(
      names = "--alibi",
      paramLabel = "S1,S2,...",
      description =
          "ALiBi slopes, one per query head: the score gets -slope*|diag(i) - j| (the causal"
              + " alignment's diagonal, bottom-right when not causal)")
  String alibi;

  @Option(
      names = "--sinks",
      paramLabel = "L1,L2,...",
      description = "attention-sink logits, one per query head (one more softmax term, no value)")
  String sinks;

  @Option(
      names = "--kernel",
      paramLabel = "K",
      defaultValue = "fast",
      description = "fast, paper or naive (default ${DEFAULT-VALUE})")
  String kernel;

  @Option(
      names = "--sram",
      paramLabel = "M",
      description = "SRAM size of the paper kernel, in floats (default " + DEFAULT_SRAM + ")")
  String sram;

  @Option(names = "--threads", paramLabel = "T", description = "threads of the fast kernel (≥ 1)")
  String threads;

  /**
   * Checked inputs, ready to run.
   *
   * @param q (B, H_q, N_q, d)
   * @param k (B, H_kv, N_k, d)
   * @param v (B, H_kv, N_k, d_v)
   * @param sram M for the paper kernel
   * @param threads threads for the fast kernel, 0 for its default
   */
  record Loaded(
      Tensor q,
      Tensor k,
      Tensor v,
      AttentionOptions options,
      AttentionShape shape,
      Kernel kernel,
      int sram,
      int threads) {}

  /** Parses the flags, reads the files and checks the shapes, or throws one clear line. */
  Loaded load() {
    Kernel kern = Kernel.parse(kernel);
    int m = sram == null ? DEFAULT_SRAM : positiveInt("--sram", sram);
    int t = threads == null ? 0 : ThreadCount.check("--threads", positiveInt("--threads", threads));
    AttentionOptions.Builder b = AttentionOptions.builder();
    if (scale != null) {
      b.scale(positiveFloat("--scale", scale));
    }
    if (softcap != null) {
      b.softcap(positiveFloat("--softcap", softcap));
    }
    if (causal != null) {
      b.causal(parseCausal(causal));
    }
    if (window != null) {
      b.window(parseWindow(window));
    }
    if (dropout != null) {
      b.dropout(parseDropout(dropout));
    }
    if (alibi != null) {
      b.alibi(parseFloats("--alibi", alibi));
    }
    if (sinks != null) {
      b.sinks(parseFloats("--sinks", sinks));
    }
    Tensor tq = readTensor("--q", q);
    Tensor tk = readTensor("--k", k);
    Tensor tv = readTensor("--v", v);
    if (mask != null) {
      b.mask(readMask(mask));
    }
    AttentionOptions opts = b.build();
    AttentionShape shape;
    try {
      shape = AttentionShape.of(tq, tk, tv, opts);
    } catch (IllegalArgumentException e) {
      throw new BadInputException(e.getMessage(), e);
    }
    return new Loaded(tq, tk, tv, opts, shape, kern, m, t);
  }

  static float[] parseFloats(String flag, String text) {
    String[] parts = text.split(",", -1);
    float[] f = new float[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        f[i] = Float.parseFloat(parts[i].strip());
      } catch (NumberFormatException e) {
        f[i] = Float.NaN;
      }
      if (!Float.isFinite(f[i])) {
        throw new BadInputException(
            flag
                + " must be finite numbers separated by commas, not '"
                + Main.printable(text)
                + "'");
      }
    }
    return f;
  }

  static Dropout parseDropout(String text) {
    String[] parts = text.split(",", -1);
    try {
      if (parts.length != 3) {
        throw new NumberFormatException();
      }
      return new Dropout(
          Float.parseFloat(parts[0].strip()),
          Long.parseLong(parts[1].strip()),
          Long.parseLong(parts[2].strip()));
    } catch (NumberFormatException e) {
      throw new BadInputException(
          "--dropout must be P,SEED,OFFSET (P in [0, 1), whole SEED and OFFSET), not '"
              + Main.printable(text)
              + "'");
    } catch (IllegalArgumentException e) {
      throw new BadInputException("--dropout: " + e.getMessage());
    }
  }

  static Tensor readTensor(String flag, Path file) {
    NpyArray a = readArray(flag, file);
    if (!a.dtype().isFloat() || a.rank() < 2 || a.rank() > 4) {
      throw new BadInputException(
          flag
              + " "
              + file
              + ": expected a float array of rank 2, 3 or 4, found "
              + a.dtype().descr()
              + " "
              + Arrays.toString(a.shape()));
    }
    return a.toTensor();
  }

  static NpyArray readArray(String flag, Path file) {
    if (Files.exists(file) && !Files.isRegularFile(file)) {
      // a FIFO would block forever, a device could be endless, a folder cannot be read
      throw new BadInputException(flag + " " + file + " is not a regular file");
    }
    try {
      return Npy.read(file);
    } catch (NoSuchFileException e) {
      throw new BadInputException(flag + " " + file + ": no such file", e);
    } catch (Npy.NpyTooLargeException e) {
      throw new BadInputException(
          flag + " " + e.getMessage() + ": give it more with FLASHATTN_JAVA_OPTS=-Xmx<size>", e);
    } catch (IOException e) {
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      throw new BadInputException(
          flag + " " + (msg.startsWith(file.toString()) ? msg : file + ": " + msg), e);
    }
  }

  private static AttentionMask readMask(Path file) {
    NpyArray a = readArray("--mask", file);
    if (a.rank() < 1 || a.rank() > 4) {
      throw new BadInputException(
          "--mask " + file + ": rank " + a.rank() + ", expected 1 to 4 dimensions");
    }
    // bool and integer masks keep where non-zero (PyTorch's int8/uint8 masks); floats are added
    return a.dtype() == NpyDtype.BOOL || a.dtype().isInteger()
        ? AttentionMask.keep(a.toBooleanArray(), a.shape())
        : AttentionMask.additive(a.toFloatArray(), a.shape());
  }

  /** --causal's value: top-left or bottom-right. */
  static Causal parseCausal(String text) {
    return switch (text) {
      case "top-left" -> Causal.TOP_LEFT;
      case "bottom-right" -> Causal.BOTTOM_RIGHT;
      default ->
          throw new BadInputException(
              "--causal must be top-left or bottom-right, not '" + Main.printable(text) + "'");
    };
  }

  /** --window's value: LEFT,RIGHT. */
  static Window parseWindow(String text) {
    String[] parts = text.split(",", -1);
    if (parts.length == 2) {
      try {
        int left = Integer.parseInt(parts[0].strip());
        int right = Integer.parseInt(parts[1].strip());
        if (left >= -1 && right >= -1) {
          return new Window(left, right);
        }
      } catch (NumberFormatException e) {
        // falls through to the error below
      }
    }
    throw new BadInputException(
        "--window must be LEFT,RIGHT with integers ≥ -1 (-1 = unbounded), not '" + text + "'");
  }

  private static float positiveFloat(String flag, String text) {
    float f;
    try {
      f = Float.parseFloat(text.strip());
    } catch (NumberFormatException e) {
      throw new BadInputException(flag + " must be a number, not '" + text + "'");
    }
    if (!(f > 0 && Float.isFinite(f))) {
      throw new BadInputException(flag + " must be positive and finite, not " + text);
    }
    return f;
  }

  private static int positiveInt(String flag, String text) {
    try {
      int n = Integer.parseInt(text.strip());
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException e) {
      // falls through to the error below
    }
    throw new BadInputException(flag + " must be a whole number ≥ 1, not '" + text + "'");
  }
}
