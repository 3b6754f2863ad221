package dev.flashattn4j.viz.page;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.flashattn4j.values.Causal;
import dev.flashattn4j.values.Window;
import dev.flashattn4j.viz.render.NumberText;
import dev.flashattn4j.viz.schedule.FastSchedule;
import dev.flashattn4j.viz.schedule.Grid;
import dev.flashattn4j.viz.schedule.HbmState;
import dev.flashattn4j.viz.schedule.Highlight;
import dev.flashattn4j.viz.schedule.PaperSchedule;
import dev.flashattn4j.viz.schedule.ScheduleSetup;
import dev.flashattn4j.viz.schedule.ScheduleStep;
import dev.flashattn4j.viz.schedule.ScheduleTrace;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The step-through page in a real headless Chromium: load it, click through every step, and check
 * what the page shows (HBM counters, highlighted rows, pseudo-code lines, the final max difference)
 * against the Java run it was made from. Skipped where Chromium or its driver is not installed.
 */
class ExplainPageBrowserTest {

  @TempDir static Path dir;
  private static ChromeDriver browser;

  /** Why the tests are skipped, or null when the browser runs. */
  private static String skipped;

  @BeforeAll
  static void startBrowser() {
    // Selenium warns that it has no DevTools binding for this Chromium; the test uses none
    java.util.logging.Logger.getLogger("org.openqa.selenium.devtools")
        .setLevel(java.util.logging.Level.SEVERE);
    if (Chromium.browser().isEmpty() || Chromium.driver().isEmpty()) {
      skipped =
          "chromium and chromedriver are not on the PATH (apt-get install chromium"
              + " chromium-driver; .ci/run does): the page is not tested in a browser";
      // said where the build's output shows it, not only in the test report
      System.err.println("SKIPPED ExplainPageBrowserTest: " + skipped);
      return;
    }
    browser = Chromium.start(dir.resolve("profile"));
  }

  /** Each test is skipped with the reason, so that the report counts and explains it. */
  @BeforeEach
  void needsTheBrowser() {
    assumeTrue(skipped == null, skipped);
  }

  @AfterAll
  static void stopBrowser() {
    if (browser != null) {
      browser.quit();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"paper", "fast", "paper-causal", "fast-causal", "fast-window"})
  void everyStepShowsWhatTheRunDid(String kernel) throws Exception {
    ScheduleSetup setup =
        switch (kernel) {
          case "paper-causal" -> ScheduleSetup.SEED.masked(Causal.TOP_LEFT, Window.NONE);
          case "fast-causal" ->
              new ScheduleSetup(9, 3, 24, 2022, 1f).masked(Causal.BOTTOM_RIGHT, Window.NONE);
          case "fast-window" ->
              new ScheduleSetup(9, 3, 24, 2022, 1f).masked(Causal.NONE, new Window(2, 0));
          default -> ScheduleSetup.SEED;
        };
    ScheduleTrace trace =
        kernel.startsWith("paper") ? PaperSchedule.run(setup) : FastSchedule.run(setup);
    Path page = dir.resolve(kernel + ".html");
    ExplainPage.write(trace, page);
    String html = Files.readString(page);
    assertFalse(html.contains("http://") || html.contains("https://"), "fetches nothing");
    assertFalse(html.contains("<link") || html.contains(" src="), "no external files");

    browser.get(page.toUri().toString());
    new WebDriverWait(browser, Duration.ofSeconds(20))
        .until(b -> "true".equals(b.findElement(By.tagName("body")).getDomAttribute("data-ready")));
    assertPosition(0);
    assertEquals("0", value("reads"));
    // HBM and SRAM show their numbers with the same decimals (they once showed 1 and 2)
    int decimals =
        Integer.parseInt(browser.findElement(By.tagName("body")).getDomAttribute("data-decimals"));
    assertTrue(decimals >= 1, "the seed's cells have room for decimals: " + decimals);
    // the pseudo-code is set with sub- and superscripts, never as raw _{…} or ^{…}
    String code = browser.findElement(By.id("code")).getText();
    assertFalse(code.contains("^{") || code.contains("_{") || code.contains("_i"), code);
    assertTrue(
        (Boolean)
            browser.executeScript(
                "return [...document.querySelectorAll('#code li')].some(li =>"
                    + " li.querySelector('sup sub'));"),
        "e^{m_i − m_i^new}: a superscript holding a subscript");
    assertEquals(trace.code().opening(), currentLines());
    assertTrue(text("caption").startsWith("Before the loops"), text("caption"));

    List<ScheduleStep> steps = trace.steps();
    for (int k = 0; k < steps.size(); k++) {
      click("next");
      assertPosition(k + 1);
      ScheduleStep s = steps.get(k);
      assertEquals(Long.toString(s.reads()), value("reads"), "reads after step " + (k + 1));
      assertEquals(Long.toString(s.written()), value("writes"), "writes after step " + (k + 1));
      assertEquals(NumberText.count(s.reads()), text("reads"));
      assertEquals(s.lines(), currentLines(), "pseudo-code lines of step " + (k + 1));
      for (Highlight h : s.highlights()) {
        String cls = h.block() == Highlight.Block.QUERY ? "q" : "k";
        assertEquals(
            IntStream.range(h.start(), h.end()).boxed().toList(),
            rows(h.array(), cls),
            h.array() + " rows in SRAM at step " + (k + 1));
        if (h.written()) {
          assertEquals(IntStream.range(h.start(), h.end()).boxed().toList(), rows(h.array(), "w"));
        }
      }
      assertEquals(
          s.scores().rows(), browser.findElements(By.cssSelector("table.scores tr")).size());
      assertEquals(Long.toString(s.savedReads()), value("saved"), "saved after step " + (k + 1));
      // the map of tiles: this step's tile is current, the ones before done, every kind shown
      for (int t = 0; t < steps.size(); t++) {
        ScheduleStep other = steps.get(t);
        WebElement td =
            browser.findElement(
                By.cssSelector(
                    "#tiles td[data-i='" + other.i() + "'][data-j='" + other.j() + "']"));
        List<String> classes = List.of(td.getDomAttribute("class").split(" "));
        String what = "tile " + (other.i() + 1) + "," + (other.j() + 1) + " at step " + (k + 1);
        assertTrue(classes.contains(other.tile().name().toLowerCase()), what + ": " + classes);
        assertEquals(other.skipped(), classes.contains("skipped"), what + ": " + classes);
        assertEquals(t == k, classes.contains("current"), what + ": " + classes);
        assertEquals(t <= k, classes.contains("done"), what + ": " + classes);
      }
      if (k == 3) {
        screenshot(kernel + "-step4.png");
      }
    }
    // HBM O after the last step, as the page shows it, is the run's O
    assertEquals(cells("O"), formatted(HbmState.after(trace, steps.size() - 1).get("O"), decimals));
    // the SRAM blocks of the last step with the same decimals
    List<String> sramCells = sramCells();
    assertFalse(sramCells.isEmpty());
    for (String cell : sramCells) {
      int dot = cell.indexOf('.');
      assertEquals(decimals, dot < 0 ? 0 : cell.length() - dot - 1, "SRAM cell " + cell);
    }

    click("next");
    assertPosition(steps.size() + 1);
    WebElement max = browser.findElement(By.id("maxdiff"));
    assertEquals(trace.maxDifference(), Double.parseDouble(max.getDomAttribute("data-value")), 0.0);
    assertEquals(NumberText.scientific(trace.maxDifference()), max.getText());
    assertTrue(trace.maxDifference() < 1e-6, "the run is exact: " + trace.maxDifference());
    assertEquals(Long.toString(trace.totalReads()), value("reads"));
    assertEquals(trace.code().closing(), currentLines());
    BufferedImage shot = screenshot(kernel + "-end.png");
    assertTrue(shot.getWidth() >= 1000 && shot.getHeight() >= 600);

    // back one step, the slider, play
    click("prev");
    assertPosition(steps.size());
    assertEquals(Long.toString(steps.getLast().reads()), value("reads"));
    browser.executeScript(
        "const s = document.getElementById('slider'); s.value = 3;"
            + " s.dispatchEvent(new Event('input'));");
    assertPosition(3);
    assertEquals(Long.toString(steps.get(2).reads()), value("reads"));
    browser.executeScript(
        "const s = document.getElementById('speed'); s.value = '250';"
            + " s.dispatchEvent(new Event('change'));");
    click("play");
    new WebDriverWait(browser, Duration.ofSeconds(10))
        .until(b -> Integer.parseInt(position()) >= 5);
    click("play");
    int paused = Integer.parseInt(position());
    Thread.sleep(600);
    assertEquals(paused, Integer.parseInt(position()), "pause stops the steps");
  }

