// The playground's landscape view: forms generated from /api/options, the contour map and
// the loss chart drawn on canvases, the whole configuration kept in the URL's query string.
"use strict";

// Okabe & Ito's colour-blind-safe palette (yellow left out: it vanishes on the light map).
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
const DEFAULT_OPTIMIZERS = ["gd", "momentum", "adam", "rmsprop"];

const state = { options: null, contours: null, result: null, pending: null, drawn: 0 };
const $ = (id) => document.getElementById(id);

// Colours go to the chosen optimizers in the form's order: at most six, all told apart.
function chosen() {
  return [...document.querySelectorAll("input[name=use]:checked")].map((box) => box.value);
}

function colourOf(name) {
  const index = chosen().indexOf(name);
  return index < 0 ? "transparent" : PALETTE[index % PALETTE.length];
}

function paintSwatches() {
  for (const swatch of document.querySelectorAll(".swatch")) {
    swatch.style.background = colourOf(swatch.dataset.optimizer);
  }
}

function functionInfo() {
  return state.options.functions.find((f) => f.name === $("function").value);
}

// --- the URL ------------------------------------------------------------------------------

function readUrl() {
  const query = new URLSearchParams(window.location.search);
  const config = { function: query.get("function") || "rosenbrock" };
  config.optimizers = query.has("optimizers")
    ? query.get("optimizers").split(",").filter(Boolean) : DEFAULT_OPTIMIZERS;
  config.rates = {};
  for (const [key, value] of query) {
    if (key.startsWith("lr.")) config.rates[key.slice(3)] = value;
  }
  for (const key of ["start", "steps", "noise", "noise_seed"]) config[key] = query.get(key);
  return config;
}

function writeUrl(request) {
  const query = new URLSearchParams();
  query.set("function", request.function);
  query.set("optimizers", request.optimizers.map((o) => o.name).join(","));
  for (const o of request.optimizers) {
    if (o.learning_rate !== null) query.set("lr." + o.name, String(o.learning_rate));
  }
  if (request.start) query.set("start", request.start.join(","));
  if (request.steps !== null) query.set("steps", String(request.steps));
  if (request.noise) query.set("noise", String(request.noise));
  if (request.noise_seed) query.set("noise_seed", String(request.noise_seed));
  history.replaceState(null, "", "?" + query.toString());
}

// --- the form -----------------------------------------------------------------------------

function buildForm(config) {
  const select = $("function");
  for (const f of state.options.functions) select.add(new Option(f.name, f.name));
  select.value = state.options.functions.some((f) => f.name === config.function)
    ? config.function : "rosenbrock";
  const box = $("optimizers");
  for (const o of state.options.optimizers) {
    const row = document.createElement("div");
    row.className = "optimizer";
    row.innerHTML =
      `<label title="${o.summary}"><input type="checkbox" name="use" value="${o.name}">` +
      `<span class="swatch" data-optimizer="${o.name}"></span> ${o.name}</label>` +
      `<label>lr <input type="number" step="any" min="0" name="lr" data-optimizer="${o.name}"` +
      ` placeholder="default"></label><span class="error" data-error-for-optimizer="${o.name}">` +
      `</span>`;
    row.querySelector("input[name=use]").checked = config.optimizers.includes(o.name);
    const rate = row.querySelector("input[name=lr]");
    if (config.rates[o.name] !== undefined) rate.value = config.rates[o.name];
    box.appendChild(row);
  }
  paintSwatches();
  if (config.start) {
    const [x, y] = config.start.split(",");
    $("start-x").value = x;
    $("start-y").value = y;
  }
  if (config.steps) $("steps").value = config.steps;
  if (config.noise) $("noise").value = config.noise;
  if (config.noise_seed) $("noise-seed").value = config.noise_seed;
  showDefaults(false);
}

