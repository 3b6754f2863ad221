package dev.flashattn4j.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.api.Attention;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.ErrorBudget.Check;
import dev.flashattn4j.reference.ErrorBudget.Errors;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.reference.NaiveAttention.Precision;
import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.tensor.NpyArray;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.GoldenCase;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The oracle and the facade against outputs saved from PyTorch's scaled_dot_product_attention.
 *
 * <p>The rule. PyTorch's O is one more float32 implementation of the formula, so it is held to the
 * kernel budget: |O_torch − O_oracle| ≤ tol, where tol = {@link ErrorBudget#tolerance} (twice the
 * plain float32 error on these inputs, plus the floor). Any difference of meaning (scale, causal
 * alignment, GQA head mapping, mask broadcast) moves O by O(1), far above tol, so this pins the
 * oracle's semantics to SDPA's. The kernel under test meets the same budget against the oracle, so
 * kernel and torch agree within {@link ErrorBudget#referenceTolerance}(tol) = 2·tol, which is also
 * what {@code verify --expect} requires. The LSE (computed by the script in float64) is held to the
 * LSE budget against the oracle.
 */
class GoldenTest {

  static List<GoldenCase> cases() {
    return GoldenCase.all();
  }

  @Test
  void theCasesCoverWhatTheIssueAsks() {
    List<String> names = cases().stream().map(GoldenCase::name).toList();
    for (String n :
        List.of(
            "plain",
            "scale",
            "causal_top_left",
            "causal_top_left_nq_lt_nk",
            "causal_bottom_right",
            "gqa_8_2",
            "mqa_8_1",
            "float_mask",
            "bool_mask",
            "nq_1",
            "dv_ne_d",
            "rank2",
            "rank3",
            "float16",
            "float64")) {
      assertTrue(names.contains(n), "missing golden case " + n + " in " + names);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void oracleAndFacadeAgreeWithTorch(GoldenCase c) throws IOException {
    Tensor q = c.readQ();
    Tensor k = c.readK();
    Tensor v = c.readV();
    AttentionOptions opts = c.options();
    NpyArray expected = Npy.read(c.expectedOutput());
    NpyArray expectedLse = Npy.read(c.expectedLse());

    AttentionResult oracle = NaiveAttention.compute(q, k, v, opts, Precision.DOUBLE);
    AttentionResult plain = NaiveAttention.compute(q, k, v, opts, Precision.FLOAT);
    assertArrayEquals(expected.shape(), oracle.output().shape(), c + ": shape of O");
    assertArrayEquals(expectedLse.shape(), oracle.lseShape(), c + ": shape of the LSE");
    Tensor torchOut = expected.toTensor();
    AttentionResult torch = new AttentionResult(torchOut, expectedLse.toFloatArray());

    Check torchCheck = ErrorBudget.check(oracle, plain, ErrorBudget.maxAbs(v.toArray()), torch);
    assertTrue(torchCheck.passed(), c + ": torch against the oracle: " + torchCheck);

    AttentionResult ours = Attention.forward(q, k, v, opts);
    Check ourCheck = ErrorBudget.check(q, k, v, opts, ours);
    assertTrue(ourCheck.passed(), c + ": Attention.forward against the oracle: " + ourCheck);

    double tol = ErrorBudget.referenceTolerance(ourCheck.outputTolerance());
    Errors vsTorch = Errors.of(ours.output(), torchOut);
    assertTrue(vsTorch.maxAbs() <= tol, c + ": |O - O_torch| = " + vsTorch.maxAbs() + " > " + tol);
    Errors lseVsTorch = Errors.of(ours.lse(), expectedLse.toFloatArray());
    double lseTol = ErrorBudget.referenceTolerance(ourCheck.lseTolerance());
    assertTrue(
        lseVsTorch.maxAbs() <= lseTol,
        c + ": |LSE - LSE_torch| = " + lseVsTorch.maxAbs() + " > " + lseTol);
  }

  @Test
  void aSemanticSlipIsFarOverTheBudget() throws IOException {
    GoldenCase c =
        cases().stream().filter(x -> x.name().equals("causal_bottom_right")).findFirst().get();
    Tensor q = c.readQ();
    Tensor k = c.readK();
    Tensor v = c.readV();
    AttentionOptions wrong =
        c.options().toBuilder().causal(dev.flashattn4j.values.Causal.TOP_LEFT).build();
    AttentionResult r = NaiveAttention.compute(q, k, v, wrong);
    Check check = ErrorBudget.check(q, k, v, c.options(), r);
    Errors vsTorch = Errors.of(r.output(), Npy.readTensor(c.expectedOutput()));
    assertTrue(vsTorch.maxAbs() > 100 * check.outputTolerance(), "top-left is not bottom-right");
    assertEquals(false, check.passed());
  }
}
