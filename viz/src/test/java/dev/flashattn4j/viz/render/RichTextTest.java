package dev.flashattn4j.viz.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class RichTextTest {

  /** (text, scale, rise): base 1, a script 0.72, a script's script 0.5184. */
  private static List<String> runs(String text) {
    return RichText.runs(text).stream()
        .map(
            r ->
                r.text()
                    + "@"
                    + Math.round(r.scale() * 100)
                    + (r.rise() > 0 ? "^" : r.rise() < 0 ? "_" : ""))
        .toList();
  }

  @Test
  void scriptsAreGroupsOrRunsOfLettersAndDigits() {
    assertEquals(List.of("m@100", "i@72_", "new@72^"), runs("m_i^new"));
    assertEquals(List.of("S@100", "ij@72_", "),@100"), runs("S_ij),"));
    assertEquals(List.of("m@100", "i@72_", "(j−1)@72^"), runs("m_i^(j−1)"));
    assertEquals(List.of("(0)@100", "N×d@72_"), runs("(0)_{N×d}"));
    assertEquals(List.of("K@100", "j@72_", "ᵀ.@100"), runs("K_jᵀ."));
    assertEquals(List.of("a_@100"), runs("a_"));
  }

  /** The pseudo-code's e^{m_i − m_i^new} once showed raw: a superscript holding subscripts. */
  @Test
  void scriptsNest() {
    List<RichText.Run> r = RichText.runs("e^{m_i − m_i^new}");
    assertEquals("emi − minew", RichText.plain("e^{m_i − m_i^new}"));
    assertEquals(6, r.size());
    assertEquals(1.0, r.get(0).scale());
    assertEquals(0.72, r.get(1).scale(), 1e-9);
    assertTrue(r.get(1).rise() > 0, "m is raised");
    assertEquals(0.72 * 0.72, r.get(2).scale(), 1e-9);
    assertTrue(r.get(2).rise() < r.get(1).rise(), "i sits below the raised m");
    assertTrue(r.get(5).rise() > r.get(1).rise(), "new is raised above the raised m");
  }
}
