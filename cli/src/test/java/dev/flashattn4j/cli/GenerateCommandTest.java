package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flashattn4j.model.Model;
import dev.flashattn4j.model.ModelOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate on the model module's fixtures: transformers' greedy text, speeds, bad directories. */
class GenerateCommandTest {

  private static final Path LLAMA = Path.of("../model/src/test/resources/models/llama");

  @TempDir Path tmp;

  @Test
  void greedyTextIsTransformersContinuationAndSpeedsFollow() throws IOException {
    JsonNode c =
        new ObjectMapper().readTree(LLAMA.resolve("expected.json").toFile()).get("cases").get(0);
    String prompt = c.get("prompt").asText();
    int[] greedy = new int[16];
    for (int i = 0; i < greedy.length; i++) {
      greedy[i] = c.get("greedy").get(i).asInt();
    }
    String want;
    try (Model m = Model.load(LLAMA, ModelOptions.defaults().withThreads(1))) {
      want = prompt + m.tokenizer().decode(greedy, true);
    }
    Cli r =
        Cli.run(
            "generate",
            "--model",
            LLAMA.toString(),
            "--prompt",
            prompt,
            "--max-new-tokens",
            "16",
            "--threads",
            "1");
    assertEquals(0, r.exit(), r.toString());
    assertEquals(want + System.lineSeparator(), r.out());
    assertTrue(
        r.err()
            .matches(
                "(?s)prefill: 12 tokens in .* tokens/s\\) · decode: 16 tokens in .*"
                    + " tokens/s\\) · llama .*f32 weights, 1 thread\\(s\\)\\R"),
        r.err());
  }

