package dev.flashattn4j.cli.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.flashattn4j.viz.AtomicFiles;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The result of one {@code flashattn bench} run: the machine, the measured FMA peaks and the rows,
 * as a table for people and as CSV for scripts and charts.
 *
 * @param machine what it ran on
 * @param peaks the FMA peak in GFLOP/s for each thread count, measured at the start of the run
 * @param endPeaks the same measured at the end: more than {@link #PEAK_DRIFT} apart from the start,
 *     the run was disturbed
 * @param sustained the FMA rate all threads of each count got together at the end of the run (below
 *     the peak when other processes share the cores)
 * @param rows one per timed case, in the order they ran
 * @param skipped one line per case left out, saying why
 */
public record BenchReport(
    Machine machine,
    Map<Integer, Double> peaks,
    Map<Integer, Double> endPeaks,
    Map<Integer, Double> sustained,
    List<BenchRow> rows,
    List<String> skipped) {

  /** The CSV header: the columns of {@link #writeCsv}. */
  public static final String CSV_HEADER =
      "kernel,threads,batch,heads,n,d,causal,median_ms,min_ms,max_ms,gflop_per_s,"
          + "fma_peak_gflop_per_s,pct_of_peak,extra_bytes,round_spread,disturbed";

  /** Start and end FMA rates further apart than this (15%) mark the run as disturbed. */
  public static final double PEAK_DRIFT = 0.15;

  /**
   * Why the run's figures are not clean, or null: the FMA rate moved between the start and the end,
   * or some case's rounds disagreed even when run twice.
   */
  public String disturbance() {
    List<String> why = new java.util.ArrayList<>();
    for (Map.Entry<Integer, Double> e : peaks.entrySet()) {
      double a = e.getValue();
      double b = endPeaks.getOrDefault(e.getKey(), a);
      if (Math.abs(a - b) > PEAK_DRIFT * Math.max(a, b)) {
        why.add(
            String.format(
                Locale.ROOT,
                "the FMA rate of %d thread(s) went from %.1f to %.1f GFLOP/s",
                e.getKey(),
                a,
                b));
      }
    }
    long bad = rows.stream().filter(BenchRow::disturbed).count();
    if (bad > 0) {
      why.add(
          bad
              + " case(s) whose three rounds' medians spread more than "
              + Math.round(100 * BenchRow.DISTURBED)
              + "% even when run twice (marked *)");
    }
    return why.isEmpty() ? null : String.join("; ", why);
  }

  /** Prints the header lines and the table. */
  public void print(PrintWriter out) {
    out.println(machine.describe());
    StringBuilder p =
        new StringBuilder("FMA peak (Vector API FMA loop), at the start and the end:");
    peaks.forEach(
        (t, g) ->
            p.append(
                String.format(
                    Locale.ROOT,
                    " %d thread%s %.1f and %.1f GFLOP/s;",
                    t,
                    t == 1 ? "" : "s",
                    g,
                    endPeaks.getOrDefault(t, g))));
    out.println(p.substring(0, p.length() - 1));
    StringBuilder q =
        new StringBuilder("FMA rate the machine gave at the end (all threads at once):");
    sustained.forEach(
        (t, g) ->
            q.append(
                String.format(Locale.ROOT, " %d thread%s %.1f GFLOP/s;", t, t == 1 ? "" : "s", g)));
    out.println(q.substring(0, q.length() - 1));
    out.printf(
        Locale.ROOT,
        "%-9s %7s %3s %3s %7s %4s %-12s %11s %7s %9s %7s %12s%n",
        "kernel",
        "threads",
        "B",
        "H",
        "N",
        "d",
        "causal",
        "median ms",
        "rounds",
        "GFLOP/s",
        "% peak",
        "extra mem");
    for (BenchRow r : rows) {
      BenchCase c = r.benchCase();
      out.printf(
          Locale.ROOT,
          "%-9s %7d %3d %3d %7d %4d %-12s %11.2f %6.1f%%%s %9.1f %6.1f%% %12s%n",
          c.kernel(),
          c.threads(),
          c.batch(),
          c.heads(),
          c.n(),
          c.d(),
          c.causalName(),
          r.medianMs(),
          100 * r.roundSpread(),
          r.disturbed() ? "*" : " ",
          r.gflops(),
          r.percentOfPeak(),
          bytes(r.extraBytes()));
    }
    for (String s : skipped) {
      out.println("skipped: " + s);
    }
    out.println(
        "extra mem: the fast kernel's per-thread workspaces (all threads); for paper and naive,"
            + " what one call allocates beyond O and the LSE. rounds: how far apart the medians of"
            + " the three rounds of timed calls are; % peak divides by the better FMA rate.");
    String disturbed = disturbance();
    out.println(
        disturbed == null
            ? "clean run: the FMA rate held from start to end and every case's rounds agreed"
            : "DISTURBED RUN, figures not clean: " + disturbed);
    out.flush();
  }

  /**
   * Writes the rows as CSV, whole or not at all ({@link AtomicFiles}: a temp file, then a rename;
   * the file is rw-r--r--).
   */
  public void writeCsv(Path file) throws IOException {
    try {
      AtomicFiles.write(file, stream -> writeCsv(new OutputStreamWriter(stream, UTF_8)));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private void writeCsv(Writer w) throws IOException {
    w.write(CSV_HEADER + "\n");
    for (BenchRow r : rows) {
      BenchCase c = r.benchCase();
      w.write(
          String.format(
              Locale.ROOT,
              "%s,%d,%d,%d,%d,%d,%s,%.4f,%.4f,%.4f,%.3f,%.3f,%.2f,%d,%.4f,%b%n",
              c.kernel(),
              c.threads(),
              c.batch(),
              c.heads(),
              c.n(),
              c.d(),
              c.causalName(),
              r.medianMs(),
              r.minMs(),
              r.maxMs(),
              r.gflops(),
              r.peakGflops(),
              r.percentOfPeak(),
              r.extraBytes(),
              r.roundSpread(),
              r.disturbed()));
    }
    w.flush();
  }

  /** 1.5 KiB, 12.0 MiB and alike. */
  static String bytes(long b) {
    if (b < 1024) {
      return b + " B";
    }
    if (b < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
    }
    if (b < 1024L * 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f MiB", b / 1024.0 / 1024);
    }
    return String.format(Locale.ROOT, "%.2f GiB", b / 1024.0 / 1024 / 1024);
  }
}
