// The lesson: one chapter of the lecture at a time. Every word, number, picture and verdict
// comes from the backend (gdlab._lesson); this file only lays them out, keeps the reader's
// settings and progress in the state (the URL on the page), and plays the animations.

const DEBOUNCE_MS = 250;
const SLIDER = 1000; // positions of a slider

// Where a value sits on its control's slider, and back (logarithmic over a range of decades).
function toSlider(k, value) {
  const [lo, hi, v] = k.log ? [Math.log(k.low), Math.log(k.high), Math.log(value)] : [k.low, k.high, value];
  return Math.round(((v - lo) / (hi - lo)) * SLIDER);
}

function fromSlider(k, position) {
  const t = position / SLIDER;
  const v = k.log ? k.low * Math.exp(t * Math.log(k.high / k.low)) : k.low + t * (k.high - k.low);
  return k.whole ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
}

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
  return el;
}

// The state as a query string: lang, c (chapter), big, done (chapters whose task was met),
// and per chapter its changed settings, e.g. grid=num:6 or descent=lr:0.5,steps:100.
export function parseState(query) {
  const q = new URLSearchParams(query);
  const state = { lang: q.get("lang") === "en" ? "en" : "ko", c: q.get("c") || "", big: q.get("big") === "1", done: [], settings: {} };
  state.done = (q.get("done") || "").split(",").filter(Boolean);
  for (const [k, v] of q.entries()) {
    if (["lang", "c", "big", "done"].includes(k)) continue;
    const s = {};
    for (const pair of v.split(",")) {
      const at = pair.indexOf(":");
      if (at > 0) s[pair.slice(0, at)] = pair.slice(at + 1);
    }
    state.settings[k] = s;
  }
  return state;
}

export function writeState(state) {
  const q = new URLSearchParams();
  q.set("lang", state.lang);
  if (state.c) q.set("c", state.c);
  if (state.big) q.set("big", "1");
  if (state.done.length) q.set("done", state.done.join(","));
  for (const [k, s] of Object.entries(state.settings)) {
    const pairs = Object.entries(s).map(([n, v]) => `${n}:${v}`);
    if (pairs.length) q.set(k, pairs.join(","));
  }
  return "?" + q.toString().replace(/%3A/g, ":").replace(/%2C/g, ",").replace(/%2F/g, "/");
}

