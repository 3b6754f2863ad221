package dev.flashattn4j.cli;

import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.ErrorBudget.Check;
import dev.flashattn4j.reference.ErrorBudget.Errors;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.reference.NaiveAttention.Precision;
import dev.flashattn4j.tensor.NpyArray;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.AttentionShape;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code verify}: runs a kernel and the float64 oracle on the same inputs and checks the kernel
 * against the error budget; with {@code --expect} also checks the kernel against a reference O
 * (saved from PyTorch, say), within {@link ErrorBudget#referenceTolerance} of the budget.
 */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a kernel (default fast) and the float64 oracle; prints the max abs and max rel error"
          + " against the oracle and against --expect; exits 1 when over the error budget.",
      "The budget: 2 × the error of plain float32 attention on these inputs + 1e-6·max(1, max|V|)."
          + " A reference may differ from the kernel by twice the budget (each may be one budget"
          + " from the oracle)."
    })
final class VerifyCommand implements Callable<Integer> {

  @Mixin AttentionInputs inputs;

  @Option(names = "--expect", paramLabel = "REF.npy", description = "a reference O to compare with")
  Path expect;

  @Option(
      names = "--expect-lse",
      paramLabel = "REF_LSE.npy",
      description = "a reference LSE (Q's shape without d) to compare with")
  Path expectLse;

  @Option(
      names = "--backward",
      description = "check the gradients dQ, dK, dV instead of O (needs --dout)")
  boolean backward;

  @Option(names = "--dout", paramLabel = "DO.npy", description = "dL/dO for --backward")
  Path dout;

  @Option(names = "--expect-dq", paramLabel = "REF_DQ.npy", description = "a reference dQ")
  Path expectDq;

  @Option(names = "--expect-dk", paramLabel = "REF_DK.npy", description = "a reference dK")
  Path expectDk;

  @Option(names = "--expect-dv", paramLabel = "REF_DV.npy", description = "a reference dV")
  Path expectDv;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    if (backward || dout != null || expectDq != null || expectDk != null || expectDv != null) {
      return verifyBackward();
    }
    AttentionInputs.Loaded in = inputs.load();
    int[] outShape = in.shape().outputShape(in.q().rank());
    int[] lseShape = Arrays.copyOf(outShape, outShape.length - 1);
    float[] ref = expect == null ? null : readReference("--expect", expect, outShape);
    float[] refLse = expectLse == null ? null : readReference("--expect-lse", expectLse, lseShape);

    AttentionResult oracle =
        NaiveAttention.compute(in.q(), in.k(), in.v(), in.options(), Precision.DOUBLE);
    AttentionResult plain =
        NaiveAttention.compute(in.q(), in.k(), in.v(), in.options(), Precision.FLOAT);
    AttentionResult result =
        in.kernel().run(in.q(), in.k(), in.v(), in.options(), in.sram(), in.threads());
    Check check = ErrorBudget.check(oracle, plain, ErrorBudget.maxAbs(in.v().toArray()), result);

