// The lab's interface: one function, mount(root, backend, options), used by the page
// (backend over HTTP) and by the notebook widget (backend over widget messages).
// It draws what gdlab returns; every number comes from the backend.

import { WORDS, pickLanguage } from "./i18n.js";

export const PRESETS = [
  { id: "lecture", e: "(b/2-1)^2", s: { b: -10 }, r: [0.5, 2, 4.5], n: 60, t: 1e-8, pr: [0.01, 20] },
  { id: "homework", e: "(x-1)^2", s: { x: 6 }, r: [0.1, 0.9, 1.05], n: 40, t: 1e-8, pr: [0.01, 5] },
  { id: "cafe", e: "sum((y - b0 - b1*x)^2)", d: "cafe", s: { b0: 9, b1: 2 }, r: [1e-4, 1.5e-4, 1.6e-4], n: 300, t: 1e-8, pr: [1e-6, 1e-3] },
  { id: "matrix", e: "(y - X@beta).T @ (y - X@beta)", d: "cafe", s: { beta: [9, 2] }, r: [1e-5, 5e-5, 1.5e-4], n: 300, t: 1e-8, pr: [1e-6, 1e-3] },
  { id: "rosenbrock", e: "(1-x)^2 + 100*(y-x^2)^2", s: { x: -1.2, y: 1 }, r: [5e-4, 1.5e-3], n: 3000, t: 1e-8, pr: [1e-5, 1e-2] },
  { id: "valley", e: "x^2 + 25*y^2", s: { x: -9, y: 1.5 }, r: [0.01, 0.035, 0.041], n: 100, t: 1e-8, pr: [1e-3, 0.2] },
  { id: "saddle", e: "x^2 - y^2", s: { x: -2, y: 0.01 }, r: [0.1], n: 30, t: null, pr: [0.01, 2] },
];
const PRESET_NAMES = {
  lecture: { en: "Lecture: (b/2-1)^2", ko: "강의: (b/2-1)^2" },
  homework: { en: "Homework: (x-1)^2", ko: "과제: (x-1)^2" },
  cafe: { en: "Cafe sales regression", ko: "카페 매출 회귀" },
  matrix: { en: "Cafe regression, matrix form: (y - Xβ)ᵀ(y - Xβ)", ko: "카페 회귀, 행렬 형태: (y - Xβ)ᵀ(y - Xβ)" },
  rosenbrock: { en: "Rosenbrock", ko: "로젠브록 함수" },
  valley: { en: "Narrow valley", ko: "좁은 골짜기" },
  saddle: { en: "Saddle", ko: "안장점" },
};
// pr: the phase diagram's rate range, around where the preset's runs turn from converging to diverging.
// gdlab's optimisers; the list is replaced by the backend's own (gdlab.METHODS) once it answers.
export const METHODS = ["gd", "sign", "momentum", "nesterov", "adagrad", "rmsprop", "adam"];
const HYPER = {
  momentum: { momentum: 0.9 },
  nesterov: { momentum: 0.9 },
  adam: { b1: 0.9, b2: 0.999 },
  rmsprop: { decay: 0.9 },
};
// How each run is drawn (colour and dash, gdlab's one rule in gdlab._colours): sent by the backend
// with the methods, and waited for before the first picture, so that the page and an exported GIF
// draw each run alike. The page keeps no copy of its own.
let STYLES = null;
const styleOf = (i) => (STYLES ? STYLES[i % STYLES.length] : { colour: "#555555", dash: [] });
// A dash pattern (on-off lengths in line widths) as plotly.js writes it.
const dashOf = (i, width) => (styleOf(i).dash.length ? styleOf(i).dash.map((d) => `${d * width}px`).join(",") : "solid");
// A short sample of a run's line, for the swatches and the table.
function sample(i) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "lab-sample");
  svg.setAttribute("width", "30");
  svg.setAttribute("height", "10");
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS(ns, "line");
  for (const [k, v] of Object.entries({ x1: 1, y1: 5, x2: 29, y2: 5, stroke: styleOf(i).colour, "stroke-width": 3, "stroke-dasharray": styleOf(i).dash.map((d) => d * 3).join(" ") || "none" })) line.setAttribute(k, String(v));
  svg.append(line);
  return svg;
}
// The regimes' colours, sent by the backend with the methods (gdlab._colours, the pictures' own).
let REGIME_COLOURS = {};
let REGIME_MARKERS = {};
const SPEEDS = [0.25, 0.5, 1, 2, 4];
const MAX_FRAMES = 240;
let MAX_STEPS = 100000; // the server's limit, as /api/methods gives it (max_steps); checked here first, so that nothing is lost to a refusal
// The request's fields that the page has an input for, and the page's word for each.
const FIELDS = { expression: "expression", steps: "steps", tol: "tol", rates: "rates", start: "start", hyper: "optimiser", method: "optimiser", low: "low", high: "high", num: "count", momentum_high: "momentumTop", momentum_num: "perAxis", batch_size: "batchSize", epochs: "epochs" };
const VIEWS = ["descent", "sweep", "phase", "fit"];
// The fit view's choices: gdlab.fit's families and covariances, as the server's FitIn takes them.
const FAMILIES = ["linear", "logistic", "poisson", "binomial"];
const COVS = ["nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"];
const MAX_BODY = 64 * 1024; // the server's limit on a request's body (WebLimits.body_bytes); a CSV past it is refused here, before it is sent
// The lecture's cafe data (gdlab.datasets.cafe: temperature and sales), as the CSV a user would drop.
const CAFE_TEMP = [20.1, 22.2, 22.7, 23.3, 24.4, 25.1, 26.2, 27.3, 28.4, 30.4];
const CAFE_SALES = [55.4183651, 58.19427589, 61.23082496, 62.31255873, 63.1070028, 63.69569103, 67.24704918, 71.43650092, 73.10130336, 77.84988286];
export const CAFE_CSV = `temp,sales\n${CAFE_TEMP.map((x, i) => `${x},${CAFE_SALES[i]}`).join("\n")}\n`;
const FPS = 15;
// A typed loss is run once typing pauses this long (ms); one that ends in a function's name half
// typed ("si" of sin), once typing pauses this long.
const TYPED_WAIT = 40;
const NAME_WAIT = 600;

export function defaultState(language) {
  const p = PRESETS[0];
  return {
    e: p.e, d: null, s: structuredClone(p.s), r: ratesText(p.r), m: "gd", h: {}, n: p.n, t: p.t,
    v: "descent", lang: pickLanguage(language), big: false, x: 1,
    lo: 0.001, hi: 10, num: 50,
    pm: "momentum", plo: p.pr[0], phi: p.pr[1], pnum: 24, mhi: 0.95, // the phase diagram's optimiser and grid
    bs: null, ep: 20, // minibatches (gdlab.sgd) over the loss's data: rows a step, passes over the data
    fe: "", ff: "linear", fc: "nonrobust", fg: null, // the fit view's formula, family, covariance and cluster column (never the CSV)
  };
}

// The numbers typed in the fields are kept as typed ("0.01/6", "1e-8") and read by gdlab on the
// server, as the command line reads them: the page has no rule of its own, so nothing it cannot
// read is dropped in silence; the server's refusal is said next to the field.
export const ratesText = (r) => (Array.isArray(r) ? r.join(", ") : String(r ?? ""));
const typed = (v) => v !== null && v !== undefined && String(v).trim() !== "";
const TEXT_MAX = 2400; // the server's own limit on a typed field is lower; a URL is cut here

// ---- state <-> URL -----------------------------------------------------------

// b:1,c:2 ; a vector parameter's components are joined by | (beta:9|2)
const pairs = (o) => Object.entries(o).map(([k, v]) => `${k}:${Array.isArray(v) ? v.join("|") : v}`).join(",");
function unpairs(text) {
  const out = {};
  for (const part of (text || "").split(",")) {
    const [k, v] = part.split(":");
    if (!k || v === undefined) continue;
    const values = v.split("|").map((x) => x.trim().slice(0, 200));
    if (values.length > 1 && values.length <= 20) out[k.trim()] = values;
    else out[k.trim()] = values[0];
  }
  return out;
}

export function stateToQuery(s) {
  const q = new URLSearchParams();
  q.set("e", s.e);
  if (s.d) q.set("d", s.d);
  q.set("s", pairs(s.s));
  q.set("r", ratesText(s.r));
  q.set("m", s.m);
  if (Object.keys(s.h).length) q.set("h", pairs(s.h));
  q.set("n", String(s.n));
  if (typed(s.t)) q.set("t", String(s.t));
  q.set("v", s.v);
  q.set("lang", s.lang);
  if (s.big) q.set("big", "1");
  if (s.x !== 1) q.set("x", String(s.x));
  q.set("lo", String(s.lo));
  q.set("hi", String(s.hi));
  q.set("num", String(s.num));
  for (const key of ["pm", "plo", "phi", "pnum", "mhi"]) q.set(key, String(s[key]));
  if (typed(s.bs)) { q.set("bs", String(s.bs)); q.set("ep", String(s.ep)); }
  if (typed(s.fe)) q.set("fe", s.fe);
  if (s.ff !== "linear") q.set("ff", s.ff);
  if (s.fc !== "nonrobust") q.set("fc", s.fc);
  if (s.fc === "cluster" && typed(s.fg)) q.set("fg", s.fg);
  return q.toString();
}

