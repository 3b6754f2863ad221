package dev.flashattn4j.viz.page;

import dev.flashattn4j.viz.schedule.BlockWrite;
import dev.flashattn4j.viz.schedule.Grid;
import dev.flashattn4j.viz.schedule.Highlight;
import dev.flashattn4j.viz.schedule.ScheduleStep;
import dev.flashattn4j.viz.schedule.ScheduleTrace;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link ScheduleTrace} as the JSON the step-through page reads. HBM is sent once (the initial
 * arrays) plus each step's writes; the page replays them, as {@link
 * dev.flashattn4j.viz.schedule.HbmState} does.
 */
final class TraceJson {

  private TraceJson() {}

  static String of(ScheduleTrace t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("kernel", t.kernel());
    m.put("title", t.title());
    m.put("note", t.note());
    m.put("n", t.n());
    m.put("d", t.d());
    m.put("sram", t.sram());
    m.put("bc", t.bc());
    m.put("br", t.br());
    m.put("tr", t.tr());
    m.put("tc", t.tc());
    m.put("scale", t.scale());
    m.put(
        "code",
        Map.of(
            "name", t.code().name(),
            "lines", t.code().lines(),
            "opening", t.code().opening(),
            "closing", t.code().closing()));
    m.put("initial", t.initial().stream().map(TraceJson::grid).toList());
    m.put("steps", t.steps().stream().map(TraceJson::step).toList());
    m.put("output", grid(t.output()));
    m.put("reference", grid(t.reference()));
    m.put("maxDifference", t.maxDifference());
    m.put("totalReads", t.totalReads());
    m.put("totalWrites", t.totalWrites());
    m.put("standardReads", t.standardReads());
    m.put("standardWrites", t.standardWrites());
    m.put("mask", t.mask());
    m.put("maskedReads", t.maskedReads());
    m.put("maskedWrites", t.maskedWrites());
    m.put("savedReads", t.savedReads());
    m.put("keyStart", t.keyStart());
    m.put("keyEnd", t.keyEnd());
    return Json.write(m);
  }

  private static Map<String, Object> step(ScheduleStep s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("i", s.i());
    m.put("j", s.j());
    m.put("lines", s.lines());
    m.put("caption", s.caption());
    m.put("highlights", s.highlights().stream().map(TraceJson::highlight).toList());
    m.put("writes", s.writes().stream().map(TraceJson::write).toList());
    m.put("sram", s.sram().stream().map(TraceJson::grid).toList());
    m.put("scores", grid(s.scores()));
    m.put("stats", s.stats().stream().map(TraceJson::grid).toList());
    m.put("reads", s.reads());
    m.put("written", s.written());
    m.put("tile", s.tile().name().toLowerCase(java.util.Locale.ROOT));
    m.put("skipped", s.skipped());
    m.put("saved", s.savedReads());
    return m;
  }

  private static Map<String, Object> grid(Grid g) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", g.name());
    m.put("rows", g.rows());
    m.put("cols", g.cols());
    m.put("values", g.values());
    return m;
  }

  private static Map<String, Object> highlight(Highlight h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("array", h.array());
    m.put("start", h.start());
    m.put("end", h.end());
    m.put("block", h.block().name().toLowerCase(java.util.Locale.ROOT));
    m.put("written", h.written());
    return m;
  }

  private static Map<String, Object> write(BlockWrite w) {
    return Map.of("array", w.array(), "start", w.start(), "block", grid(w.block()));
  }
}
