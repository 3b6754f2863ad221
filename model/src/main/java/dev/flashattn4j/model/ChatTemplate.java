package dev.flashattn4j.model;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * A model's chat template: the Jinja template of {@code tokenizer_config.json} (or {@code
 * chat_template.jinja}) that turns a conversation into the prompt the model was trained on,
 * rendered as transformers' {@code apply_chat_template} renders it: Jinja with {@code trim_blocks}
 * and {@code lstrip_blocks}, the variables {@code messages}, {@code add_generation_prompt}, {@code
 * bos_token}, {@code eos_token} (and any the caller adds, such as {@code tools}), the functions
 * {@code raise_exception} and {@code strftime_now}, and {@code tojson} as Python's {@code
 * json.dumps} writes. The engine is HubSpot's Jinjava; Python's string methods that templates call
 * ({@code startswith}, {@code endswith}, {@code upper}, {@code lower}, {@code strip}, {@code
 * lstrip}, {@code rstrip}, {@code split}, {@code replace}, {@code title}) work on strings as in
 * Python.
 *
 * <p>The rendered text already holds the special tokens the template writes (a BOS token among
 * them): encode it with {@code addSpecialTokens = false}, as transformers does.
 *
 * <p>Immutable and thread-safe: renders may run at once from many threads.
 */
public final class ChatTemplate {

  /** One message of a conversation: a role ({@code system}, {@code user}, {@code assistant}…). */
  public record Message(String role, String content) {
    public Message {
      if (role == null || content == null) {
        throw new IllegalArgumentException("a message needs a role and a content");
      }
    }
  }

  private final String source;
  private final String bosToken;
  private final String eosToken;
  private final Jinjava jinjava;