export function stateFromQuery(query, base) {
  const q = new URLSearchParams(query);
  const s = { ...base, s: structuredClone(base.s), r: ratesText(base.r), h: { ...base.h } };
  if (q.has("e")) {
    s.e = q.get("e");
    s.d = q.get("d") === "cafe" ? "cafe" : null;
    s.s = unpairs(q.get("s"));
    s.t = q.has("t") ? q.get("t").slice(0, 200) : null;
  }
  if (q.has("r")) s.r = q.get("r").slice(0, TEXT_MAX);
  if (/^[a-z0-9-]{1,32}$/.test(q.get("m") || "")) s.m = q.get("m"); // the backend checks the name
  if (q.has("h")) s.h = unpairs(q.get("h"));
  if (typed(q.get("n"))) s.n = q.get("n").slice(0, 200);
  if (VIEWS.includes(q.get("v"))) s.v = q.get("v");
  if (["en", "ko"].includes(q.get("lang"))) s.lang = q.get("lang");
  s.big = q.get("big") === "1";
  const x = Number(q.get("x"));
  if (SPEEDS.includes(x)) s.x = x;
  for (const key of ["lo", "hi", "num", "plo", "phi", "pnum", "mhi", "bs", "ep"]) if (typed(q.get(key))) s[key] = q.get(key).slice(0, 200);
  if (/^[a-z0-9-]{1,32}$/.test(q.get("pm") || "")) s.pm = q.get("pm"); // the backend checks the name
  if (q.has("fe")) s.fe = q.get("fe").slice(0, TEXT_MAX);
  if (FAMILIES.includes(q.get("ff"))) s.ff = q.get("ff");
  if (COVS.includes(q.get("fc"))) s.fc = q.get("fc");
  if (typed(q.get("fg"))) s.fg = q.get("fg").slice(0, 200);
  return s;
}

// ---- small helpers ---------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false && v !== null && v !== undefined) el.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
  return el;
}

export function fmt(v) {
  if (v === null || v === undefined) return "not finite"; // the API sends inf, -inf and NaN as null (strict JSON): the sign is unknown here
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? Number(v.toPrecision(4)).toExponential() : String(Number(v.toPrecision(5)));
}

// A run's name in legends: its rate, or the optimiser's name when it chooses its own steps.
const label = (run) => (run.lr === null ? run.method : `lr=${fmt(run.lr)}`);

function debounce(fn, ms) {
  let timer = null;
  const call = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  call.cancel = () => clearTimeout(timer);
  return call;
}

// A name typed up to the caret that begins a function's name ("s", "si" of sin, "log" of log10), with
// no letter after the caret: the user is still typing it. Sent as it is, it would be a parameter.
export function halfName(text, caret, functions) {
  if (/^\w/.test(text.slice(caret))) return false;
  const name = /[A-Za-z_]\w*$/.exec(text.slice(0, caret));
  return !!name && functions.some((f) => f.startsWith(name[0]));
}

// The row of a run shown at `step`: the last one sent at or before it.
function rowAt(run, step) {
  const idx = run.index;
  let lo = 0;
  let hi = idx.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (idx[mid] <= step) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// The start by component: b, or beta[0] and beta[1] for a vector parameter (as runs name them).
export function flatStart(start) {
  const out = {};
  for (const [k, v] of Object.entries(start)) {
    if (Array.isArray(v)) v.forEach((x, i) => { out[`${k}[${i}]`] = x; });
    else out[k] = v;
  }
  return out;
}

// A value's place among increasing contour levels: level k at k, a value between two levels in
// proportion (by logarithm when they are log-spaced); values past the ends at the ends.
export function placeAmong(levels, log) {
  const f = log ? (v) => Math.log10(Math.max(v, 1e-300)) : (v) => v;
  const at = levels.map(f);
  const last = levels.length - 1;
  return (v) => {
    const x = f(v);
    if (!(x > at[0])) return 0;
    if (!(x < at[last])) return last;
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (at[mid] <= x) lo = mid; else hi = mid; }
    return lo + (x - at[lo]) / (at[hi] - at[lo]);
  };
}

// ---- the lab -----------------------------------------------------------------------

// The preset whose loss, data and start the state has ("" for the user's own): the loss typed
// back to a preset's, from the preset's start, is that preset again.
export function presetOf(s) {
  const same = (a, b) => {
    const x = flatStart(a);
    const y = flatStart(b);
    return Object.keys(x).length === Object.keys(y).length && Object.keys(y).every((k) => typed(x[k]) && Number(x[k]) === y[k]);
  };
  const p = PRESETS.find((q) => q.e === s.e && (q.d || null) === (s.d || null) && same(s.s, q.s));
  return p ? p.id : "";
}

