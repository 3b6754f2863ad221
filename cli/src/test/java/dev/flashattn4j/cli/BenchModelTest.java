package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench --model on the model module's llama fixture: rows for every case, and the CSV. */
class BenchModelTest {

  @TempDir Path tmp;

  @Test
  void prefillAndDecodeRowsForEachThreadCountAndWeightFormat() throws IOException {
    Path csv = tmp.resolve("model.csv");
    Cli r =
        Cli.run(
            "bench",
            "--model",
            "../model/src/test/resources/models/llama",
            "--prompt-tokens",
            "8,20",
            "--context",
            "40",
            "--threads",
            "1",
            "--weights",
            "float32,bfloat16",
            "--iters",
            "1",
            "--csv",
            csv.toString());
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("model: llama"), r.out());
    List<String> lines = Files.readAllLines(csv);
    assertEquals(
        "weights,threads,phase,tokens,tokens_per_s,attention_share,round_spread,disturbed",
        lines.get(0));
    assertTrue(
        r.out().contains("clean run") || r.out().contains("DISTURBED RUN"),
        "the run says whether it was clean: " + r.out());
    assertEquals(7, lines.size(), lines.toString());
    assertTrue(lines.get(1).startsWith("f32,1,prefill,8,"), lines.get(1));
    assertTrue(lines.get(3).startsWith("f32,1,decode,40,"), lines.get(3));
    assertTrue(lines.get(4).startsWith("bf16,1,prefill,8,"), lines.get(4));
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      assertTrue(Double.parseDouble(f[4]) > 0, line);
      double share = Double.parseDouble(f[5]);
      assertTrue(share > 0 && share < 1, line);
      assertTrue(Double.parseDouble(f[6]) >= 0, line);
      assertEquals(Double.parseDouble(f[6]) > 0.10, Boolean.parseBoolean(f[7]), line);
    }
    Cli bad = Cli.run("bench", "--model", tmp.resolve("none").toString(), "--threads", "1");
    assertEquals(2, bad.exit(), bad.toString());
  }
}