  private static void click(String id) {
    browser.findElement(By.id(id)).click();
  }

  private static String position() {
    return browser.findElement(By.tagName("body")).getDomAttribute("data-position");
  }

  private static void assertPosition(int p) {
    assertEquals(Integer.toString(p), position());
  }

  private static String value(String id) {
    return browser.findElement(By.id(id)).getDomAttribute("data-value");
  }

  private static String text(String id) {
    return browser.findElement(By.id(id)).getText();
  }

  private static List<Integer> currentLines() {
    return browser.findElements(By.cssSelector("#code li.current")).stream()
        .map(li -> Integer.parseInt(li.getDomAttribute("data-line")))
        .toList();
  }

  /** The rows of HBM array {@code name} that have class {@code cls}. */
  private static List<Integer> rows(String name, String cls) {
    return browser
        .findElements(By.cssSelector("#hbm table[data-name='" + name + "'] tr." + cls))
        .stream()
        .map(tr -> Integer.parseInt(tr.getDomAttribute("data-row")))
        .toList();
  }

  private static List<String> cells(String name) {
    @SuppressWarnings("unchecked")
    List<String> texts =
        (List<String>)
            browser.executeScript(
                "return [...document.querySelectorAll(\"#hbm table[data-name='"
                    + name
                    + "'] td\")].map(td => td.textContent);");
    return texts;
  }

  private static List<String> formatted(Grid g, int decimals) {
    List<String> out = new java.util.ArrayList<>();
    for (float v : g.values()) {
      out.add(NumberText.format(v, decimals));
    }
    return out;
  }

  /** The numbers in the SRAM blocks (K_j, V_j, Q_i, O_i) as the page shows them. */
  private static List<String> sramCells() {
    @SuppressWarnings("unchecked")
    List<String> texts =
        (List<String>)
            browser.executeScript(
                "return [...document.querySelectorAll('#sram table.grid.q td, #sram table.grid.k"
                    + " td')].map(td => td.textContent).filter(t => /\\d/.test(t));");
    return texts;
  }

  private static BufferedImage screenshot(String name) throws Exception {
    byte[] png = browser.getScreenshotAs(OutputType.BYTES);
    Path shots = Path.of("target", "screenshots");
    Files.createDirectories(shots);
    Files.write(shots.resolve(name), png);
    return ImageIO.read(new ByteArrayInputStream(png));
  }
}