  /** --weights q8_0: the model's matrices in blocks of 32 int8 and a scale, named in the line. */
  @Test
  void q8WeightsAreTakenAndNamed() {
    Cli r =
        Cli.run(
            "generate",
            "--model",
            LLAMA.toString(),
            "--prompt",
            "Hello",
            "--max-new-tokens",
            "4",
            "--threads",
            "1",
            "--weights",
            "q8_0");
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.err().contains("q8_0 weights"), r.err());
    Cli bad = Cli.run("generate", "--model", LLAMA.toString(), "--prompt", "x", "--weights", "q4");
    assertEquals(2, bad.exit());
    assertTrue(bad.err().contains("q8_0"), bad.err());
  }

  @Test
  void samplingIsSeeded() {
    String[] args = {
      "generate",
      "--model",
      LLAMA.toString(),
      "--prompt",
      "Once",
      "--max-new-tokens",
      "10",
      "--temperature",
      "0.8",
      "--top-p",
      "0.9",
      "--seed",
      "7",
      "--weights",
      "bfloat16"
    };
    Cli a = Cli.run(args);
    Cli b = Cli.run(args);
    assertEquals(0, a.exit(), a.toString());
    assertEquals(a.out(), b.out());
    assertTrue(a.err().contains("bf16 weights"), a.err());
  }

  @Test
  void newTokensAreBoundedByTheModelsPositions() {
    // issue 19: 2^31 − 1 overflowed ("room for at least 1 token, not -2147483645"); 10^8 reserved
    // gigabytes of cache before failing. The test model has max_position_embeddings 256.
    for (String n : new String[] {"2147483647", "100000000", "256"}) {
      Cli r =
          Cli.run(
              "generate",
              "--model",
              LLAMA.toString(),
              "--prompt",
              "Once upon a time",
              "--max-new-tokens",
              n,
              "--threads",
              "1");
      assertEquals(2, r.exit(), r.toString());
      assertTrue(r.err().contains("--max-new-tokens " + n), r.err());
      assertTrue(r.err().contains("the model has 256"), r.err());
      assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }
  }

  /**
   * Issue 21: a prompt longer than the model's positions was accepted without a word; it is refused
   * with the way out, and --truncate-prompt keeps its last tokens instead, with a note.
   */
  @Test
  void aPromptBeyondThePositionsIsRefusedOrTruncatedOnRequest() {
    String longPrompt = "once upon a time there was a tiny model ".repeat(40);
    Cli refused =
        Cli.run(
            "generate",
            "--model",
            LLAMA.toString(),
            "--prompt",
            longPrompt,
            "--max-new-tokens",
            "4",
            "--threads",
            "1");
    assertEquals(2, refused.exit(), refused.toString());
    assertTrue(refused.err().contains("--truncate-prompt"), refused.err());
    Cli cut =
        Cli.run(
            "generate",
            "--model",
            LLAMA.toString(),
            "--prompt",
            longPrompt,
            "--max-new-tokens",
            "4",
            "--threads",
            "1",
            "--truncate-prompt");
    assertEquals(0, cut.exit(), cut.toString());
    assertTrue(cut.err().contains("are dropped"), cut.err());
    assertTrue(cut.err().contains("decode: 4 tokens"), cut.err());
  }

  @Test
  void aPromptFromAFileOrStandardInputIsReadAsUtf8() throws IOException {
    // issue 19: no way to give a prompt from a file or standard input; under LANG=C a command
    // line's non-ASCII characters reach the JVM as U+FFFD. The same greedy text three ways.
    String prompt = "Grüße, 世界";
    Path file = Files.createTempFile(tmp, "prompt", ".txt");
    Files.writeString(file, prompt, java.nio.charset.StandardCharsets.UTF_8);
    Cli fromArg =
        Cli.run(
            "generate",
            "--model",
            LLAMA.toString(),
            "--prompt",
            prompt,
            "--max-new-tokens",
            "4",
            "--threads",
            "1");
    Cli fromFile =
        Cli.run(
            "generate",
            "--model",
            LLAMA.toString(),
            "--prompt-file",
            file.toString(),
            "--max-new-tokens",
            "4",
            "--threads",
            "1");
    assertEquals(0, fromFile.exit(), fromFile.toString());
    assertEquals(fromArg.out(), fromFile.out());
    java.io.InputStream stdin = System.in;
    Cli fromStdin;
    try {
      System.setIn(
          new java.io.ByteArrayInputStream(
              prompt.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      fromStdin =
          Cli.run(
              "generate",
              "--model",
              LLAMA.toString(),
              "--prompt",
              "-",
              "--max-new-tokens",
              "4",
              "--threads",
              "1");
    } finally {
      System.setIn(stdin);
    }
    assertEquals(0, fromStdin.exit(), fromStdin.toString());
    assertEquals(fromArg.out(), fromStdin.out());
    // bytes that are not UTF-8, a folder, both sources, neither: one line each
    Files.write(file, new byte[] {'h', 'i', (byte) 0xC3, (byte) 0x28});
    for (Cli r :
        new Cli[] {
          Cli.run("generate", "--model", LLAMA.toString(), "--prompt-file", file.toString()),
          Cli.run("generate", "--model", LLAMA.toString(), "--prompt-file", tmp.toString()),
          Cli.run(
              "generate",
              "--model",
              LLAMA.toString(),
              "--prompt",
              "a",
              "--prompt-file",
              file.toString()),
          Cli.run("generate", "--model", LLAMA.toString())
        }) {
      assertEquals(2, r.exit(), r.toString());
      assertEquals(1, r.err().strip().lines().count(), r.toString());
    }
    assertTrue(
        Cli.run("generate", "--model", LLAMA.toString(), "--prompt-file", file.toString())
            .err()
            .contains("not valid UTF-8"));
  }

  private Path copy() throws IOException {
    Path d = Files.createTempDirectory(tmp, "m");
    for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
      Files.copy(LLAMA.resolve(f), d.resolve(f));
    }
    return d;
  }

  private static void assertBadModel(Path dir, String... fragments) {
    Cli r = Cli.run("generate", "--model", dir.toString(), "--prompt", "hi");
    assertEquals(2, r.exit(), r.toString());
    assertEquals("", r.out(), r.toString());
    assertEquals(1, r.err().lines().count(), r.toString());
    assertTrue(r.err().startsWith("error: "), r.err());
    for (String f : fragments) {
      assertTrue(r.err().contains(f), f + " not in " + r.err());
    }
  }

  @Test
  void badModelDirectoriesAreOneLineAndExit2() throws IOException {
    assertBadModel(tmp.resolve("none"), "none", "no such model directory");
    Path noConfig = copy();
    Files.delete(noConfig.resolve("config.json"));
    assertBadModel(noConfig, "config.json");
    Path noWeights = copy();
    Files.delete(noWeights.resolve("model.safetensors"));
    assertBadModel(noWeights, "model.safetensors");
    Path noTokenizer = copy();
    Files.delete(noTokenizer.resolve("tokenizer.json"));
    assertBadModel(noTokenizer, "tokenizer.json");
    Path truncated = copy();
    byte[] bytes = Files.readAllBytes(truncated.resolve("model.safetensors"));
    Files.write(truncated.resolve("model.safetensors"), java.util.Arrays.copyOf(bytes, 5000));
    assertBadModel(truncated, "model.safetensors", "truncated");
    Path wrongDtype = copy();
    // the header names F32 for the norm; say I32 (same size): the reader accepts, the model not
    int n =
        (int) java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
    String h = new String(bytes, 8, n, java.nio.charset.StandardCharsets.ISO_8859_1);
    assertTrue(h.contains("\"model.norm.weight\":{\"dtype\":\"F32\""), h);
    byte[] changed = bytes.clone();
    int at = h.indexOf("\"model.norm.weight\":{\"dtype\":\"F32\"") + 8 + 30;
    changed[at] = 'I';
    Files.write(wrongDtype.resolve("model.safetensors"), changed);
    assertBadModel(wrongDtype, "model.norm.weight", "i32");
    Path mismatch = copy();
    Path config = mismatch.resolve("config.json");
    Files.writeString(
        config,
        Files.readString(config)
            .replace("\"intermediate_size\": 112", "\"intermediate_size\": 128"));
    assertBadModel(mismatch, "config.json implies", "do not match");
    Cli threads =
        Cli.run("generate", "--model", LLAMA.toString(), "--prompt", "x", "--threads", "0");
    assertEquals(2, threads.exit());
  }

  /**
   * Issue 19: java run directly under LANG=C decodes the command line as ASCII, so a prompt's
   * non-ASCII characters arrive as U+FFFD; that is refused with the way out, never generated from.
   * (The launcher gives the JVM C.UTF-8's character set, so ./flashattn keeps them.)
   */
  @Test
  void aPromptTheLocaleCouldNotReadIsRefused() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // the prompt's bytes are made by the shell's printf, so this test's own locale cannot change
    // them: h, é (0xC3 0xA9) and llo in UTF-8
    ProcessBuilder pb =
        new ProcessBuilder(
            "/bin/sh",
            "-c",
            "exec \"$0\" --add-modules jdk.incubator.vector -cp \"$1\" \"$2\" generate --model"
                + " \"$3\" --max-new-tokens 1 --prompt \"$(printf 'h\\303\\251llo')\"",
            java,
            System.getProperty("java.class.path"),
            Main.class.getName(),
            LLAMA.toString());
    pb.environment().put("LC_ALL", "C");
    pb.environment().put("LANG", "C");
    pb.environment().remove("LC_CTYPE");
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(2, p.waitFor(), out + err);
    assertTrue(err.contains("could not read: run with LC_ALL=C.UTF-8"), err);
  }
}
