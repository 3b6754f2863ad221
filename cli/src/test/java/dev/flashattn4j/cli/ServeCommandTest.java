package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/**
 * serve and bench-serve on the command line: bad flags and a busy port are one line and exit 2;
 * bench-serve runs clients against a server of its own and finds every page back.
 */
class ServeCommandTest {

  private static final String LLAMA = "../model/src/test/resources/models/llama";

  @Test
  void badFlagsAndABusyPortAreOneLine() throws IOException {
    String[][] bad = {
      {"serve", "--model", LLAMA, "--port", "70000"},
      {"serve", "--model", LLAMA, "--kv", "int4"},
      {"serve", "--model", LLAMA, "--weights", "int3"},
      {"serve", "--model", LLAMA, "--max-running", "0"},
      {"serve", "--model", LLAMA, "--max-running", "600", "--step-tokens", "512"},
      {"serve", "--model", "no/such/dir"},
      {"bench-serve", "--model", LLAMA, "--clients", "0"},
      {"bench-serve", "--model", LLAMA, "--disconnect", "2"},
      {"bench-serve", "--model", LLAMA, "--seconds", "NaN"},
    };
    for (String[] args : bad) {
      Cli r = Cli.run(args);
      assertEquals(2, r.exit(), String.join(" ", args) + ": " + r);
      assertEquals(1, r.err().strip().lines().count(), r.toString());
    }
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Cli r =
          Cli.run(
              "serve",
              "--model",
              LLAMA,
              "--port",
              String.valueOf(busy.getLocalPort()),
              "--threads",
              "1");
      assertEquals(2, r.exit(), r.toString());
      assertTrue(r.err().contains("cannot listen on"), r.err());
    }
  }

  @Test
  void benchServeFindsEveryResponseWholeAndEveryPageBack() {
    Cli r =
        Cli.run(
            "bench-serve",
            "--model",
            LLAMA,
            "--clients",
            "1,3",
            "--requests",
            "2",
            "--max-tokens",
            "12",
            "--prompt-words",
            "5",
            "--disconnect",
            "0.5",
            "--threads",
            "1");
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("every other page is back"), r.out());
    assertTrue(r.out().matches("(?s).*\\n\\s+3\\s+\\d+\\s+\\d+\\s+0\\s.*"), r.out());
  }
}
