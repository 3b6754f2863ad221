package dev.flashattn4j.viz.page;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void writesNumbersStringsListsAndMaps() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("n", 6);
    m.put("big", 10_240L);
    m.put("x", 0.1f);
    m.put("d", 2.5e-8);
    m.put("ok", true);
    m.put("v", new float[] {1f, -0.5f, Float.NEGATIVE_INFINITY});
    m.put("names", List.of("ℓ_i", "m_i^new"));
    m.put("none", null);
    assertEquals(
        "{\"n\":6,\"big\":10240,\"x\":0.1,\"d\":2.5E-8,\"ok\":true,\"v\":[1,-0.5,\"-inf\"],"
            + "\"names\":[\"ℓ_i\",\"m_i^new\"],\"none\":null}",
        Json.write(m));
  }

  @Test
  void nothingInAStringCanEndTheScriptElement() {
    String json = Json.write(List.of("</script><script>alert(1)</script>", "a\"b\\c\nd"));
    assertFalse(json.contains("<"), json);
    assertFalse(json.contains(">"), json);
    assertEquals(
        "[\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\",\"a\\\"b\\\\c\\nd\"]",
        json);
  }

  @Test
  void floatsKeepTheirShortestExactForm() {
    float f = 0.41730002f;
    assertEquals(Float.toString(f), Json.write(f));
    assertEquals(f, Float.parseFloat(Json.write(f)));
  }

  @Test
  void otherObjectsAreAnError() {
    assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
  }
}
