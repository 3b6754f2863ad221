package dev.flashattn4j.viz.schedule;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The arrays in HBM as a schedule runs: the initial arrays, then each step's {@link BlockWrite}s
 * applied in order.
 */
public final class HbmState {

  private final Map<String, Grid> arrays = new LinkedHashMap<>();

  public HbmState(List<Grid> initial) {
    for (Grid g : initial) {
      arrays.put(g.name(), g);
    }
  }

  /** The state after all steps up to and including {@code step} (−1: before the loops). */
  public static HbmState after(ScheduleTrace trace, int step) {
    HbmState s = new HbmState(trace.initial());
    for (int k = 0; k <= step; k++) {
      s.apply(trace.steps().get(k));
    }
    return s;
  }

  /** Applies one step's writes. */
  public void apply(ScheduleStep step) {
    for (BlockWrite w : step.writes()) {
      Grid g = arrays.get(w.array());
      if (g == null) {
        throw new IllegalArgumentException("no HBM array " + w.array());
      }
      arrays.put(w.array(), g.with(w.start(), w.block()));
    }
  }

  public Grid get(String name) {
    return arrays.get(name);
  }

  /** The arrays in drawing order. */
  public List<Grid> arrays() {
    return List.copyOf(arrays.values());
  }
}