export function mount(root, backend, { useURL = false, query = "", onState = null } = {}) {
  const state = parseState(useURL ? location.search : query);
  let words = null;
  let asked = 0;
  let timer = null;
  let player = null;
  const box = h("div", { class: "gdlab-lesson" });
  root.replaceChildren(box);

  const chapterIndex = () => Math.max(0, words.chapters.findIndex((c) => c.key === state.c));
  const current = () => words.chapters[chapterIndex()];

  function save(replace = true) {
    const query = writeState(state);
    if (useURL) history[replace ? "replaceState" : "pushState"](null, "", query);
    if (onState) onState(query);
  }

  async function load() {
    box.dataset.state = "busy";
    try {
      words = await backend.contents(state.lang);
    } catch (err) {
      box.replaceChildren(h("p", { class: "ls-error", text: String(err.message || err) }));
      box.dataset.state = "error";
      return;
    }
    if (!words.chapters.some((c) => c.key === state.c)) state.c = words.chapters[0].key;
    if (useURL) {
      // The page is the lesson's own; in a notebook the page is the notebook's.
      document.documentElement.lang = state.lang;
      document.title = words.ui.lesson;
    }
    show();
  }

  function header() {
    const ui = words.ui;
    const nav = h("nav", { class: "ls-nav", "aria-label": ui.chapter },
      words.chapters.map((c, i) => {
        const done = state.done.includes(c.key);
        return h("button", {
          class: "ls-pill" + (done ? " done" : ""), "data-testid": `nav-${c.key}`, title: c.title,
          "aria-current": c.key === state.c ? "step" : null,
          onclick: () => go(c.key),
        }, `${i + 1}${done ? " ✓" : ""}`);
      }));
    const notebook = backend.notebook(state.lang);
    const link = h("a", { class: "ls-button", "data-testid": "notebook", href: notebook.href || "#", download: `gdlab-lesson-${state.lang}.ipynb` }, ui.notebook);
    if (notebook.onclick) link.addEventListener("click", (e) => { e.preventDefault(); notebook.onclick(); });
    return h("header", { class: "ls-header" },
      h("h1", { text: ui.lesson }),
      nav,
      h("span", { class: "ls-progress", "data-testid": "progress", text: `${state.done.length}/${words.chapters.length} ${ui.done_count}` }),
      h("span", { class: "ls-tools" },
        h("button", { class: "ls-button", "data-testid": "lang", onclick: () => { state.lang = state.lang === "ko" ? "en" : "ko"; save(); load(); } }, state.lang === "ko" ? "English" : "한국어"),
        h("button", { class: "ls-button", "data-testid": "big", "aria-pressed": state.big ? "true" : "false", onclick: () => { state.big = !state.big; save(); show(); } }, ui.projector),
        link));
  }

  function go(key) {
    state.c = key;
    save(false);
    show();
  }

  function show() {
    const ui = words.ui;
    const c = current();
    const i = chapterIndex();
    const mine = state.settings[c.key] || {};
    box.classList.toggle("ls-big", state.big);
    if (player) clearInterval(player);

    const rows = h("tbody", {}, c.rows.map((r, k) =>
      h("tr", { "data-row": k },
        h("th", { scope: "row", text: r.label }),
        h("td", { "data-col": "lecture", class: r.lecture === null ? "ls-none" : null, text: r.lecture === null ? ui.none : r.lecture }),
        h("td", { "data-col": "ours" }),
        h("td", { "data-col": "yours" }))));
    const table = h("table", { class: "ls-values", "data-testid": "rows" },
      h("thead", {}, h("tr", {}, h("th", { text: ui.quantity }), h("th", { text: ui.lecture }), h("th", { text: ui.ours }), h("th", { text: ui.yours }))),
      rows);

    const inputs = c.controls.map((k) => {
      const input = h("input", {
        type: "text", inputmode: "decimal", id: `ls-${k.name}`, "data-testid": `control-${k.name}`,
        value: mine[k.name] ?? k.default, autocomplete: "off", spellcheck: "false",
        oninput: () => changed(k, input.value),
      });
      // A slider beside the box: its position follows the value the backend read from the box.
      const slider = h("input", {
        type: "range", min: 0, max: SLIDER, step: 1, "data-testid": `slider-${k.name}`, "aria-label": k.label,
        oninput: () => {
          input.value = fromSlider(k, Number(slider.value));
          changed(k, input.value);
        },
      });
      return h("label", { class: "ls-field", for: `ls-${k.name}` }, h("span", { text: k.label }), input, slider);
    });
    const reset = h("button", { class: "ls-button", "data-testid": "reset", onclick: () => { delete state.settings[c.key]; save(); show(); } }, ui.reset);

    const plot = h("div", { class: "ls-plot", "data-testid": "plot" });
    const play = c.animate ? h("button", { class: "ls-button ls-play", "data-testid": "play", onclick: () => animate(plot, lastPicture) }, "▶ " + ui.play) : null;

    box.replaceChildren(
      header(),
      h("main", { class: "ls-main" },
        h("h2", { class: "ls-title", "data-testid": "chapter-title" }, `${i + 1}. ${c.title}`),
        h("div", { class: "ls-left" },
          h("section", { class: "ls-figure" }, plot, play),
          h("section", { class: "ls-controls", "aria-label": ui.settings },
            h("div", { class: "ls-fields" }, inputs, reset),
            h("p", { class: "ls-error", "data-testid": "error", role: "alert", hidden: true })),
          h("section", { class: "ls-task", "data-testid": "task" },
            h("h3", { text: ui.task }),
            h("p", { text: c.task }),
            h("p", { class: "ls-verdict", "data-testid": "verdict", "aria-live": "polite" }),
            h("details", { "data-testid": "hint" }, h("summary", { text: ui.hint }), h("p", { text: c.hint })))),
        h("div", { class: "ls-right" },
          h("p", { class: "ls-prose", text: c.prose }),
          h("div", { class: "ls-table" }, table),
          h("details", { class: "ls-note" }, h("summary", { text: ui.digits }), h("p", { text: c.note })),
          h("details", { class: "ls-code", open: true }, h("summary", { text: ui.code }), h("pre", { "data-testid": "code", tabindex: "0", "aria-label": ui.code }, h("code"))),
          h("details", { class: "ls-code", "data-testid": "tf" }, h("summary", { text: ui.tf_code }), h("pre", { tabindex: "0", "aria-label": ui.tf_code }, h("code", { text: c.tf_code })))),
        h("nav", { class: "ls-steps" },
          h("button", { class: "ls-button", "data-testid": "prev", disabled: i === 0, onclick: () => go(words.chapters[i - 1].key) }, "← " + ui.previous),
          h("button", { class: "ls-button ls-next", "data-testid": "next", disabled: i === words.chapters.length - 1, onclick: () => go(words.chapters[i + 1].key) }, ui.next + " →"))));
    refresh(0);
  }

  function changed(control, value) {
    const c = current();
    const mine = { ...(state.settings[c.key] || {}) };
    if (value.trim() === control.default) delete mine[control.name];
    else mine[control.name] = value.trim();
    if (Object.keys(mine).length) state.settings[c.key] = mine;
    else delete state.settings[c.key];
    save();
    refresh(DEBOUNCE_MS);
  }

  function refresh(delay) {
    clearTimeout(timer);
    asked += 1; // an answer still on its way is for what the page showed before: drop it
    box.dataset.state = "busy";
    timer = setTimeout(compute, delay);
  }

  let lastPicture = null;

  async function compute() {
    const c = current();
    const ask = ++asked;
    const error = box.querySelector('[data-testid="error"]');
    let result;
    try {
      result = await backend.live(c.key, state.settings[c.key] || {}, state.lang);
    } catch (err) {
      if (ask !== asked || current().key !== c.key) return;
      error.textContent = String(err.message || err);
      error.hidden = false;
      box.dataset.state = "error";
      return;
    }
    if (ask !== asked || current().key !== c.key) return;
    error.hidden = true;
    result.rows.forEach((r, k) => {
      const row = box.querySelector(`tr[data-row="${k}"]`);
      row.querySelector('[data-col="ours"]').textContent = r.ours;
      const yours = row.querySelector('[data-col="yours"]');
      yours.textContent = r.yours;
      yours.classList.toggle("ls-moved", r.yours !== r.ours);
    });
    box.querySelector('[data-testid="code"] code').textContent = result.code;
    for (const k of c.controls) {
      const slider = box.querySelector(`[data-testid="slider-${k.name}"]`);
      if (slider && document.activeElement !== slider) slider.value = toSlider(k, result.settings[k.name]);
    }
    const verdict = box.querySelector('[data-testid="verdict"]');
    verdict.dataset.met = result.task.met ? "true" : "false";
    verdict.replaceChildren(h("b", { text: result.task.met ? "✓ " + words.ui.met : words.ui.not_met }), ": " + result.task.why);
    if (result.task.met && !state.done.includes(c.key)) {
      state.done.push(c.key);
      save();
      const pill = box.querySelector(`[data-testid="nav-${c.key}"]`);
      pill.classList.add("done");
      pill.textContent = `${chapterIndex() + 1} ✓`;
      box.querySelector('[data-testid="progress"]').textContent = `${state.done.length}/${words.chapters.length} ${words.ui.done_count}`;
    }
    lastPicture = result.picture;
    draw(box.querySelector('[data-testid="plot"]'), result.picture);
    box.dataset.state = "ready";
  }

  function layout(picture) {
    const size = state.big ? 20 : 13;
    return {
      ...picture.layout,
      margin: { l: 60, r: 10, t: 10, b: 50 },
      font: { size, family: "system-ui, 'Noto Sans KR', 'NanumGothic', sans-serif" },
      legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0 },
      showlegend: true,
      uirevision: current().key,
    };
  }

  function draw(plot, picture) {
    if (player) clearInterval(player);
    // Plotly keeps and changes the traces it is given: it gets a copy, so a replay starts from the whole path.
    const traces = structuredClone(picture.traces);
    globalThis.Plotly.react(plot, traces, layout(picture), { displayModeBar: false, responsive: true });
    if (picture.animate) animate(plot, picture);
  }

  // Reveal the animated trace's points one frame at a time (the data came whole from the backend).
  function animate(plot, picture) {
    if (!picture || !picture.animate) return;
    if (player) clearInterval(player);
    const { traces, frames } = picture.animate;
    const full = traces.map((t) => picture.traces[t]);
    let i = 0;
    const tick = () => {
      i += 1;
      const x = full.map((t) => t.x.slice(0, i));
      const y = full.map((t) => t.y.slice(0, i));
      globalThis.Plotly.restyle(plot, { x, y }, traces);
      if (i >= frames) clearInterval(player);
    };
    tick();
    player = setInterval(tick, Math.max(15, Math.min(120, 4000 / frames)));
  }

  // A presenter's keys: the arrows turn the chapters, unless a setting is being typed.
  (useURL ? document : box).addEventListener("keydown", (event) => {
    if (!words || event.target.closest?.("input") || event.altKey || event.ctrlKey || event.metaKey) return;
    const i = chapterIndex();
    const to = event.key === "ArrowRight" ? i + 1 : event.key === "ArrowLeft" ? i - 1 : -1;
    if (to < 0 || to >= words.chapters.length) return;
    event.preventDefault();
    go(words.chapters[to].key);
  });
  if (useURL) addEventListener("popstate", () => { Object.assign(state, parseState(location.search)); load(); });
  load();
  return { state, reload: load };
}
