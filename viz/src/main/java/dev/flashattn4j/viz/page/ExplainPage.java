package dev.flashattn4j.viz.page;

import dev.flashattn4j.viz.AtomicFiles;
import dev.flashattn4j.viz.schedule.ScheduleTrace;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The step-through page: one self-contained HTML file (inline CSS and JavaScript, the run embedded
 * as JSON, nothing fetched from anywhere) with next / previous / play, a slider, the HBM and SRAM
 * panels with their numbers, the HBM traffic so far and the pseudo-code with the current lines
 * highlighted.
 */
public final class ExplainPage {

  private static final String RESOURCES = "/dev/flashattn4j/viz/page/";

  private ExplainPage() {}

  /** The page for {@code trace}, as HTML text. */
  public static String html(ScheduleTrace trace) {
    String html = resource("explain.html");
    // the data last: nothing in it can be taken for a placeholder
    return html.replace("/*STYLE*/", resource("explain.css"))
        .replace("/*SCRIPT*/", resource("explain.js"))
        .replace("<!--TITLE-->", escape(trace.title()))
        .replace("/*DATA*/", TraceJson.of(trace));
  }

  /** Writes the page to {@code out} (whole or not at all). */
  public static void write(ScheduleTrace trace, Path out) {
    byte[] bytes = html(trace).getBytes(StandardCharsets.UTF_8);
    AtomicFiles.write(out, stream -> stream.write(bytes));
  }

  private static String resource(String name) {
    try (InputStream in = ExplainPage.class.getResourceAsStream(RESOURCES + name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + RESOURCES + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