// The function's own start, steps and rates as placeholders (or values, on a new function).
function showDefaults(replace) {
  const f = functionInfo();
  $("formula").textContent = f.formula;
  for (const [id, value] of [["start-x", f.start[0]], ["start-y", f.start[1]],
                             ["steps", f.steps]]) {
    $(id).placeholder = String(value);
    if (replace) $(id).value = "";
  }
  for (const input of document.querySelectorAll("input[name=lr]")) {
    input.placeholder = String(f.learning_rates[input.dataset.optimizer]);
    if (replace) input.value = "";
  }
}

function numberOrNull(text) {
  return text.trim() === "" ? null : Number(text);
}

function readForm() {
  const optimizers = [];
  for (const box of document.querySelectorAll("input[name=use]:checked")) {
    const rate = document.querySelector(`input[name=lr][data-optimizer="${box.value}"]`);
    optimizers.push({ name: box.value, learning_rate: numberOrNull(rate.value) });
  }
  const x = numberOrNull($("start-x").value), y = numberOrNull($("start-y").value);
  return {
    function: $("function").value,
    optimizers,
    start: x === null && y === null ? null : [x ?? functionInfo().start[0],
                                              y ?? functionInfo().start[1]],
    steps: numberOrNull($("steps").value),
    noise: numberOrNull($("noise").value) ?? 0,
    noise_seed: numberOrNull($("noise-seed").value) ?? 0,
  };
}

// --- errors next to their field -----------------------------------------------------------

