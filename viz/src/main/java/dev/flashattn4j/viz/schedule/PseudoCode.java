package dev.flashattn4j.viz.schedule;

import java.util.List;

/**
 * The pseudo-code a schedule follows, line by line, as its paper prints it (numbered from 1).
 *
 * @param name where it comes from
 * @param lines the lines; line k is {@code lines.get(k - 1)}, indented with two spaces per level
 * @param opening the lines before the loops (the first frame)
 * @param closing the lines after the loops (the last frame)
 */
public record PseudoCode(
    String name, List<String> lines, List<Integer> opening, List<Integer> closing) {

  /** Algorithm 1 of Dao et al. 2022, "FlashAttention" (the forward pass). */
  public static final PseudoCode ALGORITHM_1 =
      new PseudoCode(
          "FlashAttention (Dao et al. 2022), Algorithm 1",
          List.of(
              "Set block sizes B_c = ⌈M/4d⌉, B_r = min(⌈M/4d⌉, d).",
              "Initialize O = (0)_{N×d}, ℓ = (0)_N, m = (−∞)_N in HBM.",
              "Divide Q into T_r = ⌈N/B_r⌉ blocks Q_1..Q_{T_r} of B_r × d each;"
                  + " K, V into T_c = ⌈N/B_c⌉ blocks of B_c × d each.",
              "Divide O into T_r blocks O_i of B_r × d, ℓ into ℓ_i, m into m_i of B_r each.",
              "for 1 ≤ j ≤ T_c do",
              "  Load K_j, V_j from HBM to on-chip SRAM.",
              "  for 1 ≤ i ≤ T_r do",
              "    Load Q_i, O_i, ℓ_i, m_i from HBM to on-chip SRAM.",
              "    On chip, compute S_ij = Q_i K_jᵀ ∈ ℝ^{B_r×B_c}.",
              "    On chip, compute m̃_ij = rowmax(S_ij), P̃_ij = exp(S_ij − m̃_ij),"
                  + " ℓ̃_ij = rowsum(P̃_ij).",
              "    On chip, compute m_i^new = max(m_i, m̃_ij),"
                  + " ℓ_i^new = e^{m_i − m_i^new} ℓ_i + e^{m̃_ij − m_i^new} ℓ̃_ij.",
              "    Write O_i ← diag(ℓ_i^new)⁻¹ (diag(ℓ_i) e^{m_i − m_i^new} O_i"
                  + " + e^{m̃_ij − m_i^new} P̃_ij V_j) to HBM.",
              "    Write ℓ_i ← ℓ_i^new, m_i ← m_i^new to HBM.",
              "  end for",
              "end for",
              "Return O."),
          List.of(1, 2, 3, 4),
          List.of(16));

  /** Algorithm 1 of Dao 2023, "FlashAttention-2" (the forward pass): the fast kernel's order. */
  public static final PseudoCode FLASH_ATTENTION_2 =
      new PseudoCode(
          "FlashAttention-2 (Dao 2023), Algorithm 1",
          List.of(
              "Divide Q into T_r = ⌈N/B_r⌉ blocks Q_i of B_r × d; K, V into T_c = ⌈N/B_c⌉"
                  + " blocks K_j, V_j of B_c × d.",
              "Divide O into T_r blocks O_i of B_r × d, the logsumexp L into T_r blocks L_i.",
              "for 1 ≤ i ≤ T_r do",
              "  Load Q_i from HBM to on-chip SRAM.",
              "  On chip, initialize O_i⁽⁰⁾ = (0), ℓ_i⁽⁰⁾ = (0), m_i⁽⁰⁾ = (−∞).",
              "  for 1 ≤ j ≤ T_c do",
              "    Load K_j, V_j from HBM to on-chip SRAM.",
              "    On chip, compute S_i⁽ʲ⁾ = Q_i K_jᵀ ∈ ℝ^{B_r×B_c}.",
              "    On chip, compute m_i⁽ʲ⁾ = max(m_i⁽ʲ⁻¹⁾, rowmax(S_i⁽ʲ⁾)),"
                  + " P̃_i⁽ʲ⁾ = exp(S_i⁽ʲ⁾ − m_i⁽ʲ⁾),"
                  + " ℓ_i⁽ʲ⁾ = e^{m_i⁽ʲ⁻¹⁾ − m_i⁽ʲ⁾} ℓ_i⁽ʲ⁻¹⁾ + rowsum(P̃_i⁽ʲ⁾).",
              "    On chip, compute O_i⁽ʲ⁾ = diag(e^{m_i⁽ʲ⁻¹⁾ − m_i⁽ʲ⁾}) O_i⁽ʲ⁻¹⁾ + P̃_i⁽ʲ⁾ V_j.",
              "  end for",
              "  On chip, compute O_i = diag(ℓ_i⁽ᵀᶜ⁾)⁻¹ O_i⁽ᵀᶜ⁾.",
              "  On chip, compute L_i = m_i⁽ᵀᶜ⁾ + log(ℓ_i⁽ᵀᶜ⁾).",
              "  Write O_i to HBM as the i-th block of O.",
              "  Write L_i to HBM as the i-th block of L.",
              "end for",
              "Return the output O and the logsumexp L."),
          List.of(1, 2),
          List.of(17));

  public PseudoCode {
    lines = List.copyOf(lines);
    opening = List.copyOf(opening);
    closing = List.copyOf(closing);
  }

  /** Line {@code k} (1-based). */
  public String line(int k) {
    return lines.get(k - 1);
  }
}
