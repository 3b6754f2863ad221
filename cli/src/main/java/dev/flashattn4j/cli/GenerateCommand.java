package dev.flashattn4j.cli;

import dev.flashattn4j.model.Model;
import dev.flashattn4j.model.ModelOptions;
import dev.flashattn4j.model.Sampler;
import dev.flashattn4j.model.Session;
import dev.flashattn4j.model.StepTimings;
import dev.flashattn4j.model.TextStream;
import dev.flashattn4j.model.WeightFormat;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./flashattn generate}: text from a Hugging Face checkpoint of the Llama family, through
 * the model module. The prompt is prefilled in one pass (the library's forward kernel), then each
 * new token is one decoding step on the paged KV cache; the text streams to standard output as it
 * is produced, and the speeds go to standard error at the end.
 */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description =
        "Generate text with a Llama, Mistral, Qwen2 or Gemma 2 checkpoint (a Hugging Face model"
            + " directory: config.json, model.safetensors, tokenizer.json). Greedy unless"
            + " --temperature is above 0. The prompt and the text stream to standard output; the"
            + " prefill and decode speeds follow on standard error.")
final class GenerateCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "the model directory")
  Path model;

  @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
  PromptSource source;

  /** The prompt: on the command line, from standard input ("-"), or from a file; UTF-8 read. */
  static final class PromptSource {
    @Option(
        names = "--prompt",
        required = true,
        description = "the prompt text; - reads it from standard input (as UTF-8)")
    String text;

    @Option(
        names = "--prompt-file",
        required = true,
        paramLabel = "FILE",
        description = "read the prompt from this file, as UTF-8 whatever the locale")
    Path file;
  }

  @Option(
      names = "--max-new-tokens",
      description = "tokens to generate at most (default: ${DEFAULT-VALUE}); stops at EOS",
      defaultValue = "64")
  int maxNewTokens;

  @Option(
      names = "--temperature",
      description = "sampling temperature; 0 is greedy (default: ${DEFAULT-VALUE})",
      defaultValue = "0")
  float temperature;

  @Option(
      names = "--top-p",
      description =
          "nucleus sampling: the smallest set of tokens of this mass (default: ${DEFAULT-VALUE})",
      defaultValue = "1")
  float topP;

  @Option(
      names = "--seed",
      description = "seed of the sampler (default: ${DEFAULT-VALUE})",
      defaultValue = "0")
  long seed;

  @Option(names = "--threads", description = "threads (default: all cores)")
  Integer threads;

  @Option(
      names = "--truncate-prompt",
      description =
          "when the prompt and --max-new-tokens need more positions than the model has, drop the"
              + " prompt's oldest tokens (a note says how many) instead of refusing")
  boolean truncatePrompt;

  @Option(
      names = "--weights",
      description =
          "weights in memory: as-stored (bf16 stays bf16), float32, bfloat16, q8_0 (blocks of 32"
              + " int8 and a scale, as GGML's) (default: ${DEFAULT-VALUE})",
      defaultValue = "as-stored")
  String weights;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (maxNewTokens < 0) {
      throw new BadInputException("--max-new-tokens must be ≥ 0, not " + maxNewTokens);
    }
    if (!(temperature >= 0) || Float.isInfinite(temperature)) {
      throw new BadInputException("--temperature must be ≥ 0, not " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new BadInputException("--top-p must be in (0, 1], not " + topP);
    }
    int t =
        threads == null
            ? Runtime.getRuntime().availableProcessors()
            : ThreadCount.check("--threads", threads);
    String prompt = prompt();
    ModelOptions options =
        ModelOptions.defaults().withThreads(t).withWeights(weightFormat(weights));
    try (Model m = load(model, options)) {
      int[] ids = m.tokenizer().encode(prompt, true);
      // in long: a prompt and 2^31 − 1 new tokens must be refused, not wrap around
      long positions = (long) ids.length + maxNewTokens;
      int max = m.config().maxPositions();
      if (positions > max && truncatePrompt && maxNewTokens < max) {
        // keep the prompt's last tokens (the oldest go, as truncation_side="left" does)
        int keep = max - maxNewTokens;
        spec.commandLine()
            .getErr()
            .printf(
                "note: the prompt's %d tokens and %d new ones need %d positions; the model has %d:"
                    + " the prompt's first %d tokens are dropped%n",
                ids.length, maxNewTokens, positions, max, ids.length - keep);
        ids = java.util.Arrays.copyOfRange(ids, ids.length - keep, ids.length);
        prompt = m.tokenizer().decode(ids, false);
        positions = (long) ids.length + maxNewTokens;
      }
      if (positions > max) {
        throw new BadInputException(
            "the prompt's "
                + ids.length
                + " tokens and --max-new-tokens "
                + maxNewTokens
                + " need "
                + positions
                + " positions; the model has "
                + max
                + " (max_position_embeddings in config.json); --truncate-prompt drops the"
                + " prompt's oldest tokens");
      }
      int room = (int) positions + 1;
      Session session = m.newSession(room);
      out.print(prompt);
      out.flush();
      StepTimings prefill = new StepTimings();
      long t0 = System.nanoTime();
      session.append(ids, prefill);
      long t1 = System.nanoTime();
      TextStream text = new TextStream(m.tokenizer());
      StepTimings decode = new StepTimings();
      int[] produced =
          session.generate(
              maxNewTokens,
              Sampler.of(temperature, topP, seed),
              token -> {
                out.print(text.add(token));
                out.flush();
              },
              decode);
      long t2 = System.nanoTime();
      out.println();
      out.flush();
      double prefillSec = (t1 - t0) / 1e9;
      double decodeSec = (t2 - t1) / 1e9;
      err.printf(
          Locale.ROOT,
          "prefill: %d tokens in %.3f s (%.1f tokens/s) · decode: %d tokens in %.3f s (%.1f"
              + " tokens/s) · %s, %s weights, %d thread(s)%n",
          ids.length,
          prefillSec,
          ids.length / prefillSec,
          produced.length,
          decodeSec,
          produced.length == 0 ? 0 : produced.length / decodeSec,
          m,
          weightsName(m),
          m.threads());
      err.flush();
    }
    return 0;
  }

  static WeightFormat weightFormat(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "as-stored" -> WeightFormat.AS_STORED;
      case "float32", "f32" -> WeightFormat.FLOAT32;
      case "bfloat16", "bf16" -> WeightFormat.BFLOAT16;
      case "q8_0", "q8" -> WeightFormat.Q8_0;
      default ->
          throw new BadInputException(
              "--weights must be as-stored, float32, bfloat16 or q8_0, not " + name);
    };
  }

  /** How a loaded model keeps its weights: q8_0, bf16 or f32. */
  static String weightsName(Model m) {
    return m.hasQ8Weights() ? "q8_0" : m.hasBf16Weights() ? "bf16" : "f32";
  }

  /** Loads a model; a missing file or directory is bad input (one line, exit 2). */
  static Model load(Path dir, ModelOptions options) throws IOException {
    try {
      return Model.load(dir, options);
    } catch (NoSuchFileException e) {
      throw new BadInputException(
          e.getFile() + ": " + (e.getReason() == null ? "no such file" : e.getReason()), e);
    }
  }

  /**
   * The prompt's text. From a file or standard input it is decoded as UTF-8 whatever the locale
   * (under LANG=C the JVM turns a command line's non-ASCII characters into U+FFFD before main runs:
   * issue 19), strictly: bytes that are not UTF-8 are refused, not replaced.
   */
  private String prompt() throws IOException {
    if (source.file == null && !"-".equals(source.text)) {
      String charset = System.getProperty("sun.jnu.encoding", "UTF-8");
      if (source.text.indexOf('\uFFFD') >= 0 && !charset.equalsIgnoreCase("UTF-8")) {
        // the JVM decoded the command line with a locale that is not UTF-8 (java run directly
        // under LANG=C; the launcher avoids it): the characters are already lost
        throw new BadInputException(
            "the prompt has characters the locale's character set ("
                + charset
                + ") could not read: run with LC_ALL=C.UTF-8, or give the prompt with"
                + " --prompt-file or --prompt - (read as UTF-8)");
      }
      return source.text;
    }
    byte[] bytes;
    String from;
    if (source.file != null) {
      if (!Files.exists(source.file)) {
        throw new BadInputException("--prompt-file " + source.file + ": no such file");
      }
      if (!Files.isRegularFile(source.file)) {
        // a FIFO would block forever, a device could be endless, a folder cannot be read
        throw new BadInputException("--prompt-file " + source.file + " is not a regular file");
      }
      bytes = Files.readAllBytes(source.file);
      from = "--prompt-file " + source.file;
    } else {
      bytes = System.in.readAllBytes();
      from = "standard input";
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new BadInputException("the prompt from " + from + " is not valid UTF-8");
    }
  }
}