  private ChatTemplate(String source, String bosToken, String eosToken) {
    this.source = source;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    JinjavaConfig defaults = JinjavaConfig.newBuilder().build();
    CompositeELResolver resolver = new CompositeELResolver();
    resolver.add(new PythonStrings());
    resolver.add(defaults.getElResolver());
    JinjavaConfig config =
        JinjavaConfig.newBuilder()
            .withTrimBlocks(true)
            .withLstripBlocks(true)
            .withElResolver(resolver)
            .withFailOnUnknownTokens(false)
            .build();
    this.jinjava = new Jinjava(config);
    jinjava
        .getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    jinjava
        .getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "strftime_now", ChatTemplate.class, "strftimeNow", String.class));
    jinjava.getGlobalContext().registerFilter(new ToJson());
  }

  /**
   * A template from its source.
   *
   * @param bosToken the text of the BOS token ({@code bos_token}), or null
   * @param eosToken the text of the EOS token ({@code eos_token}), or null
   */
  public static ChatTemplate of(String source, String bosToken, String eosToken) {
    if (source == null || source.isBlank()) {
      throw new IllegalArgumentException("a chat template must not be empty");
    }
    return new ChatTemplate(
        source, bosToken == null ? "" : bosToken, eosToken == null ? "" : eosToken);
  }

  /**
   * The chat template of a model directory: {@code chat_template.jinja} when present, else the
   * {@code chat_template} of {@code tokenizer_config.json} (a string, or a list of named templates,
   * of which the one named {@code default}); empty when the model has none.
   *
   * @throws ModelFormatException when {@code tokenizer_config.json} is not JSON or its template is
   *     not a string or a list of named ones
   */
  public static Optional<ChatTemplate> load(Path dir) throws IOException {
    Path configFile = dir.resolve("tokenizer_config.json");
    JsonNode config = null;
    if (Files.isRegularFile(configFile)) {
      try {
        config = new ObjectMapper().readTree(configFile.toFile());
      } catch (IOException e) {
        throw new ModelFormatException(configFile, "not JSON (" + firstLine(e) + ")");
      }
    }
    String bos = config == null ? null : tokenText(config.get("bos_token"));
    String eos = config == null ? null : tokenText(config.get("eos_token"));
    Path jinja = dir.resolve("chat_template.jinja");
    if (Files.isRegularFile(jinja)) {
      return Optional.of(of(Files.readString(jinja, StandardCharsets.UTF_8), bos, eos));
    }
    JsonNode t = config == null ? null : config.get("chat_template");
    if (t == null || t.isNull()) {
      return Optional.empty();
    }
    if (t.isTextual()) {
      return Optional.of(of(t.asText(), bos, eos));
    }
    if (t.isArray()) {
      for (JsonNode named : t) {
        if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
          return Optional.of(of(named.get("template").asText(), bos, eos));
        }
      }
      throw new ModelFormatException(configFile, "chat_template has no template named default");
    }
    throw new ModelFormatException(
        configFile, "chat_template must be a string or a list of named templates");
  }

  /** The text of a special token: a string, or an AddedToken object's content. */
  private static String tokenText(JsonNode token) {
    if (token == null || token.isNull()) {
      return null;
    }
    if (token.isTextual()) {
      return token.asText();
    }
    JsonNode content = token.get("content");
    return content != null && content.isTextual() ? content.asText() : null;
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  /** The template's source. */
  public String source() {
    return source;
  }

  /** As {@link #render(List, boolean, Map)} with messages of a role and a content each. */
  public String render(List<Message> messages, boolean addGenerationPrompt) {
    if (messages == null) {
      throw new IllegalArgumentException("messages must not be null");
    }
    List<Map<String, Object>> list = new ArrayList<>();
    for (Message m : messages) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("role", m.role());
      map.put("content", m.content());
      list.add(map);
    }
    return render(list, addGenerationPrompt, Map.of());
  }

  /**
   * Renders a conversation.
   *
   * @param messages the messages, each a map (role, content, and whatever else the template reads:
   *     name, tool_calls…)
   * @param addGenerationPrompt end with the start of the assistant's turn
   * @param variables more variables (tools, documents, date_string…)
   * @return the prompt's text
   * @throws IllegalArgumentException when the template raises an exception (its message: "roles
   *     must alternate…") or cannot be rendered
   */
  public String render(
      List<? extends Map<String, ?>> messages,
      boolean addGenerationPrompt,
      Map<String, ?> variables) {
    if (messages == null || variables == null) {
      throw new IllegalArgumentException("messages and variables must not be null");
    }
    Map<String, Object> context = new HashMap<>(variables);
    context.put("messages", messages);
    context.put("add_generation_prompt", addGenerationPrompt);
    context.put("bos_token", bosToken);
    context.put("eos_token", eosToken);
    RenderResult result;
    try {
      result = jinjava.renderForResult(source, context);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("the chat template failed: " + reason(e), e);
    }
    for (TemplateError error : result.getErrors()) {
      if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
        Throwable cause = error.getException();
        String why = error.getMessage();
        for (Throwable c = cause; c != null; c = c.getCause()) {
          if (c instanceof TemplateRaised) {
            throw new IllegalArgumentException(c.getMessage(), c);
          }
        }
        throw new IllegalArgumentException(
            "the chat template failed at line " + error.getLineno() + ": " + why);
      }
    }
    return result.getOutput();
  }

  private static String reason(Throwable e) {
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  /** What a template's {@code raise_exception(message)} throws. */
  static final class TemplateRaised extends RuntimeException {
    TemplateRaised(String message) {
      super(message, null, false, false);
    }
  }

  /** {@code raise_exception(message)}: the template refuses the conversation. */
  public static String raiseException(String message) {
    throw new TemplateRaised(message);
  }

  /** {@code strftime_now(format)}: today's date in a C strftime format (the common directives). */
  public static String strftimeNow(String format) {
    LocalDate today = LocalDate.now();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 == format.length()) {
        out.append(c);
        continue;
      }
      char d = format.charAt(++i);
      String pattern =
          switch (d) {
            case 'd' -> "dd";
            case 'm' -> "MM";
            case 'Y' -> "yyyy";
            case 'y' -> "yy";
            case 'b' -> "MMM";
            case 'B' -> "MMMM";
            case 'a' -> "EEE";
            case 'A' -> "EEEE";
            case 'j' -> "DDD";
            default -> null;
          };
      if (pattern == null) {
        out.append(d == '%' ? "%" : "%" + d);
      } else {
        out.append(today.format(DateTimeFormatter.ofPattern(pattern, Locale.ROOT)));
      }
    }
    return out.toString();
  }

  /** Python's {@code str} methods on strings, as templates written for Jinja2 call them. */
  static final class PythonStrings extends ELResolver {

    @Override
    public Object invoke(
        ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
      if (!(base instanceof String s) || !(method instanceof String name)) {
        return null;
      }
      Object[] p = params == null ? new Object[0] : params;
      Object result = call(s, name, p);
      if (result != NOT_A_METHOD) {
        context.setPropertyResolved(true);
      }
      return result == NOT_A_METHOD ? null : result;
    }

    private static final Object NOT_A_METHOD = new Object();

    private static Object call(String s, String name, Object[] p) {
      String a0 = p.length > 0 && p[0] != null ? p[0].toString() : null;
      return switch (name + "/" + p.length) {
        case "startswith/1" -> s.startsWith(a0);
        case "endswith/1" -> s.endsWith(a0);
        case "upper/0" -> s.toUpperCase(Locale.ROOT);
        case "lower/0" -> s.toLowerCase(Locale.ROOT);
        case "strip/0" -> s.strip();
        case "lstrip/0" -> s.stripLeading();
        case "rstrip/0" -> s.stripTrailing();
        case "strip/1" -> stripChars(stripChars(s, a0, true), a0, false);
        case "lstrip/1" -> stripChars(s, a0, true);
        case "rstrip/1" -> stripChars(s, a0, false);
        case "split/0" -> List.of(s.strip().isEmpty() ? new String[0] : s.strip().split("\\s+"));
        case "split/1" -> List.of(s.split(java.util.regex.Pattern.quote(a0), -1));
        case "replace/2" -> s.replace(a0, String.valueOf(p[1]));
        case "title/0" -> title(s);
        case "capitalize/0" ->
            s.isEmpty()
                ? s
                : s.substring(0, 1).toUpperCase(Locale.ROOT)
                    + s.substring(1).toLowerCase(Locale.ROOT);
        case "count/1" ->
            (long)
                (s.isEmpty() || a0.isEmpty()
                    ? 0
                    : s.split(java.util.regex.Pattern.quote(a0), -1).length - 1);
        case "find/1" -> (long) s.indexOf(a0);
        default -> NOT_A_METHOD;
      };
    }

    private static String stripChars(String s, String chars, boolean leading) {
      int from = 0;
      int to = s.length();
      if (leading) {
        while (from < to && chars.indexOf(s.charAt(from)) >= 0) {
          from++;
        }
      } else {
        while (to > from && chars.indexOf(s.charAt(to - 1)) >= 0) {
          to--;
        }
      }
      return s.substring(from, to);
    }

    private static String title(String s) {
      StringBuilder b = new StringBuilder(s.length());
      boolean start = true;
      for (char c : s.toCharArray()) {
        b.append(start ? Character.toUpperCase(c) : Character.toLowerCase(c));
        start = !Character.isLetter(c);
      }
      return b.toString();
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
      return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
      return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
      return true;
    }

    @Override
    public java.util.Iterator<java.beans.FeatureDescriptor> getFeatureDescriptors(
        ELContext context, Object base) {
      return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
      return null;
    }
  }

  /**
   * {@code tojson}: Python's {@code json.dumps(x, ensure_ascii=False)} (", " and ": " between
   * items), or with {@code indent=n}, as transformers' templates get it.
   */
  static final class ToJson implements Filter {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String getName() {
      return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
      return filter(var, interpreter, args, Map.of());
    }

    @Override
    public Object filter(
        Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
      Object indentArg = kwargs.get("indent");
      if (indentArg == null && args.length > 0) {
        indentArg = args[0];
      }
      int indent = indentArg == null ? -1 : Integer.parseInt(indentArg.toString());
      try {
        StringWriter out = new StringWriter();
        JsonGenerator g = JSON.getFactory().createGenerator(out);
        if (indent < 0) {
          g.setPrettyPrinter(new PythonCompact());
        } else {
          String pad = " ".repeat(indent);
          DefaultPrettyPrinter pp =
              new DefaultPrettyPrinter(
                      Separators.createDefaultInstance()
                          .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                  .withObjectIndenter(
                      new com.fasterxml.jackson.core.util.DefaultIndenter(pad, "\n"));
          pp.indentArraysWith(new com.fasterxml.jackson.core.util.DefaultIndenter(pad, "\n"));
          g.setPrettyPrinter(pp);
        }
        JSON.writeValue(g, var);
        return out.toString();
      } catch (IOException e) {
        throw new IllegalArgumentException("tojson: " + e.getMessage(), e);
      }
    }
  }

  /** Python's default separators: ", " between items, ": " after keys, nothing else. */
  static final class PythonCompact extends com.fasterxml.jackson.core.util.MinimalPrettyPrinter {
    @Override
    public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
      g.writeRaw(": ");
    }

    @Override
    public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
      g.writeRaw(", ");
    }

    @Override
    public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
      g.writeRaw(", ");
    }
  }
}
