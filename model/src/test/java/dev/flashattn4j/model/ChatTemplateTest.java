package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 21: chat templates render what transformers' {@code apply_chat_template} renders (golden
 * texts of scripts/make_chat_fixtures.py): the templates of Llama 3, Qwen2, Gemma 2 and Mistral,
 * and one that calls Python's string methods, namespace() and tojson; a template's raise_exception
 * is an IllegalArgumentException with its message.
 */
class ChatTemplateTest {

  private static final Path FILE = Path.of("src/test/resources/chat/templates.json");

  static Stream<Arguments> renders() throws IOException {
    JsonNode root = new ObjectMapper().readTree(FILE.toFile());
    List<Arguments> out = new ArrayList<>();
    for (JsonNode t : root.get("templates")) {
      int i = 0;
      for (JsonNode r : t.get("renders")) {
        out.add(Arguments.of(t.get("name").asText() + " #" + i++, t, r));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renders")
  void rendersWhatTransformersRenders(String name, JsonNode t, JsonNode r) {
    ChatTemplate template =
        ChatTemplate.of(
            t.get("template").asText(), text(t.get("bos_token")), text(t.get("eos_token")));
    List<Map<String, Object>> messages = new ArrayList<>();
    for (JsonNode m : r.get("messages")) {
      Map<String, Object> map = new LinkedHashMap<>();
      m.properties().forEach(e -> map.put(e.getKey(), e.getValue().asText()));
      messages.add(map);
    }
    boolean gen = r.get("add_generation_prompt").asBoolean();
    if (r.has("error")) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> template.render(messages, gen, Map.of()));
      assertEquals(r.get("error").asText(), e.getMessage());
    } else {
      assertEquals(r.get("text").asText(), template.render(messages, gen, Map.of()));
    }
  }

  private static String text(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText();
  }

  @Test
  void aModelDirectorysTemplateIsFoundWhereTransformersLooks(@TempDir Path dir) throws IOException {
    assertTrue(ChatTemplate.load(dir).isEmpty(), "no tokenizer_config.json: no template");
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"bos_token\": {\"content\": \"<s>\", \"lstrip\": false}, \"eos_token\": \"</s>\","
            + " \"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"},"
            + " {\"name\": \"default\", \"template\": \"{{ bos_token }}{% for m in messages %}"
            + "{{ m.content }}{% endfor %}{{ eos_token }}\"}]}");
    ChatTemplate t = ChatTemplate.load(dir).orElseThrow();
    assertEquals("<s>hi</s>", t.render(List.of(new ChatTemplate.Message("user", "hi")), true));
    Files.writeString(dir.resolve("chat_template.jinja"), "J{{ messages | length }}");
    assertEquals(
        "J1",
        ChatTemplate.load(dir)
            .orElseThrow()
            .render(List.of(new ChatTemplate.Message("user", "x")), false),
        "chat_template.jinja comes first");
    Files.delete(dir.resolve("chat_template.jinja"));
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": 3}");
    assertThrows(ModelFormatException.class, () -> ChatTemplate.load(dir));
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": ");
    assertThrows(ModelFormatException.class, () -> ChatTemplate.load(dir));
  }

  @Test
  void aBrokenTemplateIsAnIllegalArgumentExceptionWithItsLine() {
    ChatTemplate t =
        ChatTemplate.of("ok\n{% for m in messages %}{{ m.content | nosuchfilter(", null, null);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> t.render(List.of(new ChatTemplate.Message("user", "x")), true));
    assertTrue(e.getMessage().startsWith("the chat template failed"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ChatTemplate.of(" ", null, null));
    assertThrows(IllegalArgumentException.class, () -> new ChatTemplate.Message(null, "x"));
  }

  @Test
  void strftimeNowWritesTodaysDate() {
    String year = String.valueOf(java.time.LocalDate.now().getYear());
    assertTrue(ChatTemplate.strftimeNow("%d %b %Y").endsWith(year));
    assertEquals("100%", ChatTemplate.strftimeNow("100%%"));
  }
}
