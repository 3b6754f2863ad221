package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class SuggestTest {

  private static final List<String> COMMANDS =
      List.of("demo", "attend", "grad", "verify", "io", "bench", "animate", "explain");

  @Test
  void distancesCountInsertionsDeletionsSubstitutionsAndSwaps() {
    assertEquals(0, Suggest.distance("attend", "attend"));
    assertEquals(1, Suggest.distance("atend", "attend"));
    assertEquals(1, Suggest.distance("attendd", "attend"));
    assertEquals(1, Suggest.distance("attenf", "attend"));
    assertEquals(1, Suggest.distance("atetnd", "attend"));
    assertEquals(3, Suggest.distance("", "abc"));
    assertEquals(3, Suggest.distance("kitten", "sitting"));
  }

  @Test
  void theClosestCommandWithinATyposDistance() {
    assertEquals("attend", Suggest.closest("atend", COMMANDS));
    assertEquals("demo", Suggest.closest("dmeo", COMMANDS));
    assertEquals("verify", Suggest.closest("verfy", COMMANDS));
    assertEquals("io", Suggest.closest("oi", COMMANDS));
    assertNull(Suggest.closest("train", COMMANDS));
    assertNull(Suggest.closest("x", COMMANDS));
  }
}
