"use strict";
// The step-through page of a schedule run. Positions: 0 = before the loops, 1..S = the steps,
// S + 1 = after the loops. HBM at a position = the initial arrays + the writes of the steps so far.
(function () {
  const T = JSON.parse(document.getElementById("trace").textContent);
  const $ = (id) => document.getElementById(id);

  // JSON carries float32 values in their shortest form: Math.fround gives back the exact float.
  const num = (x) => (x === "-inf" ? -Infinity : x === "inf" ? Infinity : x === "nan" ? NaN : Math.fround(x));
  const grid = (g) => ({ name: g.name, rows: g.rows, cols: g.cols, values: Float64Array.from(g.values, num) });
  const initial = T.initial.map(grid);
  const steps = T.steps.map((s) => ({
    ...s,
    sram: s.sram.map(grid),
    scores: grid(s.scores),
    stats: s.stats.map(grid),
    writes: s.writes.map((w) => ({ array: w.array, start: w.start, block: grid(w.block) })),
  }));
  const reference = grid(T.reference);
  const LAST = steps.length + 1;

  // ---- text ----
  function fmt(x, dec) {
    if (x === -Infinity) return "−∞";
    if (x === Infinity) return "∞";
    if (Number.isNaN(x)) return "NaN";
    let s = x.toFixed(dec);
    if (/^-0\.?0*$/.test(s)) s = s.slice(1);
    return s.replace("-", "−");
  }
  const count = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const sci = (x) => x.toExponential(2).replace(/e([+-])(\d)$/, "e$10$2").replace("-", "−");
  // Text as in TeX, read as the GIF's RichText reads it: m_i^new → m<sub>i</sub><sup>new</sup>;
  // a script is a {group} (drawn without braces), a (group) (drawn with them) or a run of letters
  // and digits; scripts nest: e^{m_i − m_i^new}.
  const esc = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const scriptChar = (c) => /[\p{L}\p{N}\p{Mn}]/u.test(c) && !/\p{Lm}/u.test(c);
  function closing(t, open, to) {
    const o = t[open], c = o === "{" ? "}" : ")";
    let depth = 0;
    for (let k = open; k < to; k++) {
      if (t[k] === o) depth++;
      else if (t[k] === c && --depth === 0) return k;
    }
    return to;
  }
  function richRange(t, from, to) {
    let html = "", cur = "", k = from;
    while (k < to) {
      const c = t[k];
      if ((c === "_" || c === "^") && k + 1 < to) {
        const tag = c === "_" ? "sub" : "sup";
        const start = k + 1, open = t[start];
        let inner, end;
        if (open === "{" || open === "(") {
          const close = closing(t, start, to);
          inner = open === "{" ? richRange(t, start + 1, close) : richRange(t, start, Math.min(close + 1, to));
          end = Math.min(close + 1, to);
        } else {
          end = start;
          while (end < to && scriptChar(t[end])) end++;
          if (end === start) { cur += c; k++; continue; }
          inner = richRange(t, start, end);
        }
        html += esc(cur) + `<${tag}>${inner}</${tag}>`;
        cur = "";
        k = end;
      } else {
        cur += c;
        k++;
      }
    }
    return html + esc(cur);
  }
  const rich = (text) => richRange([...text], 0, [...text].length);
  const rangeText = (lines) => (lines.length === 1 ? `${lines[0]}` : `${lines[0]}–${lines[lines.length - 1]}`);

  // ---- colours (the same heat scale as the GIF) ----
  let lo = Infinity, hi = -Infinity;
  for (const s of steps) for (const v of s.scores.values) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!(lo <= hi)) { lo = 0; hi = 1; }
  function heat(v) {
    if (v === -Infinity) return "#dddddd";
    const t = hi > lo ? Math.max(0, Math.min(1, (v - lo) / (hi - lo))) : 0.5;
    const c = (a, b) => Math.round(a + (b - a) * t);
    return `rgb(${c(0xf7, 0x08)},${c(0xfb, 0x30)},${c(0xff, 0x6b)})`;
  }
  // white text on dark cells, as the GIF does (luminance below 140 of 255)
  function textOn(v) {
    const t = v === -Infinity ? 0 : hi > lo ? Math.max(0, Math.min(1, (v - lo) / (hi - lo))) : 0.5;
    const c = (a, b) => a + (b - a) * t;
    return 0.299 * c(0xf7, 0x08) + 0.587 * c(0xfb, 0x30) + 0.114 * c(0xff, 0x6b) < 140 ? "#fff" : "#1f1f1f";
  }

  // ---- tables ----
  // A table for grid g; cells as big as cw × ch, numbers written with `dec` decimals or none.
  function table(g, cls) {
    const t = document.createElement("table");
    t.className = "grid " + (cls || "");
    t.dataset.name = g.name;
    const body = t.createTBody();
    for (let r = 0; r < g.rows; r++) {
      const tr = body.insertRow();
      tr.dataset.row = r;
      for (let c = 0; c < g.cols; c++) tr.insertCell();
    }
    return t;
  }
  function fill(t, g, dec) {
    const rows = t.tBodies[0].rows;
    for (let r = 0; r < g.rows; r++) {
      const cells = rows[r].cells;
      for (let c = 0; c < g.cols; c++) {
        const v = g.values[r * g.cols + c];
        cells[c].textContent = dec >= 0 ? fmt(v, dec) : "";
        cells[c].title = `${g.name}[${r + 1}, ${c + 1}] = ${fmt(v, 6)}`;
      }
    }
  }
  function figure(title, t) {
    const f = document.createElement("figure");
    const cap = document.createElement("figcaption");
    cap.innerHTML = rich(title);
    f.append(cap, t);
    return f;
  }
  // the most decimals (≤ 2) with which the widest number of the run fits a cell w pixels wide in
  // the cells' 12 px font (−1: none), measured as the GIF's GridPainter measures
  const measure = document.createElement("canvas").getContext("2d");
  measure.font = `12px ${getComputedStyle(document.body).fontFamily}`;
  // the widest text of the run's numbers (HBM's arrays and what the steps write) at 1 and 2
  // decimals: of the longest strings, the widest as drawn
  const widestText = [null, 0, 0];
  {
    const grids = [...initial, ...steps.flatMap((s) => s.writes.map((w) => w.block))];
    for (const dec of [1, 2]) {
      const texts = [];
      for (const g of grids) for (const v of g.values) texts.push(fmt(v, dec));
      const longest = texts.reduce((a, t) => Math.max(a, t.length), 0);
      const candidates = [...new Set(texts.filter((t) => t.length === longest))].slice(0, 64);
      widestText[dec] = Math.max(0, ...candidates.map((t) => measure.measureText(t).width));
    }
  }
  function decimalsFor(w, h) {
    if (h < 14) return -1;
    for (let dec = 2; dec >= 1; dec--) if (widestText[dec] <= w - 4) return dec;
    return -1;
  }

  // ---- HBM: built once, re-filled per position ----
  const hbm = $("hbm");
  const totalCols = initial.reduce((a, g) => a + g.cols, 0);
  const hbmWidth = Math.max(320, Math.min(hbm.clientWidth || 640, 760));
  // each cell takes its width plus a 1 px border; each array 2 px of outer border and a 16 px gap
  const cw = Math.max(2, Math.min(52, Math.floor((hbmWidth - 18 * initial.length) / totalCols) - 1));
  const ch = Math.max(3, Math.min(30, Math.floor(460 / T.n)));
  hbm.style.setProperty("--cw", cw + "px");
  hbm.style.setProperty("--ch", ch + "px");
  // SRAM's block cells, sized below; HBM and SRAM show the same decimals, so a value reads the same
  const maxBlock = Math.max(Math.min(T.bc, T.n), Math.min(T.br, T.n));
  const sw = Math.max(3, Math.min(52, Math.floor(620 / (4 * T.d + 3))));
  const sh = Math.max(3, Math.min(30, Math.floor(200 / maxBlock)));
  const hbmOwn = decimalsFor(cw, ch);
  const sramOwn = decimalsFor(sw, sh);
  const hbmDec = hbmOwn < 0 ? -1 : sramOwn < 0 ? hbmOwn : Math.min(hbmOwn, sramOwn);
  const sramDec = sramOwn < 0 ? -1 : hbmOwn < 0 ? sramOwn : Math.min(hbmOwn, sramOwn);
  document.body.dataset.decimals = hbmDec;
  const hbmTables = new Map();
  for (const g of initial) {
    const t = table(g, (cw < 6 || ch < 6 ? "small " : "") + (hbmDec < 0 ? "nonum" : ""));
    const block = g.name === "K" || g.name === "V" ? T.bc : T.br;
    for (const tr of t.tBodies[0].rows) if (+tr.dataset.row % block === 0) tr.classList.add("block-start");
    hbmTables.set(g.name, t);
    hbm.append(figure(g.name, t));
  }

  function hbmAt(p) {
    const state = new Map(initial.map((g) => [g.name, { ...g, values: g.values.slice() }]));
    for (let k = 0; k < Math.min(p, steps.length); k++) {
      for (const w of steps[k].writes) {
        const g = state.get(w.array);
        g.values.set(w.block.values, w.start * g.cols);
      }
    }
    return state;
  }

  function showHbm(p) {
    const state = hbmAt(p);
    const hl = p >= 1 && p <= steps.length ? steps[p - 1].highlights : [];
    for (const [name, t] of hbmTables) {
      fill(t, state.get(name), hbmDec);
      for (const tr of t.tBodies[0].rows) {
        const r = +tr.dataset.row;
        tr.classList.remove("q", "k", "w", "w-first", "w-last");
        for (const h of hl) {
          if (h.array !== name || r < h.start || r >= h.end) continue;
          tr.classList.add(h.block === "query" ? "q" : "k");
          if (h.written) {
            tr.classList.add("w");
            if (r === h.start) tr.classList.add("w-first");
            if (r === h.end - 1) tr.classList.add("w-last");
          }
        }
      }
    }
    return state;
  }

  // ---- SRAM: rebuilt per position ----
  const sram = $("sram");
  const scw = Math.max(3, Math.min(52, Math.floor(240 / Math.min(T.bc, T.n))));
  const rowH = Math.max(3, Math.min(30, Math.floor(240 / Math.min(T.br, T.n))));
  sram.style.setProperty("--sw", sw + "px");
  sram.style.setProperty("--sh", sh + "px");
  sram.style.setProperty("--scw", scw + "px");

  function row(...children) {
    const d = document.createElement("div");
    d.className = "row";
    d.append(...children);
    return d;
  }

  function showSramStep(s) {
    $("sram-heading").textContent = "SRAM";
    $("sram-sub").textContent = `fast, small on-chip memory: M = ${T.sram} elements`;
    const blocks = s.sram.map((g) => {
      const kind = g.name.startsWith("K") || g.name.startsWith("V") ? "k" : "q";
      const dec = sramDec;
      const t = table(g, kind + (dec < 0 ? " nonum" : "") + (sw < 6 || sh < 6 ? " small" : ""));
      fill(t, g, dec);
      return figure(g.name, t);
    });
    const sdec = Math.min(decimalsFor(scw, rowH), Math.max(sramDec, 0));
    const st = table(s.scores, "scores" + (sdec < 0 ? " nonum" : ""));
    fill(st, s.scores, sdec);
    const srows = st.tBodies[0].rows;
    for (let r = 0; r < s.scores.rows; r++) {
      for (let c = 0; c < s.scores.cols; c++) {
        const v = s.scores.values[r * s.scores.cols + c];
        const td = srows[r].cells[c];
        td.style.background = heat(v);
        td.style.height = rowH + "px";
        td.style.color = textOn(v);
      }
    }
    const scale = document.createElement("div");
    scale.className = "scale";
    scale.innerHTML = `<span>${fmt(lo, 2)}</span><canvas class="ramp" width="160" height="12"></canvas><span>${fmt(hi, 2)} (scores of the whole run)</span>`;
    const ctx = scale.querySelector("canvas").getContext("2d");
    for (let x = 0; x < 160; x++) {
      ctx.fillStyle = heat(lo + ((hi - lo) * x) / 159);
      ctx.fillRect(x, 0, 1, 12);
    }
    const scoresFig = figure(`${s.scores.name} = Q_i K_j^T` + (T.scale === 1 ? "" : " · scale"), st);
    if (s.skipped) {
      // the fast order skipped the tile: nothing on chip to show
      const note = document.createElement("p");
      note.className = "skipped-note";
      note.innerHTML = rich("not computed: no row of Q_i sees K_j, so K_j, V_j stay in HBM (tile skipped)");
      scoresFig.replaceChildren(scoresFig.firstChild, note);
    } else {
      scoresFig.append(scale);
    }
    const stats = s.stats.map((g) => {
      const t = table(g, "stats" + (rowH < 14 ? " nonum" : ""));
      fill(t, g, rowH < 14 ? -1 : 3);
      for (const tr of t.tBodies[0].rows) for (const td of tr.cells) td.style.height = rowH + "px";
      return figure(g.name, t);
    });
    const group = document.createElement("div");
    group.className = "stats-group";
    group.append(...stats);
    sram.replaceChildren(row(...blocks), row(scoresFig, group));
  }

  function showOpening() {
    $("sram-heading").textContent = "SRAM";
    $("sram-sub").textContent = `fast, small on-chip memory: M = ${T.sram} elements`;
    const ul = document.createElement("ul");
    ul.className = "sizes";
    const items = [
      `B<sub>c</sub> = ⌈M / 4d⌉ = ⌈${T.sram} / ${4 * T.d}⌉ = ${T.bc} rows of K, V per block`,
      `B<sub>r</sub> = min(B<sub>c</sub>, d) = ${T.br} rows of Q, O per block`,
      `T<sub>r</sub> = ⌈N / B<sub>r</sub>⌉ = ⌈${T.n} / ${T.br}⌉ = ${T.tr} query blocks`,
      `T<sub>c</sub> = ⌈N / B<sub>c</sub>⌉ = ⌈${T.n} / ${T.bc}⌉ = ${T.tc} key blocks`,
      `${T.tr * T.tc} steps, one per (key block j, query block i)`,
      `On chip at once: K<sub>j</sub>, V<sub>j</sub> (B<sub>c</sub> × d), Q<sub>i</sub>, O<sub>i</sub> (B<sub>r</sub> × d), ` +
        `the scores S<sub>ij</sub> (B<sub>r</sub> × B<sub>c</sub>) and the row statistics m, ℓ.`,
    ];
    for (const it of items) {
      const li = document.createElement("li");
      li.innerHTML = it;
      ul.append(li);
    }
    sram.replaceChildren(ul);
  }

  function showClosing(state) {
    $("sram-heading").textContent = "Result";
    $("sram-sub").textContent = "O from HBM next to standard attention's";
    const o = state.get("O");
    let max = 0;
    for (let k = 0; k < o.values.length; k++) max = Math.max(max, Math.abs(o.values[k] - reference.values[k]));
    const rw = Math.max(3, Math.min(64, Math.floor(600 / (2 * T.d))));
    const rh = Math.max(3, Math.min(30, Math.floor(400 / T.n)));
    const dec = rh < 14 ? -1 : rw >= 60 ? 4 : rw >= 44 ? 3 : rw >= 36 ? 2 : -1;
    const mk = (g, title, cls) => {
      const t = table(g, cls + (dec < 0 ? " nonum" : ""));
      fill(t, g, dec);
      t.style.setProperty("--sw", rw + "px");
      t.style.setProperty("--sh", rh + "px");
      return figure(title, t);
    };
    const result = document.createElement("p");
    result.className = "result";
    result.innerHTML = `max |O − vanilla O| = <span id="maxdiff" data-value="${max}">${sci(max)}</span>`;
    sram.replaceChildren(row(mk(o, "O (this run)", "q"), mk(reference, "O (vanilla, float64)", "")), result);
  }

  // ---- traffic, code, caption ----
  function showIo(reads, writes, saved) {
    $("reads").textContent = count(reads);
    $("reads").dataset.value = reads;
    $("writes").textContent = count(writes);
    $("writes").dataset.value = writes;
    const scale = Math.max(1, T.totalReads, T.totalWrites);
    $("reads-bar").style.width = (300 * reads) / scale + "px";
    $("writes-bar").style.width = (300 * writes) / scale + "px";
    $("saved").textContent = count(saved);
    $("saved").dataset.value = saved;
    $("saved-bar").style.width = (300 * saved) / scale + "px";
  }

  const codeList = $("code");
  T.code.lines.forEach((line, k) => {
    const li = document.createElement("li");
    li.dataset.line = k + 1;
    li.innerHTML = rich(line);
    codeList.append(li);
  });
  function showCode(lines) {
    for (const li of codeList.children) li.classList.toggle("current", lines.includes(+li.dataset.line));
  }

  // ---- the map of S's tiles: kind, and whether done, current or still to come ----
  const tiles = $("tiles");
  const tileCells = new Map();
  {
    const counts = { full: 0, diagonal: 0, masked: 0 };
    for (const s of steps) counts[s.tile]++;
    $("tiles-sub").innerHTML = rich(
      `T_r × T_c = ${T.tr} × ${T.tc}: ${counts.full} whole, ${counts.diagonal} diagonal, ${counts.masked} seen by no row` +
      (T.kernel === "fast" ? " (skipped)" : " (computed anyway)"));
    const head = tiles.createTHead().insertRow();
    head.insertCell().textContent = "";
    for (let j = 0; j < T.tc; j++) head.insertCell().textContent = `j=${j + 1}`;
    const body = tiles.createTBody();
    for (let i = 0; i < T.tr; i++) {
      const tr = body.insertRow();
      tr.insertCell().textContent = `i=${i + 1}`;
      for (let j = 0; j < T.tc; j++) tr.insertCell();
    }
    steps.forEach((s, k) => {
      const td = body.rows[s.i].cells[s.j + 1];
      td.className = "tile " + s.tile + (s.skipped ? " skipped" : "");
      td.dataset.i = s.i;
      td.dataset.j = s.j;
      td.dataset.step = k + 1;
      td.title = `tile i = ${s.i + 1}, j = ${s.j + 1}: ` +
        { full: "every row sees every key", diagonal: "cut element by element", masked: "no row sees any key" }[s.tile];
      if (s.skipped) td.textContent = "×";
      tileCells.set(k + 1, td);
    });
  }
  function showTiles(p) {
    for (const [k, td] of tileCells) {
      td.classList.toggle("done", k <= p);
      td.classList.toggle("current", k === p);
    }
  }

  // ---- the position ----
  let position = 0;
  function show(p) {
    position = Math.max(0, Math.min(LAST, p));
    const state = showHbm(position);
    let caption, lines;
    if (position === 0) {
      lines = T.code.opening;
      caption = `Before the loops (lines ${rangeText(lines)}): block sizes from M; O = 0, ℓ = 0, m = −∞ in HBM`;
      showOpening();
      showIo(0, 0, 0);
    } else if (position === LAST) {
      lines = T.code.closing;
      showClosing(state);
      caption = `Done (line ${rangeText(lines)}): return O; max |O − vanilla O| = ${$("maxdiff").textContent}`;
      showIo(T.totalReads, T.totalWrites, T.savedReads);
    } else {
      const s = steps[position - 1];
      lines = s.lines;
      caption = `Step ${position} of ${steps.length} · ${s.caption}`;
      showSramStep(s);
      showIo(s.reads, s.written, s.saved);
    }
    showCode(lines);
    showTiles(position);
    $("caption").innerHTML = rich(caption);
    $("slider").value = position;
    $("position").textContent = position === 0 ? "start" : position === LAST ? "end" : `step ${position} / ${steps.length}`;
    $("prev").disabled = $("first").disabled = position === 0;
    $("next").disabled = $("last").disabled = position === LAST;
    document.body.dataset.position = position;
  }

  let timer = null;
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    $("play").textContent = "▶ Play";
  }
  function play() {
    if (position === LAST) show(0);
    $("play").textContent = "❚❚ Pause";
    timer = setInterval(() => {
      show(position + 1);
      if (position === LAST) stop();
    }, +$("speed").value);
  }
  $("play").addEventListener("click", () => (timer === null ? play() : stop()));
  $("next").addEventListener("click", () => { stop(); show(position + 1); });
  $("prev").addEventListener("click", () => { stop(); show(position - 1); });
  $("first").addEventListener("click", () => { stop(); show(0); });
  $("last").addEventListener("click", () => { stop(); show(LAST); });
  $("slider").addEventListener("input", (e) => { stop(); show(+e.target.value); });
  $("speed").addEventListener("change", () => { if (timer !== null) { stop(); play(); } });
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
    const keys = { ArrowRight: () => $("next").click(), ArrowLeft: () => $("prev").click(),
      Home: () => $("first").click(), End: () => $("last").click(), " ": () => $("play").click() };
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  });

  // ---- static parts ----
  $("title").textContent = T.title;
  $("params").innerHTML = rich(
    `N = ${T.n}, d = ${T.d}, M = ${T.sram}  →  B_c = ${T.bc}, B_r = ${T.br}, T_r = ${T.tr}, T_c = ${T.tc};  scale = ${+T.scale.toPrecision(6)}` +
      (T.mask ? `;  ${T.mask}` : ""));
  // what skipping tiles saved (the fast order), or what computing them cost (Algorithm 1)
  $("saved-row").hidden = !(T.savedReads > 0);
  $("total-saved").textContent = count(T.savedReads);
  $("masked-cost").hidden = !(T.savedReads === 0 && (T.maskedReads > 0 || T.maskedWrites > 0));
  $("masked-cost").innerHTML =
    `tiles no row sees cost ${count(T.maskedReads)} reads + ${count(T.maskedWrites)} writes:` +
    " Algorithm 1 does not skip them; the fast kernel does";
  $("note").innerHTML = rich(T.note);
  $("code-name").textContent = T.code.name;
  $("total-reads").textContent = count(T.totalReads);
  $("total-writes").textContent = count(T.totalWrites);
  $("std-reads").textContent = count(T.standardReads);
  $("std-writes").textContent = count(T.standardWrites);
  $("slider").max = LAST;
  // a link may name its position: page.html#step=4 (0 = before the loops, S + 1 = the end)
  const linked = /step=(\d+)/.exec(location.hash);
  show(linked ? +linked[1] : 0);
  document.body.dataset.ready = "true";
})();