function clearErrors() {
  for (const e of document.querySelectorAll(".error")) e.textContent = "";
  for (const e of document.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
}

function showError(request, error) {
  const match = /^optimizers\[(\d+)\]/.exec(error.field);
  let place = null, input = null;
  if (match) {
    const name = request.optimizers[Number(match[1])].name;
    place = document.querySelector(`[data-error-for-optimizer="${name}"]`);
    input = document.querySelector(`input[name=lr][data-optimizer="${name}"]`);
  } else {
    place = document.querySelector(`[data-error-for="${error.field}"]`);
    input = document.querySelector(`[data-field="${error.field}"]`);
  }
  (place || $("general-error")).textContent = `${error.field}: ${error.message}`;
  if (input) input.setAttribute("aria-invalid", "true");
}

// --- talking to the server ----------------------------------------------------------------

async function loadContours() {
  const name = $("function").value;
  const answer = await fetch("/api/contours?function=" + encodeURIComponent(name));
  state.contours = await answer.json();
}

async function run() {
  const request = readForm();
  writeUrl(request);
  clearErrors();
  const ticket = {};
  state.pending = ticket;
  $("status").textContent = "running...";
  const answer = await fetch("/api/landscape", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  const document_ = await answer.json();
  if (state.pending !== ticket) return; // a newer request answers instead
  if (!answer.ok) {
    showError(request, document_.error);
    $("status").textContent = "refused: see the message by the field";
    return;
  }
  state.result = document_;
  $("command").value = document_.command;
  draw();
  $("status").textContent =
    `${document_.function}: ${document_.runs.length} paths of ${document_.steps} steps`;
}

let timer = null;
function runSoon() {
  clearTimeout(timer);
  timer = setTimeout(run, 120);
}

// --- drawing ------------------------------------------------------------------------------

function mapTransform(canvas) {
  const g = state.contours, n = g.x.length, m = g.y.length;
  const [x0, x1, y0, y1] = [g.x[0], g.x[n - 1], g.y[0], g.y[m - 1]];
  return {
    toPixel: ([x, y]) => [(x - x0) / (x1 - x0) * canvas.width,
                          (1 - (y - y0) / (y1 - y0)) * canvas.height],
    toPoint: (px, py) => [x0 + px / canvas.width * (x1 - x0),
                          y0 + (1 - py / canvas.height) * (y1 - y0)],
  };
}

// Filled bands between the contour levels, their borders drawn darker.
function drawContours(context, canvas) {
  const g = state.contours, n = g.x.length, m = g.y.length, levels = g.levels;
  const w = canvas.width, h = canvas.height;
  const band = new Int16Array(w * h);
  for (let py = 0; py < h; py++) {
    const r = (1 - py / (h - 1)) * (m - 1), r0 = Math.min(m - 2, Math.floor(r)), fr = r - r0;
    for (let px = 0; px < w; px++) {
      const c = (px / (w - 1)) * (n - 1), c0 = Math.min(n - 2, Math.floor(c)), fc = c - c0;
      const [a, b] = [g.heights[r0], g.heights[r0 + 1]];
      // Bilinear between the four grid points around the pixel.
      const value = (1 - fr) * ((1 - fc) * a[c0] + fc * a[c0 + 1]) +
                    fr * ((1 - fc) * b[c0] + fc * b[c0 + 1]);
      let k = 0;
      while (k < levels.length && Number.isFinite(value) && value >= levels[k]) k++;
      band[py * w + px] = k;
    }
  }
  const image = context.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const t = band[i] / levels.length;
    const edge = (i % w > 0 && band[i - 1] !== band[i]) || (i >= w && band[i - w] !== band[i]);
    const shade = edge ? 150 : 250 - 60 * t;
    image.data[4 * i] = shade - 10;
    image.data[4 * i + 1] = shade;
    image.data[4 * i + 2] = Math.min(255, shade + 15);
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

// The map keeps the view's aspect ratio (x and y on one scale), within 240..720 pixels high.
function fitMap(canvas) {
  const g = state.contours;
  const ratio = (g.y[g.y.length - 1] - g.y[0]) / (g.x[g.x.length - 1] - g.x[0]);
  const height = Math.round(Math.min(720, Math.max(240, canvas.width * ratio)));
  if (canvas.height !== height) canvas.height = height;
}

function drawMap() {
  const canvas = $("map"), context = canvas.getContext("2d");
  fitMap(canvas);
  drawContours(context, canvas);
  const { toPixel } = mapTransform(canvas);
  const f = functionInfo();
  context.fillStyle = "#000";
  context.font = "16px sans-serif";
  for (const point of f.minima) {
    const [px, py] = toPixel(point);
    context.fillText(f.has_minimum ? "\u2605" : "\u2715", px - 6, py + 6);
  }
  if (!state.result) return;
  for (const r of state.result.runs) {
    context.strokeStyle = colourOf(r.optimizer);
    context.lineWidth = 2;
    context.beginPath();
    r.path.forEach((point, i) => {
      const [px, py] = toPixel(point);
      if (i === 0) context.moveTo(px, py); else context.lineTo(px, py);
    });
    context.stroke();
  }
  const [sx, sy] = toPixel(state.result.start);
  context.fillStyle = "#000";
  context.beginPath();
  context.arc(sx, sy, 4, 0, 2 * Math.PI);
  context.fill();
}

function drawLoss() {
  const canvas = $("loss"), context = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, left = 56, bottom = 28, top = 10, right = 10;
  context.clearRect(0, 0, w, h);
  if (!state.result) return;
  const runs = state.result.runs;
  const values = runs.flatMap((r) => r.loss).filter((v) => v !== null);
  const log = values.every((v) => v > 0);
  const scale = (v) => (log ? Math.log10(v) : v);
  const lows = values.map(scale);
  let low = Math.min(...lows), high = Math.max(...lows);
  if (high === low) high = low + 1;
  const steps = Math.max(...runs.map((r) => r.loss.length - 1), 1);
  const px = (t) => left + (t / steps) * (w - left - right);
  const py = (v) => top + (1 - (scale(v) - low) / (high - low)) * (h - top - bottom);
  context.strokeStyle = "#888";
  context.strokeRect(left, top, w - left - right, h - top - bottom);
  context.fillStyle = "#333";
  context.font = "11px sans-serif";
  for (const k of [0, 0.5, 1]) {
    const v = low + k * (high - low);
    const label = log ? `1e${v.toFixed(1)}` : v.toPrecision(3);
    context.fillText(label, 2, top + (1 - k) * (h - top - bottom) + 4);
  }
  context.fillText("0", left, h - 10);
  context.fillText(`step ${steps}`, w - right - 60, h - 10);
  for (const r of runs) {
    context.strokeStyle = colourOf(r.optimizer);
    context.lineWidth = 1.5;
    context.beginPath();
    let started = false;
    r.loss.forEach((v, t) => {
      if (v === null) return;
      if (!started) { context.moveTo(px(t), py(v)); started = true; }
      else context.lineTo(px(t), py(v));
    });
    context.stroke();
  }
}

function drawSummary() {
  const body = document.querySelector("#summary tbody");
  body.innerHTML = "";
  for (const r of state.result.runs) {
    const row = body.insertRow();
    const status = r.status === "finished" ? "finished" : `diverged at step ${r.diverged_step}`;
    const shown = (v, digits) => (v === null ? "-" : v.toPrecision(digits));
    for (const text of [r.optimizer, shown(r.learning_rate, 3), shown(r.final_value, 4),
                        shown(r.distance_to_minimum, 3), status]) {
      row.insertCell().textContent = text;
    }
    row.cells[0].style.color = colourOf(r.optimizer);
  }
}

function draw() {
  paintSwatches();
  drawMap();
  drawLoss();
  if (state.result) drawSummary();
  state.drawn += 1;
  $("map").dataset.drawn = String(state.drawn);
}

// --- sharing: the command line, results.json, the charts as PNG ----------------------------

// Copy the `descentlab landscape` line of the paths shown; where the clipboard is out of reach
// (a page served to another machine over plain http), show it selected to copy by hand.
async function copyCommand() {
  if (!state.result) return;
  const text = state.result.command;
  $("command").value = text;
  try {
    await navigator.clipboard.writeText(text);
    $("share-status").textContent = "copied: " + text;
  } catch (error) {
    $("command-box").hidden = false;
    $("command").focus();
    $("command").select();
    $("share-status").textContent = "the clipboard is not available here: copy the line above";
  }
}

function save(blob, filename) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function downloadResults() {
  const request = readForm();
  const answer = await fetch("/api/landscape/results.json", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  if (!answer.ok) {
    showError(request, (await answer.json()).error);
    return;
  }
  save(await answer.blob(), "results.json");
}

function downloadChart(id) {
  const name = `${$("function").value}-${id === "map" ? "trajectories" : "loss"}.png`;
  $(id).toBlob((blob) => save(blob, name), "image/png");
}

// --- wiring -------------------------------------------------------------------------------

async function start() {
  const answer = await fetch("/api/options");
  state.options = await answer.json();
  buildForm(readUrl());
  await loadContours();
  $("function").addEventListener("change", async () => {
    showDefaults(true);
    state.result = null;
    await loadContours();
    run();
  });
  $("controls").addEventListener("input", (event) => {
    if (event.target.id !== "function") runSoon();
  });
  $("controls").addEventListener("submit", (event) => event.preventDefault());
  $("copy-command").addEventListener("click", copyCommand);
  $("download-results").addEventListener("click", downloadResults);
  $("download-map").addEventListener("click", () => downloadChart("map"));
  $("download-loss").addEventListener("click", () => downloadChart("loss"));
  $("map").addEventListener("click", (event) => {
    const canvas = $("map"), box = canvas.getBoundingClientRect();
    const px = (event.clientX - box.left) * (canvas.width / box.width);
    const py = (event.clientY - box.top) * (canvas.height / box.height);
    const [x, y] = mapTransform(canvas).toPoint(px, py);
    $("start-x").value = x.toPrecision(4);
    $("start-y").value = y.toPrecision(4);
    run();
  });
  await run();
}

start();
