package dev.flashattn4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class StrictJsonTest {

  @Test
  void parsesEveryKindOfValue() {
    Object v =
        StrictJson.parse(
            " {\"a\": [1, -0, 2.5, 1e2, true, false, null], \"b\": {\"c\": \"x\\u00e9\\n\\\"\"},"
                + " \"big\": 99999999999999999999, \"s\": \"\\ud83d\\ude00\"} ");
    Map<?, ?> m = (Map<?, ?>) v;
    assertEquals(List.of("a", "b", "big", "s"), List.copyOf(m.keySet()));
    List<?> a = (List<?>) m.get("a");
    assertEquals(1L, a.get(0));
    assertEquals(0L, a.get(1));
    assertEquals(2.5, a.get(2));
    assertEquals(100.0, a.get(3));
    assertEquals(true, a.get(4));
    assertEquals(StrictJson.NULL, a.get(6));
    assertEquals("x\u00e9\n\"", ((Map<?, ?>) m.get("b")).get("c"));
    assertEquals(1e20, m.get("big"));
    assertEquals("\ud83d\ude00", m.get("s"));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"a\":1,}|expected a key",
        "[1,]|where a value should start",
        "{\"a\":1,\"a\":2}|duplicate key",
        "01|leading zero",
        "-|digit after '-'",
        "1.|digit after '.'",
        "1e|exponent",
        "\"\\x\"|invalid escape",
        "\"\\u12\"|\\u escape",
        "\"\\ud800\"|lone surrogate",
        "\"\\udc00x\"|lone surrogate",
        "tru|where a value should start",
        "{\"a\" 1}|expected ':'",
        "[1 2]|expected ',' or ']'",
        "{} {}|after the value",
        "\"abc|unterminated",
        "// c|where a value should start",
        "NaN|where a value should start",
      })
  void rejectsWhatRfc8259Rejects(String text, String problem) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> StrictJson.parse(text));
    assertTrue(e.getMessage().contains(problem), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"a\u0001\"", "\"tab\there\""})
  void rejectsRawControlCharactersInStrings(String text) {
    assertThrows(IllegalArgumentException.class, () -> StrictJson.parse(text));
  }

  @Test
  void nestingIsBounded() {
    String ok = "[".repeat(StrictJson.MAX_DEPTH) + "]".repeat(StrictJson.MAX_DEPTH);
    StrictJson.parse(ok);
    String deep = "[".repeat(1_000_000);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> StrictJson.parse(deep));
    assertTrue(e.getMessage().contains("nested deeper"), e.getMessage());
  }
}
