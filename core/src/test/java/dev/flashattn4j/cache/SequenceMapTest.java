package dev.flashattn4j.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The cache's int-keyed table does what a HashMap does, through growth and removals. */
class SequenceMapTest {

  @Test
  void randomPutsAndRemovesMatchAHashMap() {
    SplittableRandom r = new SplittableRandom(11);
    for (int range : new int[] {8, 100, 5_000}) {
      SequenceMap<String> map = new SequenceMap<>();
      Map<Integer, String> want = new HashMap<>();
      for (int op = 0; op < 40_000; op++) {
        // ids mostly ascending, as a cache hands them out, some random ones
        int key = r.nextInt(4) == 0 ? r.nextInt() : r.nextInt(range) + op / 4;
        if (r.nextInt(3) == 0) {
          map.remove(key);
          want.remove(key);
        } else {
          String v = "v" + op;
          map.put(key, v);
          want.put(key, v);
        }
        int probe = r.nextInt(range) + op / 4;
        assertEquals(want.get(probe), map.get(probe));
        assertEquals(want.containsKey(probe), map.containsKey(probe));
      }
      assertEquals(want.size(), map.size());
      for (Map.Entry<Integer, String> e : want.entrySet()) {
        assertEquals(e.getValue(), map.get(e.getKey()));
      }
      assertArrayEquals(
          want.keySet().stream().mapToInt(Integer::intValue).sorted().toArray(), map.keys());
      for (int key : map.keys()) {
        map.remove(key);
      }
      assertEquals(0, map.size());
      assertNull(map.get(0));
    }
  }
}
