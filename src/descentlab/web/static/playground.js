// The playground's landscape view: the form generated from /api/options, the configuration in
// the URL, the server's paths drawn on the map (each new path growing over ANIMATION_MS) and
// the loss chart (landscape_charts.js draws them), the start moved by mouse or keyboard.
"use strict";

const DEFAULT_OPTIMIZERS = ["gd", "momentum", "adam", "rmsprop"];
const ANIMATION_MS = 600;

const state = {
  options: null, contours: null, result: null, drawn: 0, animation: null,
  inFlight: false, again: false,
};

// Colours go to the chosen optimizers in the form's order: at most six, all told apart.
function chosen() {
  return [...document.querySelectorAll("input[name=use]:checked")]
    .map((box) => fullName(box.value));
}

// A wrapper's row (lookahead, sam) names the optimizer it wraps in its select: the request and
// the URL name the pair WRAPPER:INNER (lookahead:adam); the row keeps the wrapper's name.
function fullName(row) {
  const inner = document.querySelector(`select[name=inner][data-optimizer="${row}"]`);
  return inner ? `${row}:${inner.value}` : row;
}

function rowOf(name) {
  return name.split(":")[0];
}

// A wrapper chain's default rate is its inner optimizer's (the family it steps as).
function defaultRate(f, row) {
  const name = fullName(row);
  return f.learning_rates[name] ?? f.learning_rates[name.slice(name.lastIndexOf(":") + 1)];
}

function colourOf(name) {
  const index = chosen().indexOf(name);
  return index < 0 ? "transparent" : PALETTE[index % PALETTE.length];
}

function paintSwatches() {
  for (const swatch of document.querySelectorAll("#controls .swatch")) {
    swatch.style.background = colourOf(fullName(swatch.dataset.optimizer));
  }
}

function functionInfo() {
  return state.options.functions.find((f) => f.name === $("function").value);
}

// The settings an optimizer's form offers: its registry entry's hyperparameters but the rate.
function settingsOf(optimizer) {
  return optimizer.hyperparameters.filter((h) => h.name !== "learning_rate");
}

// --- the URL ------------------------------------------------------------------------------

function readUrl(query) {
  const config = { function: query.get("function") || "rosenbrock" };
  config.optimizers = query.has("optimizers")
    ? query.get("optimizers").split(",").filter(Boolean) : DEFAULT_OPTIMIZERS;
  config.rates = {};
  config.settings = {};
  for (const [key, value] of query) {
    if (key.startsWith("lr.")) config.rates[key.slice(3)] = value;
    const setting = /^h\.([^.]+)\.(.+)$/.exec(key);
    if (setting) config.settings[`${setting[1]}.${setting[2]}`] = value;
  }
  for (const key of ["start", "steps", "noise", "noise_seed"]) config[key] = query.get(key);
  return config;
}

function writeUrl(request = readForm()) {
  const query = new URLSearchParams();
  query.set("function", request.function);
  query.set("optimizers", request.optimizers.map((o) => o.name).join(","));
  for (const o of request.optimizers) {
    const typed = document.querySelector(`input[name=lr][data-optimizer="${rowOf(o.name)}"]`);
    // a wrapper chain's default rate (its inner's) is sent, not written: the field is empty
    const given = typed === null || typed.value.trim() !== "";
    if (o.learning_rate !== null && given) query.set("lr." + o.name, String(o.learning_rate));
    for (const [key, value] of Object.entries(o.hyperparameters)) {
      query.set(`h.${o.name}.${key}`, String(value));
    }
  }
  if (request.start) query.set("start", request.start.join(","));
  if (request.steps !== null) query.set("steps", String(request.steps));
  if (request.noise) query.set("noise", String(request.noise));
  if (request.noise_seed) query.set("noise_seed", String(request.noise_seed));
  Page.replaceQuery("landscape", query);
}

// --- the form -----------------------------------------------------------------------------