export function mount(root, backend, options = {}) {
  const Plotly = globalThis.Plotly;
  const initial = defaultState(options.language || (globalThis.navigator && navigator.language));
  let state = options.useURL ? stateFromQuery(location.search, initial) : { ...initial, ...(options.state || {}) };
  state.r = ratesText(state.r);
  let parsed = null; // the last valid parse
  let result = null; // the last run: {runs, params}
  let land = null; // the landscape behind it
  let sweepResult = null;
  let sweepSeq = 0; // the sweep asked for last: an answer to an earlier one is dropped
  let phaseResult = null;
  let phaseSeq = 0;
  let frame = 0;
  let frames = 0;
  let maxStep = 0;
  let playing = false;
  let lastTick = 0;
  let saveRun = 0;
  let methods = METHODS.map((name) => ({ name, needs_lr: true, settings: HYPER[name] || {} }));
  let functions = []; // the functions a loss may call, from the backend (gdlab's own list)
  let nameWait = null;
  const ui = {};
  const method = () => methods.find((m) => m.name === state.m) || { name: state.m, needs_lr: true, settings: {} };
  const words = () => WORDS[state.lang];
  const t = (key) => words()[key] || key;

  function commit() {
    if (ui.preset) ui.preset.value = presetOf(state);
    if (options.useURL) history.replaceState(null, "", `${location.pathname}?${stateToQuery(state)}`);
    if (options.onState) options.onState(state);
  }

  // ---- refusals: said next to the input that caused them and above the picture ----
  let problems = [];
  // A problem is the server's {field, text, rule, limit} (gdlab.web._models.refusal): a bound it
  // breaks is said from its rule and limit in the page's language, anything else in the server's words.
  const RULES = { at_most: "atMost", at_least: "atLeast", more_than: "greaterThan", less_than: "lessThan", whole: "wholeNumber" };
  function translate(p) {
    const key = RULES[p.rule];
    if (!key) return p.text;
    return t(key).replace("{n}", Number(p.limit).toLocaleString("en-US"));
  }
  // A refusal's problems, kept as sent and put in the page's words when shown (so that a change of
  // language follows); an error without them (the network's) is one problem of no field.
  function problemsOf(err) {
    return err.problems || [{ field: null, text: String(err.detail || err.message || err), rule: null, limit: null }];
  }
  function showProblems(list) {
    problems = list;
    for (const [field, slot] of Object.entries(ui.errs || {})) {
      const mine = list.filter((p) => p.field === field).map(translate);
      slot.textContent = mine.join("; ");
      slot.hidden = !mine.length;
    }
    for (const [field, input] of Object.entries(ui.inputs || {})) input.toggleAttribute("aria-invalid", list.some((p) => p.field === field));
    if (ui.swatches) ui.swatches.hidden = list.some((p) => p.field === "rates"); // "0,5" is not the rates 0 and 5
    if (!ui.error) return;
    // A field the page has no input for is named as the server names it.
    // A loss's refusal is said in its first line: the lines that point at the place stay under the loss.
    const line = (text) => String(text).split("\n")[0];
    const what = list.map((p) => (FIELDS[p.field] ? `${t(FIELDS[p.field])}: ${line(translate(p))}` : p.field ? `${p.field}: ${line(p.text)}` : line(p.text))).join("; ");
    const shown = { sweep: sweepResult, phase: phaseResult }[state.v] ?? result;
    ui.error.textContent = list.length ? t(shown ? "notRun" : "notRunEmpty").replace("{what}", what) : "";
    ui.error.hidden = !list.length || state.v === "fit"; // the fit says its own refusals under its formula
  }
  function refused(err) { showProblems(problemsOf(err)); }
  // What the page can tell before asking: steps past the server's limit.
  function checkFirst() {
    const n = Number(state.n); // arithmetic (1e3, 10^3) is the server's to read
    if (!/^\s*\d+\s*$/.test(String(state.n)) || n <= MAX_STEPS) return true;
    showProblems([{ field: "steps", text: `${n} must be ${MAX_STEPS} or less`, rule: "at_most", limit: MAX_STEPS }]);
    return false;
  }
  function errSlot(field) {
    ui.errs[field] = h("small", { class: "lab-field-error", "data-testid": `error-${field}`, role: "alert", hidden: true });
    return ui.errs[field];
  }

  function note(text, kind = "") {
    ui.note.textContent = text || "";
    ui.note.className = `lab-note ${kind}`;
  }

  // ---- layout ----
  function build() {
    root.replaceChildren();
    root.classList.add("gdlab-lab");
    root.classList.toggle("lab-big", state.big);
    root.setAttribute("lang", state.lang);
    const header = h("header", { class: "lab-header" },
      h("h1", {}, t("title")), h("span", { class: "lab-tagline" }, t("tagline")),
      h("nav", { class: "lab-tabs", role: "tablist" },
        VIEWS.map((v) => h("button", {
          type: "button", role: "tab", class: "lab-tab", "data-view": v,
          "aria-selected": String(state.v === v), onclick: () => setView(v),
        }, t(v)))),
      h("label", { class: "lab-inline" }, t("language"), " ",
        ui.lang = h("select", { "data-testid": "lang", onchange: (ev) => { state.lang = ev.target.value; commit(); build(); } },
          h("option", { value: "en", selected: state.lang === "en" }, "English"),
          h("option", { value: "ko", selected: state.lang === "ko" }, "한국어"))),
      h("label", { class: "lab-inline" },
        h("input", { type: "checkbox", "data-testid": "big", checked: state.big, onchange: (ev) => { state.big = ev.target.checked; commit(); build(); } }),
        " ", t("big")));
    ui.errs = {};
    ui.inputs = {};
    ui.error = h("p", { class: "lab-error", "data-testid": "error", role: "alert", hidden: true });
    root.append(header, h("div", { class: "lab-body" }, controls(), h("main", { class: "lab-main" }, ui.error, descentView(), sweepView(), phaseView(), fitView())));
    setView(state.v, false);
    showProblems(problems);
    if (parsed) showParse(parsed);
    else derivatives();
    redraw();
    drawSweep();
    drawPhase();
  }

  function field(label, input, hint, error) {
    if (error) ui.inputs[error] = input;
    return h("label", { class: "lab-field" }, h("span", { class: "lab-label" }, label), input, hint ? h("small", {}, hint) : null, error ? errSlot(error) : null);
  }

  function controls() {
    const presetSelect = ui.preset = h("select", { "data-testid": "preset", onchange: (ev) => usePreset(ev.target.value) },
      h("option", { value: "" }, t("custom")),
      PRESETS.map((p) => h("option", { value: p.id, selected: p.id === presetOf(state) }, PRESET_NAMES[p.id][state.lang])));
    ui.expr = h("input", {
      type: "text", class: "lab-expr", value: state.e, spellcheck: "false", autocomplete: "off",
      "data-testid": "expression", "aria-label": t("expression"),
      // The old loss's animation stops while a new one is typed (its frames would hold up the
      // new loss's answer). An empty box is sent too: its refusal is said above the picture.
      oninput: (ev) => {
        state.e = ev.target.value;
        commit();
        pause();
        clearTimeout(nameWait);
        if (!halfName(state.e, ev.target.selectionStart ?? state.e.length, functions)) { validate(); typedRun(); return; }
        validateSoon.cancel(); // what an earlier key asked for would be sent with the half-typed name
        typedRun.cancel();
        waiting = null;
        nameWait = setTimeout(() => { validate(); typedRun(); }, NAME_WAIT);
      },
    });
    ui.check = h("pre", { class: "lab-check", "data-testid": "check", "aria-live": "polite" });
    ui.found = h("div", { class: "lab-found", "data-testid": "params" });
    ui.deriv = h("div", { class: "lab-deriv", "data-testid": "derivative" });
    ui.data = h("select", { "data-testid": "data", onchange: (ev) => { state.d = ev.target.value || null; commit(); validate(); runNow(true); } },
      h("option", { value: "", selected: !state.d }, t("noData")), h("option", { value: "cafe", selected: state.d === "cafe" }, "cafe (x, y)"));
    ui.starts = h("div", { class: "lab-starts", "data-testid": "starts" });
    // The numbers run once typing pauses (scheduleRun), as on Tab or Enter: valid ones draw, and
    // the refusal of others ("0,5", a 13th rate) is said after the same pause, not at each key.
    const rates = (ev) => { state.r = ev.target.value; commit(); swatches(); scheduleRun(); };
    ui.rates = h("input", { type: "text", value: state.r, "data-testid": "rates", spellcheck: "false", oninput: rates, onchange: rates });
    ui.swatches = h("div", { class: "lab-swatches" });
    ui.method = h("select", { "data-testid": "method", onchange: (ev) => { state.m = ev.target.value; state.h = {}; commit(); hyper(); swatches(); scheduleRun(); } },
      methods.map((m) => h("option", { value: m.name, selected: m.name === state.m }, m.name)));
    ui.hyper = h("div", { class: "lab-hyper" });
    const steps = (ev) => { state.n = ev.target.value; commit(); scheduleRun(); };
    ui.steps = h("input", { type: "text", value: String(state.n), "data-testid": "steps", spellcheck: "false", oninput: steps, onchange: steps });
    const tol = (ev) => { state.t = typed(ev.target.value) ? ev.target.value : null; commit(); scheduleRun(); };
    ui.tol = h("input", { type: "text", value: typed(state.t) ? String(state.t) : "", placeholder: "1e-8", "data-testid": "tol", spellcheck: "false", oninput: tol, onchange: tol });
    ui.batch = h("input", { type: "text", value: typed(state.bs) ? String(state.bs) : "", placeholder: t("allRows"), "data-testid": "batch-size", spellcheck: "false",
      onchange: (ev) => { state.bs = typed(ev.target.value) ? ev.target.value : null; commit(); sgdFields(); scheduleRun(); } });
    ui.epochs = h("input", { type: "text", value: String(state.ep), "data-testid": "epochs", spellcheck: "false",
      onchange: (ev) => { state.ep = ev.target.value; commit(); scheduleRun(); } });
    ui.sgd = h("div", { class: "lab-field", "data-testid": "sgd-fields" },
      h("div", { class: "lab-row" }, field(t("batchSize"), ui.batch, null, "batch_size"), field(t("epochs"), ui.epochs, null, "epochs")),
      h("small", {}, t("batchHint")));
    ui.runSelect = h("select", { "data-testid": "save-run", onchange: (ev) => { saveRun = Number(ev.target.value); } });
    runChoices(); // a rebuild (large type, language) keeps the runs to save
    const downloads = h("div", { class: "lab-downloads" }, ["gif", "mp4", "png", "svg", "csv", "json"].map((f) =>
      h("button", { type: "button", "data-testid": `download-${f}`, onclick: () => download(f) }, f.toUpperCase())));
    ui.note = h("div", { class: "lab-note", "data-testid": "note", "aria-live": "polite" });
    const panel = ui.controls = h("aside", { class: "lab-controls" },
      field(t("preset"), presetSelect),
      field(t("expression"), ui.expr), ui.check, ui.found, ui.deriv,
      field(t("data"), ui.data),
      h("div", { class: "lab-field" }, h("span", { class: "lab-label" }, t("start")), ui.starts, h("small", {}, t("startHint")), errSlot("start")),
      field(t("rates"), ui.rates, t("ratesHint"), "rates"), ui.swatches,
      h("div", { class: "lab-row" }, field(t("optimiser"), ui.method, null, "method"), field(t("steps"), ui.steps, null, "steps"), field(t("tol"), ui.tol, null, "tol")),
      ui.hyper, errSlot("hyper"), ui.sgd,
      h("button", { type: "button", class: "lab-run", "data-testid": "run", onclick: () => runNow(true) }, t("run")),
      h("div", { class: "lab-field" }, h("span", { class: "lab-label" }, t("download")), downloads, field(t("runToSave"), ui.runSelect)),
      ui.note,
      h("small", { class: "lab-keys" }, t("keys")));
    starts();
    swatches();
    hyper();
    sgdFields();
    return panel;
  }

  function starts() {
    const flat = flatStart(state.s);
    const names = Object.keys(flat); // a vector parameter gets a box per component: beta[0], beta[1]
    ui.starts.replaceChildren(...names.map((n) => h("label", { class: "lab-start" }, h("span", {}, `${n} =`),
      h("input", { type: "text", spellcheck: "false", value: String(flat[n] ?? 1), "data-testid": `start-${n}`,
        onchange: (ev) => { putStart(n, ev.target.value); commit(); scheduleRun(); } }))));
  }

  // Set one component of the start (b, or beta[1] of a vector parameter).
  function putStart(name, value) {
    const m = /^(.+)\[(\d+)\]$/.exec(name);
    if (m && Array.isArray(state.s[m[1]])) state.s[m[1]][Number(m[2])] = value;
    else state.s[name] = value;
  }

  function swatches() {
    const own = !method().needs_lr;
    ui.rates.disabled = own;
    ui.swatches.replaceChildren(...(own
      ? [h("span", { class: "lab-swatch" }, sample(0), ` ${state.m}: ${t("ownStep")}`)]
      : state.r.split(",").filter(typed).map((r, i) => h("span", { class: "lab-swatch" },
        sample(i), ` lr=${r.trim()}`))));
  }

  // Minibatches need rows of data: the fields show for a loss that names data. With a batch size,
  // each rate runs gdlab.sgd for that many epochs, and the steps and tolerance are not used.
  const sgdMode = () => typed(state.bs) && !!(parsed ? parsed.data.length : state.d);
  function sgdFields() {
    if (!ui.sgd) return;
    ui.sgd.hidden = !(parsed && parsed.data.length);
    ui.steps.disabled = ui.tol.disabled = sgdMode();
  }

  function hyper() {
    const defaults = method().settings;
    ui.hyper.replaceChildren(...Object.entries(defaults).map(([k, d]) => field(k,
      h("input", { type: "text", spellcheck: "false", value: String(state.h[k] ?? d), "data-testid": `hyper-${k}`,
        onchange: (ev) => { state.h[k] = ev.target.value; commit(); scheduleRun(); } }))));
  }

  function descentView() {
    ui.plot = h("div", { class: "lab-plot", "data-testid": "plot" });
    ui.history = h("div", { class: "lab-history", "data-testid": "history" });
    ui.play = h("button", { type: "button", "data-testid": "play", onclick: togglePlay }, t("play"));
    ui.scrub = h("input", { type: "range", min: "0", max: "0", value: "0", "data-testid": "scrub", "aria-label": t("step"),
      oninput: (ev) => { pause(); frame = Number(ev.target.value); drawFrame(); } });
    ui.speed = h("select", { "data-testid": "speed", "aria-label": t("speed"), onchange: (ev) => { state.x = Number(ev.target.value); commit(); } },
      SPEEDS.map((x) => h("option", { value: String(x), selected: x === state.x }, `${x}×`)));
    ui.counter = h("span", { class: "lab-counter", "data-testid": "counter" });
    ui.table = h("table", { class: "lab-runs", "data-testid": "runs" });
    ui.more = h("p", { class: "lab-more" });
    return ui.descent = h("section", { class: "lab-view", "data-view": "descent" },
      ui.more, h("div", { class: "lab-plots" }, ui.plot, ui.history),
      h("div", { class: "lab-player" },
        h("button", { type: "button", "data-testid": "back", "aria-label": t("back"), title: t("back"), onclick: () => stepBy(-1) }, "◀"),
        ui.play,
        h("button", { type: "button", "data-testid": "forward", "aria-label": t("forward"), title: t("forward"), onclick: () => stepBy(1) }, "▶"),
        ui.scrub, ui.counter, h("label", { class: "lab-inline" }, t("speed"), " ", ui.speed)),
      ui.table);
  }

  function sweepView() {
    const num = (key, label) => field(label, ui.inputs[key] = h("input", { type: "text", spellcheck: "false", value: String(state[key]), "data-testid": `sweep-${key}`,
      onchange: (ev) => { state[key] = ev.target.value; commit(); runSweep(); } }), null, key);
    ui.sweepPlot = h("div", { class: "lab-sweep-plot", "data-testid": "sweep-plot" });
    ui.explain = h("p", { class: "lab-explain", "data-testid": "explain" }, t("explainHint"));
    ui.sweepSummary = h("p", { class: "lab-summary", "data-testid": "sweep-summary" });
    return ui.sweep = h("section", { class: "lab-view", "data-view": "sweep" },
      h("div", { class: "lab-row" }, num("lo", t("low")), num("hi", t("high")), num("num", t("count")),
        h("button", { type: "button", class: "lab-run", "data-testid": "run-sweep", onclick: runSweep }, t("run"))),
      ui.sweepSummary, ui.sweepPlot, ui.explain);
  }

  // The phase diagram: an optimiser with a momentum setting, its rate range and grid.
  function phaseView() {
    const num = (key, label) => field(label, h("input", { type: "text", spellcheck: "false", value: String(state[key]), "data-testid": `phase-${key}`,
      onchange: (ev) => { state[key] = ev.target.value; commit(); runPhase(); } }));
    ui.phaseMethod = h("select", { "data-testid": "phase-method", onchange: (ev) => { state.pm = ev.target.value; commit(); runPhase(); } });
    phaseChoices();
    ui.phasePlot = h("div", { class: "lab-phase-plot", "data-testid": "phase-plot" });
    ui.phaseNote = h("p", { class: "lab-explain", "data-testid": "phase-note", "aria-live": "polite" }, t("phaseHint"));
    ui.phaseSummary = h("p", { class: "lab-summary", "data-testid": "phase-summary" });
    return ui.phase = h("section", { class: "lab-view", "data-view": "phase" },
      h("div", { class: "lab-row" }, field(t("optimiser"), ui.phaseMethod), num("plo", t("low")), num("phi", t("high")),
        num("mhi", t("momentumTop")), num("pnum", t("perAxis")),
        h("button", { type: "button", class: "lab-run", "data-testid": "run-phase", onclick: runPhase }, t("run")),
        h("div", { class: "lab-downloads" }, ["png", "svg"].map((f) =>
          h("button", { type: "button", "data-testid": `phase-download-${f}`, "aria-label": `${t("download")} ${f.toUpperCase()}`, onclick: () => download(f, "phase/picture", phasePayload()) }, f.toUpperCase())))),
      ui.phaseSummary, ui.phasePlot, ui.phaseNote);
  }

  // The optimisers that weigh past gradients into a step (gdlab.METHODS says which setting).
  function phaseChoices() {
    const names = methods.filter((m) => m.momentum).map((m) => m.name);
    const shown = names.length ? names : ["momentum", "nesterov", "adam"]; // until the backend answers
    ui.phaseMethod.replaceChildren(...shown.map((n) => h("option", { value: n, selected: n === state.pm }, n)));
  }

  // ---- the fit: a model formula fitted to the user's own CSV, read in the browser ----
  // The CSV is kept here, never in the URL; gdlab.fit on the server reads and checks it.
  let csv = null; // {name, text, rows, columns}
  let fitResult = null; // the last answer: {summary, fit}
  let fitProblem = ""; // the server's refusal, or the page's own (no file, a file too large)
  let fitSeq = 0;

  // The header's names (quotes taken off) and the number of rows: shown only, never the rule.
  function readCsv(name, text) {
    const lines = text.split(/\r?\n/);
    while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
    const columns = (lines[0] || "").split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1")).filter((c) => c);
    return { name, text, rows: Math.max(0, lines.length - 1), columns };
  }

  function useFile(file) {
    if (!file) return;
    if (file.size > MAX_BODY) {
      csv = null;
      fitResult = null;
      fitSays(t("fitTooLarge").replace("{size}", kib(file.size)).replace("{limit}", kib(MAX_BODY)));
      fileInfo();
      return;
    }
    const reader = new FileReader();
    reader.onload = () => { csv = readCsv(file.name, String(reader.result)); fitResult = null; fitSays(""); fileInfo(); drawFit(); };
    reader.onerror = () => fitSays(`${file.name}: ${reader.error}`);
    reader.readAsText(file);
  }
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

  function useCafe() {
    csv = readCsv("cafe.csv", CAFE_CSV);
    fitResult = null;
    if (!typed(state.fe)) { state.fe = "sales ~ temp"; ui.formula.value = state.fe; commit(); }
    fileInfo();
    fitNow();
  }

  function fitSays(text) {
    fitProblem = text;
    ui.fitError.textContent = text;
    ui.fitError.hidden = !text;
    ui.formula.toggleAttribute("aria-invalid", !!text);
  }

  // A column's name, put in the formula at the caret: the response first, then terms joined by +.
  function insertColumn(name) {
    const box = ui.formula;
    const at = box.selectionStart ?? box.value.length;
    const before = box.value.slice(0, at);
    const after = box.value.slice(box.selectionEnd ?? at);
    const piece = !before.trim() ? `${name} ~ ` : /[\w)\]]\s*$/.test(before) ? `${/\s$/.test(before) ? "" : " "}+ ${name}` : `${/[\s(]$/.test(before) ? "" : " "}${name}`;
    box.value = before + piece + after;
    state.fe = box.value;
    commit();
    box.focus();
    box.setSelectionRange(before.length + piece.length, before.length + piece.length);
  }

  function fileInfo() {
    if (!ui.fileInfo) return;
    if (!csv) { ui.fileInfo.replaceChildren(t("fitNoFile")); groupChoices(); return; }
    ui.fileInfo.replaceChildren(
      h("strong", { "data-testid": "fit-file-name" }, csv.name), ` · `,
      h("span", { "data-testid": "fit-rows" }, t("fitRows").replace("{n}", csv.rows.toLocaleString("en-US"))), ` · ${t("fitColumns")}: `,
      h("span", { class: "lab-columns", "data-testid": "fit-columns" }, csv.columns.map((c) => h("button", {
        type: "button", class: "lab-column", "data-column": c, title: t("fitInsert").replace("{name}", c),
        "aria-label": t("fitInsert").replace("{name}", c), onclick: () => insertColumn(c),
      }, c))));
    groupChoices();
  }

  function groupChoices() {
    if (!ui.groups) return;
    const names = csv ? csv.columns : typed(state.fg) ? [state.fg] : [];
    if (names.length && !names.includes(state.fg)) state.fg = names[0];
    ui.groups.replaceChildren(...names.map((c) => h("option", { value: c, selected: c === state.fg }, c)));
    ui.groupsField.hidden = state.fc !== "cluster";
  }

  function fitView() {
    ui.file = h("input", { type: "file", accept: ".csv,text/csv,text/plain", "data-testid": "fit-file",
      onchange: (ev) => { useFile(ev.target.files[0]); ev.target.value = ""; } });
    ui.fileInfo = h("p", { class: "lab-file-info", "data-testid": "fit-file-info", "aria-live": "polite" });
    ui.formula = h("input", {
      type: "text", class: "lab-expr", value: state.fe, placeholder: "sales ~ temp + C(shop)", spellcheck: "false", autocomplete: "off",
      "data-testid": "fit-formula", "aria-describedby": "lab-fit-error lab-fit-hint",
      oninput: (ev) => { state.fe = ev.target.value; commit(); },
      onkeydown: (ev) => { if (ev.key === "Enter") { ev.preventDefault(); fitNow(); } },
    });
    ui.fitError = h("pre", { class: "lab-check bad", id: "lab-fit-error", "data-testid": "error-formula", role: "alert", hidden: true }); // a formula's caret lines up
    ui.family = h("select", { "data-testid": "fit-family", onchange: (ev) => { state.ff = ev.target.value; commit(); } },
      FAMILIES.map((f) => h("option", { value: f, selected: f === state.ff }, f)));
    ui.cov = h("select", { "data-testid": "fit-cov", onchange: (ev) => { state.fc = ev.target.value; commit(); groupChoices(); } },
      COVS.map((c) => h("option", { value: c, selected: c === state.fc }, c)));
    ui.groups = h("select", { "data-testid": "fit-groups", onchange: (ev) => { state.fg = ev.target.value; commit(); } });
    ui.groupsField = field(t("fitGroups"), ui.groups);
    ui.fitNote = h("p", { class: "lab-note", "data-testid": "fit-note", "aria-live": "polite" });
    ui.summary = h("pre", { class: "lab-fit-summary", "data-testid": "fit-summary", tabindex: "0", "aria-label": t("fitSummary"), hidden: true });
    const drop = h("div", { class: "lab-drop", "data-testid": "fit-drop" },
      h("div", { class: "lab-row" },
        field(t("fitFile"), ui.file),
        h("button", { type: "button", class: "lab-secondary", "data-testid": "fit-cafe", onclick: useCafe }, t("fitCafe"))),
      h("small", {}, t("fitDropHint")), ui.fileInfo);
    ui.fit = h("section", { class: "lab-view lab-fit", "data-view": "fit" },
      drop,
      h("label", { class: "lab-field" }, h("span", { class: "lab-label" }, t("fitFormula")), ui.formula,
        h("small", { id: "lab-fit-hint" }, t("fitHint")), ui.fitError),
      h("div", { class: "lab-row" }, field(t("fitFamily"), ui.family), field(t("fitCov"), ui.cov), ui.groupsField,
        h("button", { type: "button", class: "lab-run", "data-testid": "run-fit", onclick: fitNow }, t("fitRun"))),
      ui.fitNote, ui.summary);
    // A file dropped anywhere on the view is read as the chosen one is.
    ui.fit.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("lab-dropping"); });
    ui.fit.addEventListener("dragleave", (ev) => { if (!ui.fit.contains(ev.relatedTarget)) drop.classList.remove("lab-dropping"); });
    ui.fit.addEventListener("drop", (ev) => { ev.preventDefault(); drop.classList.remove("lab-dropping"); useFile(ev.dataTransfer && ev.dataTransfer.files[0]); });
    fileInfo();
    fitSays(fitProblem);
    drawFit();
    return ui.fit;
  }

  function drawFit() {
    if (!ui.summary) return;
    ui.summary.textContent = fitResult ? fitResult.summary : "";
    ui.summary.hidden = !fitResult;
  }

  async function fitNow() {
    if (!csv) { fitSays(t("fitNoFile")); return; }
    if (!typed(state.fe)) { fitSays(t("fitNoFormula")); return; }
    const payload = { csv: csv.text, formula: state.fe, family: state.ff, cov: state.fc, groups: state.fc === "cluster" ? state.fg : null };
    const size = new TextEncoder().encode(JSON.stringify(payload)).length;
    if (size > MAX_BODY) { fitSays(t("fitTooLarge").replace("{size}", kib(size)).replace("{limit}", kib(MAX_BODY))); return; }
    const seq = ++fitSeq; // a fit asked for later wins
    ui.fitNote.textContent = t("working");
    try {
      const out = await backend.call("fit", payload);
      if (seq !== fitSeq) return;
      fitResult = out;
      fitSays("");
    } catch (err) {
      if (seq !== fitSeq) return;
      fitSays(err.detail || String(err)); // the last summary stays, as the other views keep their picture
    }
    ui.fitNote.textContent = "";
    drawFit();
  }

  function setView(v, save = true) {
    state.v = v;
    for (const tab of root.querySelectorAll(".lab-tab")) tab.setAttribute("aria-selected", String(tab.dataset.view === v));
    ui.descent.hidden = v !== "descent";
    ui.sweep.hidden = v !== "sweep";
    ui.phase.hidden = v !== "phase";
    ui.fit.hidden = v !== "fit";
    // The fit reads a CSV, not the loss: the loss's controls give it the width.
    ui.controls.hidden = v === "fit";
    root.querySelector(".lab-body").classList.toggle("lab-wide", v === "fit");
    showProblems(problems);
    if (save) commit();
    if (v === "sweep" && !sweepResult && parsed) runSweep();
    if (v === "phase" && !phaseResult && parsed) runPhase();
    if (v === "sweep") drawSweep();
    else if (v === "phase") drawPhase();
    else redraw();
  }

  function usePreset(id) {
    const p = PRESETS.find((x) => x.id === id);
    if (!p) return;
    const { lo, hi, num } = defaultState(state.lang); // a preset brings its own sweep range, not the last one's
    const [plo, phi] = p.pr;
    Object.assign(state, { e: p.e, d: p.d || null, s: structuredClone(p.s), r: ratesText(p.r), n: p.n, t: p.t, m: "gd", h: {}, lo, hi, num, plo, phi, bs: null });
    problems = [];
    commit();
    parsed = null; // its parameters belong to the old loss: the preset's starts must not be pruned by them
    forgetSweep();
    build();
    validate();
    runNow(true);
  }

  // ---- talking to gdlab ----
  // The parses of the last few losses, by loss and data: the derivatives shown are those of the
  // loss the picture draws (drawnKey), which is not the loss typed while that one is refused.
  const parses = new Map();
  let drawnKey = null;
  const keyOf = (expression, data) => `${data || ""}\n${expression}`;
  function keep(key, out) {
    parses.delete(key);
    parses.set(key, out);
    if (parses.size > 32) parses.delete(parses.keys().next().value);
  }
  // The derivatives of the loss drawn (of the loss typed until a first picture is drawn).
  function derivatives() {
    const p = drawnKey === null ? parsed : parses.get(drawnKey);
    if (p) showDeriv(p);
    else if (drawnKey === null) ui.deriv.replaceChildren();
  }
  async function drawn(expression, data) {
    drawnKey = keyOf(expression, data);
    if (parses.has(drawnKey)) { derivatives(); return; }
    const key = drawnKey;
    try {
      keep(key, await backend.call("parse", { expression, data }));
      if (key === drawnKey) derivatives();
    } catch {
      // a loss that ran parses: nothing to say here should it not
    }
  }

  let parseSeq = 0;
  const validateSoon = debounce(async () => {
    const seq = ++parseSeq;
    try {
      const key = keyOf(state.e, state.d);
      const out = await backend.call("parse", { expression: state.e, data: state.d });
      keep(key, out);
      if (seq !== parseSeq) return;
      const changed = !parsed || parsed.text !== out.text || parsed.params.join() !== out.params.join() || parsed.dataName !== state.d;
      parsed = { ...out, dataName: state.d };
      showParse(parsed);
      if (changed) { forgetSweep(); if (state.v === "sweep") runSweep(); if (state.v === "phase") runPhase(); }
    } catch (err) {
      if (seq !== parseSeq) return;
      ui.check.textContent = err.detail || String(err);
      ui.check.className = "lab-check bad";
    }
  }, 120);
  function validate() { validateSoon(); }

  // The loss typed: its check, its parameters and their starts.
  function showParse(p) {
    ui.check.textContent = `✓ ${t("valid")}: ${p.text}`;
    ui.check.className = "lab-check good";
    ui.found.textContent = `${t("params")}: ${p.params.join(", ") || "—"}${p.data.length ? ` · ${t("data")}: ${p.data.join(", ")}` : ""}`;
    derivatives();
    for (const n of p.params) {
      const width = (p.shapes && p.shapes[n] && p.shapes[n][0]) || 0; // a vector of the matrix form
      const now = state.s[n];
      // A parameter without a start begins where gdlab found its gradient is not zero (1 is the
      // minimum of (x-1)^2 and of Rosenbrock's function: every rate would stop at step 0).
      const fresh = (p.start && p.start[n]) ?? 1;
      if (width && !(Array.isArray(now) && now.length === width)) state.s[n] = typed(now) && !Array.isArray(now) ? Array(width).fill(now) : Array.isArray(fresh) && fresh.length === width ? fresh : Array(width).fill(1);
      else if (!width && (Array.isArray(now) || !typed(now))) state.s[n] = fresh;
    }
    for (const n of Object.keys(state.s)) if (!p.params.includes(n)) delete state.s[n];
    starts();
    sgdFields();
  }

  // The loss drawn and its derivatives (a parse's answer).
  function showDeriv(p) {
    const symbol = (n) => n.replace(/^([A-Za-z]+)_?(\d+)$/, "$1_{$2}");
    ui.deriv.replaceChildren(h("span", { class: "lab-label" }, t("derivative")),
      formula(`L = ${p.latex}`, `L = ${p.text}`),
      ...p.params.map((n) => p.derivatives[n] === null
        ? formula(null, `∂L/∂${n}: ${t("noSymbolic")}`)
        : formula(`\\frac{\\partial L}{\\partial ${symbol(n)}} = ${p.derivatives_latex[n]}`, `∂L/∂${n} = ${p.derivatives[n]}`)),
      ...(p.notes || []).map((text) => h("small", { class: "lab-symbolic-note", "data-testid": "symbolic-note" }, text)));
  }

  // A formula typeset by KaTeX (served with the page, as MathML) when it is there, else as text.
  function formula(latex, plain) {
    const el = h("div", { class: "lab-formula", "data-plain": plain, title: plain });
    const katex = globalThis.katex;
    if (latex && katex) {
      try {
        katex.render(latex, el, { throwOnError: true, output: "mathml" });
        return el;
      } catch {
        // KaTeX does not know this piece of LaTeX: the text says the same
      }
    }
    el.textContent = plain;
    return el;
  }

  function request() {
    const out = { expression: state.e, data: state.d, start: state.s, rates: state.r, method: state.m, hyper: state.h, steps: state.n, tol: typed(state.t) ? state.t : null };
    return sgdMode() ? { ...out, batch_size: state.bs, epochs: state.ep } : out;
  }

  let told = Promise.resolve(); // the backend's methods and run styles, asked for once at mount
  let autoplay = true;
  const scheduleRun = debounce(() => runNow(true), 250);
  const typedRun = debounce(() => runNow(true), TYPED_WAIT);
  let busy = false; // a descent is on its way
  let waiting = null; // asked for meanwhile (its animate flag): sent, as the state is then, once the answer is in

  // One request draws the descent view: the runs, the loss behind them and the loss's parameters.
  // The server reads the start for the loss as it is now (a new parameter gets a start that moves;
  // an old one is left out), so what was typed runs without waiting for a parse. One is on its way
  // at a time: requests asked for meanwhile are folded into one, sent when it answers (compiling a
  // new loss cannot be stopped halfway, so stale requests sent at once would each be compiled first).
  async function runNow(animate = true) {
    if (!checkFirst()) return; // the last picture stays
    if (busy) { waiting = animate; return; }
    busy = true;
    // Mid-drag the window holds still, so the start stays under the pointer; it may change on release.
    const still = dragging && land && result;
    const asked = { ...request(), points: 1000, landscape: !still };
    const askedStart = JSON.stringify(state.s); // (the state's start is changed in place as it is typed)
    // An answer for a loss typed over since is not drawn when the loss as it is now is on its way next.
    const overtaken = () => waiting !== null && asked.expression !== state.e;
    note(t("working"), "busy");
    try {
      const out = await backend.call("descent", asked);
      if (overtaken()) return;
      const names = out.runs.length ? out.runs[0].names : out.params; // components: beta[0], beta[1]
      const kept = still && components(result).join() === names.join();
      await told; // each run's colour and dash, from gdlab, before it is drawn
      autoplay = animate;
      const renamed = Object.keys(state.s).join() !== Object.keys(out.start).join();
      // The start the runs began from, for the loss as it is now; a start typed since the request
      // is kept (its own run follows): taking the answer's over it lost what was typed.
      if (JSON.stringify(state.s) === askedStart) state.s = out.start;
      if (renamed) { commit(); starts(); }
      result = out;
      drawn(asked.expression, asked.data);
      land = out.landscape ? withContour(out.landscape) : kept ? land : null;
      maxStep = Math.max(0, ...out.runs.map((r) => r.steps));
      frames = Math.min(maxStep, MAX_FRAMES);
      frame = autoplay ? 0 : frames;
      if (saveRun >= out.runs.length) saveRun = 0;
      runChoices();
      note(out.landscape_error || "", out.landscape_error ? "bad" : "");
      showProblems([]);
      redraw();
      if (autoplay && frames > 0) play();
    } catch (err) {
      if (overtaken()) return; // a half-typed loss: the loss as it is now answers next
      note("");
      const list = problemsOf(err);
      const loss = list.filter((p) => p.field === "expression");
      if (loss.length) { // the loss itself: said under it, with the caret, as a parse says it
        ui.check.textContent = loss.map((p) => p.text).join("; ");
        ui.check.className = "lab-check bad";
      }
      showProblems(list); // the last picture stays, and the banner says it is not of the loss typed
    } finally {
      busy = false;
      if (waiting !== null) { const again = waiting; waiting = null; runNow(again); }
    }
  }

  function runChoices() {
    if (!result) return;
    ui.runSelect.replaceChildren(...result.runs.map((r, i) => h("option", { value: String(i), selected: i === saveRun }, label(r))));
  }

  function forgetSweep() { // the loss changed: the last sweep and phase diagram, and any still on their way, are of the old one
    sweepResult = null;
    sweepSeq += 1;
    phaseResult = null;
    phaseSeq += 1;
  }

  // The phase method's other settings: the descent's own when it is the same method, less the one varied.
  function phaseHyper() {
    if (state.pm !== state.m) return {};
    const varied = (methods.find((m) => m.name === state.pm) || {}).momentum;
    return Object.fromEntries(Object.entries(state.h).filter(([k]) => k !== varied));
  }

  function phasePayload() {
    const { expression, data, start, steps, tol } = request();
    return { expression, data, start, method: state.pm, hyper: phaseHyper(), steps, tol,
      low: state.plo, high: state.phi, num: state.pnum, momentum_high: state.mhi, momentum_num: state.pnum };
  }

  async function runPhase() {
    if (!parsed || !checkFirst()) return;
    const seq = ++phaseSeq; // a diagram asked for later wins, whichever answer arrives last
    note(t("working"), "busy");
    try {
      const out = await backend.call("phase", phasePayload());
      if (seq !== phaseSeq) return;
      phaseResult = out;
      note("");
      showProblems([]);
    } catch (err) {
      if (seq !== phaseSeq) return;
      note("");
      refused(err); // the last diagram stays
    }
    drawPhase();
  }

  async function runSweep() {
    if (!parsed || !checkFirst()) return;
    const seq = ++sweepSeq; // a sweep asked for later wins, whichever answer arrives last
    note(t("working"), "busy");
    try {
      const { expression, data, start, method, hyper: hp, steps, tol } = request();
      const out = await backend.call("sweep", { expression, data, start, method, hyper: hp, steps, tol, low: state.lo, high: state.hi, num: state.num });
      if (seq !== sweepSeq) return;
      sweepResult = out;
      note("");
      showProblems([]);
    } catch (err) {
      if (seq !== sweepSeq) return;
      note("");
      refused(err); // the last sweep stays
    }
    drawSweep();
  }

  // A file from the backend: the runs' (export), or the phase diagram's picture (phase/picture).
  async function download(format, kind = "export", payload = null) {
    note(t("working"), "busy");
    try {
      const asked = payload ? { ...payload, format } : { ...request(), format, run: saveRun, lang: state.lang, frames: 60 };
      const { blob, name } = await backend.download(asked, kind);
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      note(`${t("saved")}: ${name}`);
    } catch (err) {
      note("");
      refused(err);
    }
  }

  // ---- playing ----
  const stepOf = (k) => (frames ? Math.round((k * maxStep) / frames) : 0);
  function play() {
    if (!result || frames === 0) return;
    if (frame >= frames) frame = 0;
    playing = true;
    ui.play.textContent = t("pause");
    lastTick = performance.now();
    requestAnimationFrame(tick);
  }
  function pause() {
    playing = false;
    if (ui.play) ui.play.textContent = t("play");
  }
  function togglePlay() { if (playing) pause(); else play(); }
  function stepBy(d) {
    pause();
    frame = Math.max(0, Math.min(frames, frame + d));
    drawFrame();
  }
  function tick(now) {
    if (!playing) return;
    const every = 1000 / (FPS * state.x);
    if (now - lastTick >= every) {
      lastTick = now;
      frame += 1;
      drawFrame();
      if (frame >= frames) { pause(); return; }
    }
    requestAnimationFrame(tick);
  }

  function onKey(ev) {
    const tag = (ev.target && ev.target.tagName) || "";
    if (["INPUT", "SELECT", "TEXTAREA"].includes(tag) && ev.target.type !== "range") return;
    if (state.v === "fit") return; // no player there: space presses the button in focus
    if (ev.key === " " || ev.code === "Space") { ev.preventDefault(); togglePlay(); }
    else if (ev.key === "ArrowRight") { ev.preventDefault(); stepBy(1); }
    else if (ev.key === "ArrowLeft") { ev.preventDefault(); stepBy(-1); }
  }
  (options.keyTarget || root).addEventListener("keydown", onKey);

  // ---- drawing ----
  const font = () => ({ size: state.big ? 20 : 13, family: "system-ui, -apple-system, 'Segoe UI', 'Noto Sans KR', 'Malgun Gothic', sans-serif" });
  const config = { displayModeBar: false, responsive: true, scrollZoom: false, doubleClick: false };

  // What the pictures draw on: each component of the parameters (beta[0], beta[1] for a vector).
  const components = (out) => (out.runs.length ? out.runs[0].names : out.params);
  // The start by component, as gdlab read it (the fields hold text such as 0.01/6): every run's first row.
  const startOf = (out) => Object.fromEntries(out.runs[0].names.map((n, j) => [n, out.runs[0].params[0][j]]));

  function redraw() {
    if (!ui.plot || state.v !== "descent") return;
    const n = result ? components(result).length : 0;
    ui.more.textContent = n > 2 ? t("moreParams") : "";
    ui.plot.hidden = n > 2 || !land;
    drawFrame(true);
  }

  function drawFrame() {
    if (!result || !Plotly) return;
    const step = stepOf(frame);
    ui.scrub.max = String(frames);
    ui.scrub.value = String(frame);
    ui.counter.textContent = `${t("step")} ${step} / ${maxStep}`;
    const rows = result.runs.map((r) => rowAt(r, step));
    const names = components(result);
    if (names.length === 1 && land) Plotly.react(ui.plot, ...curve(rows, names[0]), config);
    else if (names.length === 2 && land) Plotly.react(ui.plot, ...contour(rows, names), config);
    Plotly.react(ui.history, ...lossHistory(rows), config);
    runsTable(rows);
  }

  function base(title) {
    return {
      font: font(), margin: { l: state.big ? 80 : 60, r: 20, t: state.big ? 64 : 40, b: state.big ? 64 : 48 }, dragmode: false, hovermode: "closest",
      showlegend: true, legend: { orientation: "h", x: 0, y: 1.01, yanchor: "bottom" }, paper_bgcolor: "white", plot_bgcolor: "white",
      title: title ? { text: title, font: { size: font().size } } : undefined,
    };
  }

  function column(run, name) { return run.names.indexOf(name); }

  // How many tick labels fit along `share` of an element's height in the current type size.
  function ticksFor(el, share) {
    const height = (el && el.clientHeight) || 400;
    return Math.max(2, Math.min(10, Math.floor((height * share) / (font().size * 3))));
  }

  function curve(rows, name) {
    const xs = land.axes[0];
    const ys = land.values;
    const traces = [{ x: xs, y: ys, mode: "lines", line: { color: "#555", width: 2 }, name: t("loss"), hoverinfo: "skip" }];
    const lo = land.min; // the least and largest finite values, from the server
    const hi = land.max;
    const pad = (hi - lo) * 0.08 || 1;
    const span = xs[xs.length - 1] - xs[0];
    const annotations = [];
    result.runs.forEach((run, i) => {
      const c = styleOf(i).colour;
      const j = column(run, name);
      const row = rows[i];
      const px = run.params.slice(0, row + 1).map((p) => p[j]);
      const py = run.loss.slice(0, row + 1);
      traces.push({ x: px, y: py, mode: "lines+markers", line: { color: c, width: 1.5, dash: dashOf(i, 1.5) }, marker: { color: c, size: 5, opacity: 0.5 }, showlegend: false, hoverinfo: "skip" });
      const b = run.params[row][j];
      const L = run.loss[row];
      const g = run.grad[row][j];
      traces.push(pinned(b, L, [xs[0], xs[xs.length - 1]], [lo - pad, hi + pad], c, label(run), name, t("loss")));
      if (b !== null && L !== null && g !== null) {
        const w = span * 0.12;
        traces.push({ x: [b - w, b + w], y: [L - g * w, L + g * w], mode: "lines", line: { color: c, dash: "dash", width: 2 }, showlegend: false, hoverinfo: "skip" });
        if (b >= xs[0] && b <= xs[xs.length - 1] && L >= lo - pad && L <= hi + pad) {
          // Into the picture, never up into the legend: below a point in the upper half, above one in the lower.
          const high = (L - (lo - pad)) / (hi - lo + 2 * pad) > 0.5;
          const reach = (28 + (font().size + 6) * i) * (high ? 1 : -1);
          const right = (b - xs[0]) / span < 0.5;
          annotations.push({ x: b, y: L, text: `${t("slope")} ${fmt(Number(g.toPrecision(3)))}`, showarrow: true, arrowhead: 0, arrowcolor: c, arrowwidth: 1.5, ax: right ? 24 : -24, ay: reach,
            xanchor: right ? "left" : "right", yanchor: high ? "top" : "bottom", font: { color: c, size: font().size }, bgcolor: "rgba(255,255,255,0.85)", name: "slope" });
        }
      }
    });
    const layout = base();
    // Powers of ten, never finance units (-600B) on a loss without a floor; automargin: the margins
    // widen to the tick labels (2.718406 on a loss that hardly changes over the window).
    layout.xaxis = { title: { text: name }, range: [xs[0], xs[xs.length - 1]], zeroline: false, exponentformat: "power", automargin: true };
    layout.yaxis = { title: { text: t("loss") }, range: [lo - pad, hi + pad], exponentformat: "power", automargin: true };
    layout.annotations = annotations;
    return [traces, layout];
  }

  // A run's current point; one outside the picture is pinned at its edge as a triangle
  // pointing the way it went (a diverging run stays visible), its true values in the hover.
  function pinned(x, y, xr, yr, colour, name, xName, yName) {
    let px = x;
    let py = y;
    let symbol = "circle";
    if (y === null || y > yr[1]) { py = yr[1]; symbol = "triangle-up"; }
    else if (y < yr[0]) { py = yr[0]; symbol = "triangle-down"; }
    if (x === null || x > xr[1]) { px = xr[1]; symbol = "triangle-right"; }
    else if (x < xr[0]) { px = xr[0]; symbol = "triangle-left"; }
    const shown = (v) => fmt(v);
    return {
      x: [px], y: [py], mode: "markers", cliponaxis: false, name,
      marker: { color: colour, symbol, size: state.big ? 18 : 13, line: { color: "white", width: 2 } },
      hovertemplate: `${xName}=${shown(x)}<br>${yName}=${shown(y)}<extra>${name}</extra>`,
    };
  }

  // A two-parameter landscape with the values its contour draws (rows by y), computed once when
  // it arrives. gdlab sends the levels (its pictures' own: log-spaced when the loss spans orders
  // of magnitude); plotly.js draws only evenly spaced levels, so each value is drawn at its place
  // among them (level k at k, between two in proportion, by logarithm for log levels).
  function withContour(view) {
    if (!view || view.names.length !== 2) return view;
    const [ax, ay] = view.axes;
    const at = placeAmong(view.levels, view.log);
    const z = ay.map((_, j) => ax.map((_, i) => (view.values[i][j] === null ? null : at(view.values[i][j]))));
    return { ...view, z, tickAt: view.ticks.map(at) };
  }

  function contour(rows, names) {
    const [ax, ay] = land.axes;
    const every = Math.max(1, Math.ceil(land.ticks.length / ticksFor(ui.plot, 0.8)));
    const shown = land.ticks.map((v, k) => k).filter((k) => k % every === 0);
    const traces = [{ type: "contour", x: ax, y: ay, z: land.z, colorscale: "Viridis", reversescale: false, autocontour: false, hoverinfo: "skip",
      contours: { coloring: "fill", showlines: true, start: 0, end: land.levels.length - 1, size: 1 }, line: { width: 0.5, color: "rgba(255,255,255,0.5)" }, showscale: true,
      zmin: 0, zmax: land.levels.length - 1,
      colorbar: { title: { text: t("loss") }, thickness: 14, tickmode: "array", tickvals: shown.map((k) => land.tickAt[k]), ticktext: shown.map((k) => fmt(land.ticks[k])) },
      name: t("loss"), showlegend: false }];
    result.runs.forEach((run, i) => {
      const c = styleOf(i).colour;
      const jx = column(run, names[0]);
      const jy = column(run, names[1]);
      const row = rows[i];
      const part = run.params.slice(0, row + 1);
      // A run whose loss rose is drawn faint, so that its wide bounces do not hide the others.
      const faint = run.status === "diverged" || !(run.final_loss <= run.start_loss);
      traces.push({ x: part.map((p) => p[jx]), y: part.map((p) => p[jy]), mode: "lines+markers", opacity: faint ? 0.45 : 1,
        line: { color: c, width: faint ? 1 : 2, dash: dashOf(i, faint ? 1 : 2) }, marker: { color: c, size: faint ? 2 : 4 }, showlegend: false, hoverinfo: "skip" });
      traces.push(pinned(run.params[row][jx], run.params[row][jy], [ax[0], ax[ax.length - 1]], [ay[0], ay[ay.length - 1]], c, label(run), names[0], names[1]));
    });
    const begin = startOf(result);
    traces.push({ x: [begin[names[0]]], y: [begin[names[1]]], mode: "markers", marker: { symbol: "x", size: 12, color: "black" }, name: t("start"), hoverinfo: "skip" });
    const layout = base();
    layout.xaxis = { title: { text: names[0] }, range: [ax[0], ax[ax.length - 1]], zeroline: false, exponentformat: "power", automargin: true };
    layout.yaxis = { title: { text: names[1] }, range: [ay[0], ay[ay.length - 1]], zeroline: false, exponentformat: "power", automargin: true };
    return [traces, layout];
  }

  function lossHistory(rows) {
    // A log axis; a loss of exactly 0 is drawn at the floor, below every positive loss.
    const all = result.runs.flatMap((r) => r.loss).filter((v) => v !== null);
    const positive = all.length > 0 && all.every((v) => v >= 0) && all.some((v) => v > 0);
    const floor = positive ? Math.min(...all.filter((v) => v > 0)) / 10 : 0;
    const shown = (v) => (positive && v !== null && v <= 0 ? floor : v);
    const traces = result.runs.map((run, i) => {
      const c = styleOf(i).colour;
      const row = rows[i];
      return { x: run.index.slice(0, row + 1), y: run.loss.slice(0, row + 1).map(shown), mode: "lines", line: { color: c, width: 2, dash: dashOf(i, 2) }, name: label(run), showlegend: false };
    });
    result.runs.forEach((run, i) => traces.push({ x: [run.index[rows[i]]], y: [shown(run.loss[rows[i]])], mode: "markers", marker: { color: styleOf(i).colour, size: 9 }, showlegend: false, hoverinfo: "skip" }));
    // The title says the scale drawn: a log axis only when every loss is positive (or 0, drawn at the floor).
    const layout = base(t(positive ? "lossVsStep" : "lossVsStepLinear"));
    layout.showlegend = false;
    layout.xaxis = { title: { text: t("iteration") }, range: [0, Math.max(1, maxStep)], automargin: true, exponentformat: "power" };
    layout.yaxis = { title: { text: t("loss") }, type: positive ? "log" : "linear", exponentformat: "power", automargin: true };
    if (positive) {
      // Labels at powers of ten only, as many as fit the height: the 2s and 5s between stack up in
      // large type. A loss that stays within a decade has fewer than two powers of ten to label
      // (none at all from 2.7 to 15): plotly.js chooses its labels there.
      const values = all.map(shown).filter((v) => v > 0);
      const top = Math.log10(Math.max(...values));
      const bottom = Math.log10(Math.min(...values));
      if (Math.floor(top) - Math.ceil(bottom) >= 1) layout.yaxis.dtick = Math.max(1, Math.ceil((top - bottom) / ticksFor(ui.history, 1)));
      else layout.yaxis.nticks = ticksFor(ui.history, 1);
    }
    return [traces, layout];
  }

  function runsTable(rows) {
    const head = h("tr", {}, h("th", {}, ""), h("th", {}, t("rate")), h("th", {}, t("status")), h("th", {}, t("loss")), h("th", {}, t("message")));
    const body = result.runs.map((run, i) => h("tr", { "data-status": run.status },
      h("td", {}, sample(i)),
      h("td", {}, run.lr === null ? "—" : fmt(run.lr)),
      h("td", { class: `lab-status ${run.status}` }, t(run.status)),
      h("td", {}, `${fmt(run.loss[rows[i]])}`),
      h("td", { class: "lab-message" }, run.message)));
    ui.table.replaceChildren(h("thead", {}, head), h("tbody", {}, body));
  }

  // ---- the sweep ----
  function drawSweep() {
    if (!ui.sweepPlot || !Plotly || state.v !== "sweep") return;
    if (!sweepResult) { Plotly.purge(ui.sweepPlot); ui.sweepSummary.textContent = ""; return; }
    const runs = [...sweepResult.runs].sort((a, b) => a.lr - b.lr);
    const finite = runs.map((r) => r.final_loss).filter((v) => v !== null && v > 0);
    const ceiling = finite.length ? Math.max(...finite) * 10 : 1;
    const traces = [];
    const regimes = [...new Set([...Object.keys(REGIME_COLOURS), ...runs.map((r) => r.regime)])];
    const colourOf = (regime) => REGIME_COLOURS[regime] || "#7f7f7f";
    const markerOf = (regime) => REGIME_MARKERS[regime] || "circle";
    for (const regime of regimes) {
      const mine = runs.filter((r) => r.regime === regime);
      if (!mine.length) continue;
      const name = t(regime);
      traces.push({ x: mine.map((r) => r.lr), y: mine.map((r) => (r.final_loss === null ? ceiling : Math.max(r.final_loss, 1e-300))), mode: "markers", name,
        marker: { color: colourOf(regime), size: 9, symbol: markerOf(regime) }, customdata: mine.map((r) => sweepResult.runs.indexOf(r)),
        hovertemplate: `lr=%{x:.4g}<br>${t("finalLoss")}=%{y:.3g}<extra>${name}</extra>`, xaxis: "x", yaxis: "y" });
      traces.push({ x: mine.map((r) => r.lr), y: mine.map((r) => r.steps), mode: "markers", name, showlegend: false,
        marker: { color: colourOf(regime), size: 7, symbol: markerOf(regime) }, customdata: mine.map((r) => sweepResult.runs.indexOf(r)),
        hovertemplate: `lr=%{x:.4g}<br>${t("stepsTaken")}=%{y}<extra>${name}</extra>`, xaxis: "x", yaxis: "y2" });
    }
    const shapes = [];
    let from = 0;
    for (let i = 1; i <= runs.length; i++) {
      if (i === runs.length || runs[i].regime !== runs[from].regime) {
        const left = from === 0 ? runs[0].lr / 1.05 : Math.sqrt(runs[from - 1].lr * runs[from].lr);
        const right = i === runs.length ? runs[i - 1].lr * 1.05 : Math.sqrt(runs[i - 1].lr * runs[i].lr);
        shapes.push({ type: "rect", xref: "x", yref: "paper", x0: left, x1: right, y0: 0, y1: 1, fillcolor: colourOf(runs[from].regime), opacity: 0.12, line: { width: 0 }, layer: "below" });
        from = i;
      }
    }
    const annotations = [];
    const critical = sweepResult.critical_lr;
    if (critical) {
      shapes.push({ type: "line", xref: "x", yref: "paper", x0: critical, x1: critical, y0: 0, y1: 1, line: { color: "black", dash: "dash", width: 2 } });
      // Above the picture, beside the line's top: clear of the line and of the points pinned at the top.
      annotations.push({ x: Math.log10(critical), xref: "x", yref: "paper", y: 1, yanchor: "bottom", xanchor: "left", xshift: 4, yshift: 4, text: `2/L = ${fmt(critical)}`,
        showarrow: false, font: { size: font().size }, bgcolor: "rgba(255,255,255,0.9)", name: "critical" });
    }
    const layout = base();
    Object.assign(layout, {
      hovermode: "x", shapes, annotations, legend: { orientation: "h", x: 0, xanchor: "left", y: 0, yref: "container", yanchor: "bottom" },
      // automargin: the titles stand clear of the tick labels however large the type.
      xaxis: { type: "log", title: { text: `${t("rate")} (lr)`, standoff: 8 }, anchor: "y2", exponentformat: "power", automargin: true },
      yaxis: { type: "log", title: { text: t("finalLoss"), standoff: 8 }, domain: [0.45, 1], exponentformat: "power", automargin: true, nticks: ticksFor(ui.sweepPlot, 0.5) },
      yaxis2: { title: { text: t("stepsTaken"), standoff: 8 }, domain: [0, 0.38], automargin: true, nticks: ticksFor(ui.sweepPlot, 0.35) },
      margin: { l: 20, r: 20, t: font().size * 2 + 12, b: font().size * 3 + 20 },
    });
    Plotly.react(ui.sweepPlot, traces, layout, config);
    const counts = Object.entries(sweepResult.counts).filter(([, v]) => v).map(([k, v]) => `${t(k)} ${v}`).join(" · ");
    ui.sweepSummary.textContent = `${counts}${sweepResult.summary ? ` — ${sweepResult.summary}` : ""}`;
    ui.sweepPlot.removeAllListeners?.("plotly_hover");
    ui.sweepPlot.removeAllListeners?.("plotly_click");
    ui.sweepPlot.on("plotly_hover", (ev) => {
      const run = sweepResult.runs[ev.points[0].customdata];
      if (run) ui.explain.textContent = `lr=${fmt(run.lr)} · ${t(run.regime)}: ${run.explain || ""}  (${run.note})`;
    });
    ui.sweepPlot.on("plotly_click", (ev) => {
      const run = sweepResult.runs[ev.points[0].customdata];
      if (!run) return;
      // Rounded to four digits (3.237, not 3.2374575428176433); the oldest gives way past twelve.
      const shown = String(Number(run.lr.toPrecision(4)));
      const kept = state.r.split(",").map((r) => r.trim()).filter((r) => typed(r) && r !== shown);
      state.r = [...kept, shown].slice(-12).join(", ");
      ui.rates.value = state.r;
      swatches();
      commit();
      setView("descent");
      runNow(true);
    });
  }

  // ---- the phase diagram ----
  function drawPhase() {
    if (!ui.phasePlot || !Plotly || state.v !== "phase") return;
    if (!phaseResult) { Plotly.purge(ui.phasePlot); ui.phaseSummary.textContent = ""; return; }
    const p = phaseResult;
    const colours = p.regime_colours || REGIME_COLOURS;
    const regimes = Object.keys(colours);
    const n = regimes.length;
    // One band of the colour scale per regime: cell values are the regime's place in the list.
    const colorscale = regimes.flatMap((r, k) => [[k / n, colours[r]], [(k + 1) / n, colours[r]]]);
    // Rows are momenta (y), columns rates (x): the transpose of gdlab's (rate, momentum) grid.
    const byMomentum = (grid) => p.momenta.map((_, j) => p.lrs.map((__, i) => grid[i][j]));
    const z = byMomentum(p.regime).map((row) => row.map((r) => regimes.indexOf(r)));
    const setting = p.setting;
    const traces = [{
      type: "heatmap", x: p.lrs, y: p.momenta, z, zmin: -0.5, zmax: n - 0.5, colorscale, showscale: false,
      customdata: byMomentum(p.notes), xgap: 1, ygap: 1, name: "",
      text: byMomentum(p.regime).map((row) => row.map((r) => t(r))),
      hovertemplate: `lr=%{x:.4g}, ${setting}=%{y:.3g}<br><b>%{text}</b>: %{customdata}<extra></extra>`,
    }];
    for (const r of regimes) { // the legend: a swatch per regime present
      if (!p.counts[r]) continue;
      traces.push({ x: [null], y: [null], mode: "markers", name: `${t(r)} ${p.counts[r]}`, marker: { color: colours[r], size: 12, symbol: "square" }, hoverinfo: "skip" });
    }
    const logs = p.lrs.map(Math.log10);
    const half = logs.length > 1 ? (logs[logs.length - 1] - logs[0]) / (logs.length - 1) / 2 : 0.5;
    const step = p.momenta.length > 1 ? (p.momenta[p.momenta.length - 1] - p.momenta[0]) / (p.momenta.length - 1) / 2 : 0.05;
    if (p.theory) {
      traces.push({ x: p.theory.critical_lrs, y: p.momenta, mode: "lines", name: t("boundary"), line: { color: "black", dash: "dash", width: 2.5 }, hoverinfo: "skip" });
      if (p.theory.best) traces.push({ x: [p.theory.best.lr], y: [p.theory.best.momentum], mode: "markers", name: t("bestPair"),
        marker: { color: "white", size: 16, symbol: "star", line: { color: "black", width: 2 } }, hovertemplate: `lr=%{x:.4g}, ${setting}=%{y:.3g}<extra>${t("bestPair")}</extra>` });
    }
    const layout = base();
    Object.assign(layout, {
      legend: { orientation: "h", x: 0, xanchor: "left", y: 0, yref: "container", yanchor: "bottom" },
      xaxis: { type: "log", range: [logs[0] - half, logs[logs.length - 1] + half], title: { text: `${t("rate")} (lr)`, standoff: 8 }, exponentformat: "power", automargin: true },
      // Up to the fastest pair when its momentum lies above the grid (the cafe's is 0.98), so that its star shows.
      yaxis: { range: [p.momenta[0] - step, Math.max(p.momenta[p.momenta.length - 1], p.theory?.best?.momentum ?? 0) + step], title: { text: setting, standoff: 8 }, automargin: true },
      margin: { l: 20, r: 20, t: 20, b: font().size * 4 + 24 },
    });
    Plotly.react(ui.phasePlot, traces, layout, config);
    const counts = Object.entries(p.counts).filter(([, v]) => v).map(([k, v]) => `${t(k)} ${v}`).join(" · ");
    const theory = p.theory ? `${p.theory.formula}${p.theory.best ? `; ${t("bestPair")}: lr=${fmt(p.theory.best.lr)}, ${setting}=${fmt(p.theory.best.momentum)}` : ""}` : p.theory_note;
    ui.phaseSummary.textContent = `${p.method}, ${p.steps} ${t("steps").toLowerCase()}: ${counts} — ${theory}`;
    ui.phasePlot.removeAllListeners?.("plotly_hover");
    ui.phasePlot.removeAllListeners?.("plotly_click");
    const cellOf = (ev) => { const pt = ev.points.find((q) => q.curveNumber === 0); return pt ? { i: pt.pointIndex[1], j: pt.pointIndex[0] } : null; };
    ui.phasePlot.on("plotly_hover", (ev) => {
      const c = cellOf(ev);
      if (c) ui.phaseNote.textContent = `lr=${fmt(p.lrs[c.i])}, ${setting}=${fmt(p.momenta[c.j])} · ${t(p.regime[c.i][c.j])}: ${p.notes[c.i][c.j]}`;
    });
    ui.phasePlot.on("plotly_click", (ev) => { const c = cellOf(ev); if (c) addPhaseRun(p, c.i, c.j); });
  }

  // A cell of the diagram joins the descent: its rate among the rates, the diagram's optimiser, its momentum.
  function addPhaseRun(p, i, j) {
    const shown = String(Number(p.lrs[i].toPrecision(4))); // rounded to four digits, as the sweep's are
    const kept = state.r.split(",").map((r) => r.trim()).filter((r) => typed(r) && r !== shown);
    state.r = [...kept, shown].slice(-12).join(", ");
    const others = state.m === p.method ? state.h : {};
    state.m = p.method;
    state.h = { ...others, [p.setting]: String(Number(p.momenta[j].toPrecision(4))) };
    ui.rates.value = state.r;
    for (const option of ui.method.options) option.selected = option.value === state.m;
    hyper();
    swatches();
    commit();
    setView("descent");
    runNow(true);
  }

  // ---- setting the start by clicking or dragging on the picture ----
  let dragging = false;
  function pointAt(ev) {
    const full = ui.plot._fullLayout;
    if (!full || !result || components(result).length > 2) return null;
    const box = ui.plot.getBoundingClientRect();
    const xa = full.xaxis;
    const ya = full.yaxis;
    const px = ev.clientX - box.left - xa._offset;
    const py = ev.clientY - box.top - ya._offset;
    if (px < 0 || px > xa._length || py < 0 || py > ya._length) return null;
    return { x: xa.p2c(px), y: ya.p2c(py) };
  }
  const dragRun = debounce(() => runNow(false), 30);
  function setStart(ev) {
    const p = pointAt(ev);
    if (!p) return false;
    const names = components(result);
    putStart(names[0], Number(p.x.toPrecision(6)));
    if (names.length === 2) putStart(names[1], Number(p.y.toPrecision(6)));
    const begin = flatStart(state.s);
    for (const n of names) { const box = root.querySelector(`[data-testid="start-${n}"]`); if (box) box.value = String(begin[n]); }
    commit();
    return true;
  }
  root.addEventListener("pointerdown", (ev) => {
    if (!ui.plot.contains(ev.target)) return;
    if (setStart(ev)) { dragging = true; pause(); dragRun(); ev.preventDefault(); }
  });
  root.addEventListener("pointermove", (ev) => { if (dragging && setStart(ev)) dragRun(); });
  const stop = () => { if (dragging) { dragging = false; runNow(true); } };
  root.addEventListener("pointerup", stop);
  root.addEventListener("pointerleave", stop);

  build();
  validate(); // the derivatives, beside the picture
  runNow(true); // the first picture: one request, sent at once
  told = backend.call("methods", {}).then((out) => {
    methods = out.methods;
    if (out.regime_colours) REGIME_COLOURS = out.regime_colours;
    if (out.regime_markers) REGIME_MARKERS = out.regime_markers;
    if (out.run_styles) STYLES = out.run_styles;
    if (out.functions) functions = out.functions;
    if (out.max_steps) MAX_STEPS = out.max_steps;
    ui.method.replaceChildren(...methods.map((m) => h("option", { value: m.name, selected: m.name === state.m }, m.name)));
    phaseChoices();
    hyper();
    swatches();
    drawFrame();
  }).catch(() => {}); // an older backend: the built-in list stands
  return { get state() { return state; }, run: runNow, sweep: runSweep, phase: runPhase, fit: fitNow, setView, play, pause };
}
