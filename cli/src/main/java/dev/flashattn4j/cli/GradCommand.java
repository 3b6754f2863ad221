package dev.flashattn4j.cli;

import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code grad}: dQ, dK, dV of attention from Q, K, V and dL/dO, written as float32 .npy. */
@Command(
    name = "grad",
    mixinStandardHelpOptions = true,
    description = {
      "Computes the gradients dQ, dK, dV of attention (the backward pass) from Q, K, V and"
          + " dO = dL/dO (.npy float32, float64 or float16, C order), with the options of attend;"
          + " each output is written whole or not at all.",
      "--kernel fast (default) recomputes the scores tile by tile from the forward's LSE;"
          + " --kernel naive is the float64 oracle."
    })
final class GradCommand implements Callable<Integer> {

  @Mixin AttentionInputs inputs;

  @Option(
      names = "--dout",
      required = true,
      paramLabel = "DO.npy",
      description = "dL/dO, the shape of O: (B, H_q, N_q, d_v) with Q's rank")
  Path dout;

  @Option(names = "--out-dq", paramLabel = "DQ.npy", description = "write dQ (Q's shape)")
  Path outDq;

  @Option(names = "--out-dk", paramLabel = "DK.npy", description = "write dK (K's shape)")
  Path outDk;

  @Option(names = "--out-dv", paramLabel = "DV.npy", description = "write dV (V's shape)")
  Path outDv;

  @Option(
      names = "--out-dsinks",
      paramLabel = "DSINKS.npy",
      description = "write the sinks' gradient (H_q floats; needs --sinks)")
  Path outDsinks;

  @Option(
      names = "--out-dir",
      paramLabel = "DIR",
      description =
          "write dq.npy, dk.npy, dv.npy (and dsinks.npy with --sinks) into DIR, a new or empty"
              + " folder that appears whole or not at all, whatever stops the command (one rename)")
  Path outDir;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    boolean files = outDq != null || outDk != null || outDv != null || outDsinks != null;
    if (!files && outDir == null) {
      throw new BadInputException(
          "name --out-dir, or at least one of --out-dq, --out-dk, --out-dv, --out-dsinks");
    }
    if (files && outDir != null) {
      throw new BadInputException(
          "--out-dir writes every gradient: give it alone, or name the files with --out-dq,"
              + " --out-dk, --out-dv, --out-dsinks");
    }
    if (outDir != null) {
      Outputs.checkDirectory("--out-dir", outDir);
    }
    Outputs outputs =
        new Outputs()
            .add("--out-dq", outDq)
            .add("--out-dk", outDk)
            .add("--out-dv", outDv)
            .add("--out-dsinks", outDsinks)
            .notInput("--dout", dout);
    inputs.notInputs(outputs);
    AttentionInputs.Loaded in = inputs.load();
    if (outDsinks != null && !in.options().hasSinks()) {
      throw new BadInputException("--out-dsinks needs --sinks");
    }
    Tensor g = AttentionInputs.readTensor("--dout", dout);
    int[] want = in.shape().outputShape(in.q().rank());
    if (!Arrays.equals(want, g.shape())) {
      throw new BadInputException(
          "--dout "
              + dout
              + " has shape "
              + Arrays.toString(g.shape())
              + ", O's shape is "
              + Arrays.toString(want));
    }
    AttentionGradients r =
        in.kernel().gradients(in.q(), in.k(), in.v(), g, in.options(), in.threads());
    if (outDir != null) {
      Map<String, Outputs.Writer> all = new LinkedHashMap<>();
      all.put("dq.npy", Outputs.tensor(r.dq()));
      all.put("dk.npy", Outputs.tensor(r.dk()));
      all.put("dv.npy", Outputs.tensor(r.dv()));
      if (r.dsinks() != null) {
        all.put("dsinks.npy", file -> Npy.write(file, r.dsinks(), r.dsinks().length));
      }
      Outputs.writeDirectory("--out-dir", outDir, all);
      spec.commandLine().getOut().printf("wrote %s: %s%n", outDir, String.join(", ", all.keySet()));
      return 0;
    }
    outputs.writeAll(
        Map.of(
            "--out-dq",
            Outputs.tensor(r.dq()),
            "--out-dk",
            Outputs.tensor(r.dk()),
            "--out-dv",
            Outputs.tensor(r.dv()),
            "--out-dsinks",
            file -> Npy.write(file, r.dsinks(), r.dsinks() == null ? 0 : r.dsinks().length)));
    var out = spec.commandLine().getOut();
    if (outDq != null) {
      out.printf("wrote %s %s%n", outDq, Arrays.toString(r.dq().shape()));
    }
    if (outDk != null) {
      out.printf("wrote %s %s%n", outDk, Arrays.toString(r.dk().shape()));
    }
    if (outDv != null) {
      out.printf("wrote %s %s%n", outDv, Arrays.toString(r.dv().shape()));
    }
    if (outDsinks != null) {
      out.printf("wrote %s [%d]%n", outDsinks, r.dsinks().length);
    }
    return 0;
  }
}