// One input per hyperparameter (a checkbox for a true/false one), its default as placeholder.
function settingInput(owner, setting, given) {
  const label = document.createElement("label");
  const input = document.createElement("input");
  input.name = "h";
  input.dataset.owner = owner;
  input.dataset.key = setting.name;
  if (typeof setting.default === "boolean") {
    input.type = "checkbox";
    input.checked = given === undefined ? setting.default : given === "true";
    label.append(input, ` ${setting.name}`);
  } else {
    input.type = "number";
    input.step = "any";
    input.placeholder = setting.default === null ? "required" : String(setting.default);
    if (given !== undefined) input.value = given;
    label.append(`${setting.name} `, input);
  }
  return label;
}

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
    const named = config.optimizers.find((name) => rowOf(name) === o.name);
    row.querySelector("input[name=use]").checked = named !== undefined;
    let full = o.name;
    if (o.wraps_inner) {
      const inner = document.createElement("select");
      inner.name = "inner";
      inner.dataset.optimizer = o.name;
      inner.title = `the optimizer ${o.name} wraps (${o.name}:INNER)`;
      for (const other of state.options.optimizers) {
        if (!other.wraps_inner) inner.add(new Option(other.name, other.name));
      }
      const wanted = named === undefined ? "adam" : named.slice(o.name.length + 1);
      inner.value = [...inner.options].some((x) => x.value === wanted) ? wanted : "adam";
      row.querySelector("label").after(inner);
      full = `${o.name}:${inner.value}`;
    }
    const rate = row.querySelector("input[name=lr]");
    if (config.rates[full] !== undefined) rate.value = config.rates[full];
    const settings = settingsOf(o);
    if (settings.length) {
      const details = document.createElement("details");
      details.className = "settings";
      const summary = document.createElement("summary");
      summary.textContent = `${o.name}'s settings`;
      details.append(summary);
      for (const setting of settings) {
        details.append(settingInput(o.name, setting, config.settings[`${full}.${setting.name}`]));
      }
      details.open = settings.some((s) => config.settings[`${full}.${s.name}`] !== undefined);
      row.append(details);
    }
    box.appendChild(row);
    if (o.wraps_inner) showInnerSettings(o.name, config.settings);
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

// A wrapper row's inner optimizer's settings (lookahead:adam's beta1, ...), beside the
// wrapper's own and with the same names in the request (the chain takes both): built anew for
// the optimizer its select names, at their defaults or as ``given`` ("CHAIN.KEY": value) says.
function showInnerSettings(row, given = {}) {
  const box = document.querySelector(`#optimizers input[name=use][value="${row}"]`)
    .closest(".optimizer");
  const full = fullName(row), inner = full.slice(row.length + 1);
  const old = box.querySelector("details[data-inner-settings]");
  if (old) old.remove();
  const settings = settingsOf(state.options.optimizers.find((o) => o.name === inner));
  if (!settings.length) return;
  const details = document.createElement("details");
  details.className = "settings";
  details.dataset.innerSettings = inner;
  const summary = document.createElement("summary");
  summary.textContent = `${inner}'s settings (inside ${row})`;
  details.append(summary);
  for (const setting of settings) {
    const input = settingInput(row, setting, given[`${full}.${setting.name}`]);
    input.querySelector("input").dataset.inner = inner;
    details.append(input);
  }
  details.open = settings.some((s) => given[`${full}.${s.name}`] !== undefined);
  box.append(details);  // after the wrapper's own
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
    input.placeholder = String(defaultRate(f, input.dataset.optimizer));
    if (replace) input.value = "";
  }
}

// The hyperparameters set apart from their defaults: a typed number, a flipped checkbox.
function settingsGiven(name) {
  const given = {};
  for (const input of document.querySelectorAll(`input[name=h][data-owner="${name}"]`)) {
    const owner = input.dataset.inner ?? name; // an inner optimizer's setting: its default
    const setting = state.options.optimizers.find((o) => o.name === owner)
      .hyperparameters.find((h) => h.name === input.dataset.key);
    if (input.type === "checkbox") {
      if (input.checked !== setting.default) given[input.dataset.key] = input.checked;
    } else if (input.value.trim() !== "") {
      given[input.dataset.key] = Number(input.value);
    }
  }
  return given;
}