    PrintWriter out = spec.commandLine().getOut();
    boolean ok = check.passed();
    AttentionShape sh = in.shape();
    out.printf(
        "kernel %s: B=%d H_q=%d H_kv=%d N_q=%d N_k=%d d=%d d_v=%d%n",
        in.kernel(),
        sh.batch(),
        sh.queryHeads(),
        sh.kvHeads(),
        sh.queryRows(),
        sh.keyRows(),
        sh.headDim(),
        sh.valueDim());
    out.printf(
        "O   vs float64 oracle: max abs %.3e  max rel %.3e  budget %.3e (plain float32: %.3e) %s%n",
        check.output().maxAbs(),
        check.output().maxRel(),
        check.outputTolerance(),
        check.float32Output().maxAbs(),
        verdict(check.output().maxAbs() <= check.outputTolerance()));
    out.printf(
        "LSE vs float64 oracle: max abs %.3e  max rel %.3e  budget %.3e (plain float32: %.3e) %s%n",
        check.lse().maxAbs(),
        check.lse().maxRel(),
        check.lseTolerance(),
        check.float32Lse().maxAbs(),
        verdict(check.lse().maxAbs() <= check.lseTolerance()));
    if (ref != null) {
      ok &=
          compare(
              out,
              "O   vs " + expect,
              result.output().toArray(),
              ref,
              oracle.output().toArray(),
              check.outputTolerance());
    }
    if (refLse != null) {
      ok &=
          compare(
              out, "LSE vs " + expectLse, result.lse(), refLse, oracle.lse(), check.lseTolerance());
    }
    out.println(ok ? "PASS" : "FAIL: over the error budget");
    out.flush();
    return ok ? 0 : Main.EXIT_CHECK_FAILED;
  }

  /** verify --backward: the kernel's dQ, dK, dV against the oracle's (and the references). */
  private int verifyBackward() {
    if (!backward || dout == null) {
      throw new BadInputException("--dout and --expect-dq/dk/dv go with --backward --dout DO.npy");
    }
    AttentionInputs.Loaded in = inputs.load();
    int[] outShape = in.shape().outputShape(in.q().rank());
    Tensor g = AttentionInputs.readTensor("--dout", dout);
    if (!Arrays.equals(outShape, g.shape())) {
      throw new BadInputException(
          "--dout "
              + dout
              + " has shape "
              + Arrays.toString(g.shape())
              + ", O's shape is "
              + Arrays.toString(outShape));
    }
    float[][] refs = {
      expectDq == null ? null : readReference("--expect-dq", expectDq, in.q().shape()),
      expectDk == null ? null : readReference("--expect-dk", expectDk, in.k().shape()),
      expectDv == null ? null : readReference("--expect-dv", expectDv, in.v().shape())
    };
    Path[] refPaths = {expectDq, expectDk, expectDv};
    AttentionGradients oracle = NaiveAttention.backward(in.q(), in.k(), in.v(), g, in.options());
    AttentionGradients result =
        in.kernel().gradients(in.q(), in.k(), in.v(), g, in.options(), in.threads());
    PrintWriter out = spec.commandLine().getOut();
    AttentionShape sh = in.shape();
    out.printf(
        "kernel %s, backward: B=%d H_q=%d H_kv=%d N_q=%d N_k=%d d=%d d_v=%d%n",
        in.kernel(),
        sh.batch(),
        sh.queryHeads(),
        sh.kvHeads(),
        sh.queryRows(),
        sh.keyRows(),
        sh.headDim(),
        sh.valueDim());
    String[] names = {"dQ", "dK", "dV"};
    Tensor[] want = {oracle.dq(), oracle.dk(), oracle.dv()};
    Tensor[] got = {result.dq(), result.dk(), result.dv()};
    boolean ok = true;
    for (int t = 0; t < 3; t++) {
      float[] w = want[t].toArray();
      float[] a = got[t].toArray();
      double tol = ErrorBudget.gradientTolerance(ErrorBudget.maxAbs(w));
      Errors e = Errors.of(a, w);
      boolean pass = e.maxAbs() <= tol;
      ok &= pass;
      out.printf(
          "%s vs float64 oracle: max abs %.3e  max rel %.3e  budget %.3e %s%n",
          names[t], e.maxAbs(), e.maxRel(), tol, verdict(pass));
      if (refs[t] != null) {
        ok &= compare(out, names[t] + " vs " + refPaths[t], a, refs[t], w, tol);
      }
    }
    out.println(ok ? "PASS" : "FAIL: over the error budget");
    out.flush();
    return ok ? 0 : Main.EXIT_CHECK_FAILED;
  }

  private static boolean compare(
      PrintWriter out, String what, float[] actual, float[] ref, float[] oracle, double tol) {
    Errors e = Errors.of(actual, ref);
    Errors refVsOracle = Errors.of(ref, oracle);
    double refTol = ErrorBudget.referenceTolerance(tol);
    boolean ok = e.maxAbs() <= refTol;
    out.printf(
        "%s: max abs %.3e  max rel %.3e  budget %.3e (reference vs oracle: %.3e) %s%n",
        what, e.maxAbs(), e.maxRel(), refTol, refVsOracle.maxAbs(), verdict(ok));
    return ok;
  }

  private static String verdict(boolean ok) {
    return ok ? "ok" : "OVER";
  }

  private static float[] readReference(String flag, Path file, int[] shape) {
    NpyArray a = AttentionInputs.readArray(flag, file);
    if (!a.dtype().isFloat() || !Arrays.equals(a.shape(), shape)) {
      throw new BadInputException(
          flag
              + " "
              + file
              + ": expected a float array of shape "
              + Arrays.toString(shape)
              + ", found "
              + a.dtype().descr()
              + " "
              + Arrays.toString(a.shape()));
    }
    return a.toFloatArray();
  }
}