function readForm() {
  const optimizers = [];
  for (const box of document.querySelectorAll("input[name=use]:checked")) {
    const rate = document.querySelector(`input[name=lr][data-optimizer="${box.value}"]`);
    const wrapper = box.value !== fullName(box.value);
    optimizers.push({
      name: fullName(box.value),
      // a wrapper chain states its inner optimizer's default rate: it has none of its own
      learning_rate: numberOrNull(rate.value)
        ?? (wrapper ? defaultRate(functionInfo(), box.value) : null),
      hyperparameters: settingsGiven(box.value),
    });
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
  FieldErrors.clear($("controls"));
}

function showError(request, error) {
  const field = error.field + FieldErrors.settingNamed(error.field, error.message);
  const match = /^optimizers\[(\d+)\](\.hyperparameters(?:\.(.+))?)?/.exec(field);
  let place = null, input = null;
  if (match) {
    const name = rowOf(request.optimizers[Number(match[1])].name);
    place = document.querySelector(`[data-error-for-optimizer="${name}"]`);
    if (match[3]) {
      input = document.querySelector(
        `input[name=h][data-owner="${name}"][data-key="${match[3]}"]`);
    } else if (!match[2]) {
      input = document.querySelector(`input[name=lr][data-optimizer="${name}"]`);
    }
  } else {
    place = $("controls").querySelector(`[data-error-for="${error.field}"]`);
    input = document.querySelector(`#controls [data-field="${error.field}"]`);
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

// One request at a time: a change asks at once, and the changes made while it is on its way
// ask once more when it answers, with the form as it is then (typing "0.05" asks at most
// twice, and an answer already out of date is not shown).
async function run() {
  if (state.inFlight) {
    state.again = true;
    return;
  }
  state.inFlight = true;
  try {
    await ask();
  } catch (error) {
    $("status").textContent = `no answer from the server (${error.message})`;
  } finally {
    state.inFlight = false;
  }
  if (state.again) {
    state.again = false;
    run();
  }
}

async function ask() {
  const request = readForm();
  writeUrl(request);
  $("status").textContent = "running...";
  const answer = await fetch("/api/landscape", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  const document_ = await answer.json();
  if (state.again) return; // the form changed meanwhile: its own request answers instead
  clearErrors();
  if (!answer.ok) {
    showError(request, document_.error);
    const error = document_.error;
    $("status").textContent = `refused: ${error.field}: ${error.message} (marked by its field)`;
    return;
  }
  state.result = document_;
  $("command").value = document_.command;
  draw();
  $("status").textContent =
    `${document_.function}: ${document_.runs.length} paths of ${document_.steps} steps`;
}

// --- drawing (the canvases themselves: landscape_charts.js) -------------------------------

function mapTransform(canvas) {
  return LandscapeCharts.transform(canvas, state.contours);
}

function drawMap(progress = 1) {
  LandscapeCharts.drawMap($("map"), {
    contours: state.contours, fn: functionInfo(), result: state.result, colourOf, progress,
  });
}

function drawLoss() {
  LandscapeCharts.drawLoss($("loss"), state.result ? state.result.runs : null, colourOf);
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

// New paths grow from the start over ANIMATION_MS, one requestAnimationFrame at a time (at
// once where the reader asked for reduced motion). data-drawn counts the results shown; it
// goes up on a result's first frame, and data-animating is set until its last.
function draw() {
  paintSwatches();
  drawLoss();
  if (state.result) drawSummary();
  const map = $("map");
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const animation = { began: null };
  state.animation = animation;
  const frame = (now) => {
    if (state.animation !== animation) return; // a newer result animates instead
    if (animation.began === null) {
      animation.began = now;
      state.drawn += 1;
      map.dataset.drawn = String(state.drawn);
    }
    const progress = still ? 1 : Math.min(1, (now - animation.began) / ANIMATION_MS);
    drawMap(progress);
    if (progress < 1) {
      map.dataset.animating = "true";
      requestAnimationFrame(frame);
    } else {
      delete map.dataset.animating;
    }
  };
  requestAnimationFrame(frame);
}

// --- the start point from the mouse and from the keyboard ---------------------------------

function setStart([x, y]) {
  $("start-x").value = x.toPrecision(4);
  $("start-y").value = y.toPrecision(4);
  run();
}

function currentStart() {
  const f = functionInfo();
  const x = numberOrNull($("start-x").value), y = numberOrNull($("start-y").value);
  return [x ?? f.start[0], y ?? f.start[1]];
}

// Arrow keys move the start by 1/50 of the view (with Shift 1/10), and the paths redraw.
function moveStartByKey(event) {
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  if (!(event.key in moves)) return;
  event.preventDefault();
  const [dx, dy] = moves[event.key];
  const [width, height] = mapTransform($("map")).span;
  const part = event.shiftKey ? 10 : 50;
  const [x, y] = currentStart();
  $("start-x").value = (x + dx * width / part).toPrecision(4);
  $("start-y").value = (y + dy * height / part).toPrecision(4);
  run();
}

// --- sharing: the command line, results.json, the charts as PNG ----------------------------

async function copyCommand() {
  if (!state.result) return;
  await Share.copy(state.result.command, $("command-box"), $("command"), $("share-status"));
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
  Share.save(await answer.blob(), "results.json");
}

function downloadChart(id) {
  const name = `${$("function").value}-${id === "map" ? "trajectories" : "loss"}.png`;
  Share.canvasPng($(id), name);
}

// --- wiring -------------------------------------------------------------------------------

const LandscapeView = {
  async open(options, query) {
    state.options = options;
    buildForm(readUrl(query));
    await loadContours();
    $("function").addEventListener("change", async () => {
      showDefaults(true);
      state.result = null;
      await loadContours();
      run();
    });
    $("controls").addEventListener("input", (event) => {
      if (event.target.name === "inner") {
        showInnerSettings(event.target.dataset.optimizer);  // the inner's settings
        showDefaults(false);  // and its default rate
      }
      if (event.target.id !== "function") run();
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
      setStart(mapTransform(canvas).toPoint(px, py));
    });
    $("map").addEventListener("keydown", moveStartByKey);
    await run();
  },

  writeUrl() {
    writeUrl();
  },
};
window.LandscapeView = LandscapeView;
