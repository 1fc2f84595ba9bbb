// The race view's form: generated from /api/options "race" (the datasets, the optimizers with
// their hyperparameters, the schedules; nothing here is written per optimizer), read into a
// start message's config, and kept in the URL's query string. An empty field means the
// default, shown as its placeholder, and is left out of the config and of the URL.
"use strict";

const RaceForm = (() => {
  const UPLOAD = "@upload"; // the dataset select's value for the uploaded CSV
  let race = null; // /api/options "race"
  let upload = null; // {upload: token, name, n_examples, n_features, n_classes} once sent
  let uploadWanted = null; // the file name a shared link's race used, to be chosen again

  const field = (id) => $(id);

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (key.startsWith("data-") || key === "for" || key === "list") node.setAttribute(key, value);
      else node[key] = value;
    }
    node.append(...children);
    return node;
  }

  function errorSpan(key) {
    return element("span", { className: "error", "data-error-for": key });
  }

  function datasetInfo() {
    return race.datasets.find((d) => d.name === field("race-dataset").value) || null;
  }

  function usingUpload() {
    return field("race-dataset").value === UPLOAD;
  }

  // --- building ---------------------------------------------------------------------------

  function settingInput(owner, setting) {
    const key = `optimizers.${owner}.hyperparameters.${setting.name}`;
    const attributes = { name: "race-h", "data-race-optimizer": owner, "data-key": setting.name,
                         "data-field": key };
    if (typeof setting.default === "boolean") {
      const input = element("input", { ...attributes, type: "checkbox", defaultChecked: setting.default });
      return element("label", {}, input, ` ${setting.name}`);
    }
    const input = element("input", {
      ...attributes, type: "number", step: "any",
      placeholder: setting.default === null ? "required" : String(setting.default),
    });
    return element("label", {}, `${setting.name} `, input);
  }

  function optimizerRow(o) {
    const use = element("input", { type: "checkbox", name: "race-use", value: o.name });
    const swatch = element("span", { className: "swatch", "data-race-optimizer": o.name });
    const rate = element("input", {
      type: "number", step: "any", min: "0", name: "race-lr", "data-race-optimizer": o.name,
      "data-field": `optimizers.${o.name}.learning_rate`, placeholder: String(o.learning_rate),
    });
    const row = element("div", { className: "optimizer", "data-race-optimizer": o.name },
      element("label", { title: o.summary }, use, swatch, ` ${o.name}`));
    if (o.wraps_inner) { // lookahead, sam: the row names the optimizer it wraps, WRAPPER:INNER
      const inner = element("select", { name: "race-inner", "data-race-optimizer": o.name,
                                        title: `the optimizer ${o.name} wraps (${o.name}:INNER)` });
      for (const other of race.optimizers) {
        if (!other.wraps_inner) inner.add(new Option(other.name, other.name));
      }
      inner.value = "adam";
      inner.addEventListener("input", () => showInnerSettings(o.name));
      row.append(inner);
    }
    row.append(element("label", {}, "lr ", rate));
    const settings = o.hyperparameters.filter((h) => h.name !== "learning_rate");
    if (settings.length) {
      const details = element("details", { className: "settings" },
        element("summary", {}, `${o.name}'s settings`));
      for (const setting of settings) details.append(settingInput(o.name, setting));
      row.append(details);
    }
    row.append(errorSpan(`optimizers.${o.name}`));
    if (o.wraps_inner) showInnerSettings(o.name, row);
    return row;
  }

  // A wrapper row's inner optimizer's settings (lookahead:adam's beta1, ...), beside the
  // wrapper's own and with the same names in the request (the chain takes both): built anew,
  // at their defaults, for the optimizer its select names.
  function showInnerSettings(name, row = field("race-optimizers")
    .querySelector(`.optimizer[data-race-optimizer="${name}"]`)) {
    const inner = row.querySelector("select[name=race-inner]").value;
    const old = row.querySelector("details[data-inner-settings]");
    if (old) old.remove();
    const settings = optionsOf(inner).hyperparameters.filter((h) => h.name !== "learning_rate");
    if (!settings.length) return;
    const details = element("details", { className: "settings", "data-inner-settings": inner },
      element("summary", {}, `${inner}'s settings (inside ${name})`));
    for (const setting of settings) details.append(settingInput(name, setting));
    row.querySelector(`[data-error-for="optimizers.${name}"]`).before(details);
  }

  function scheduleInputs() {
    const box = field("race-schedule-fields");
    for (const f of race.schedule_fields) {
      const key = `schedule.${f.name}`;
      let input;
      if (f.choices) {
        input = element("select", { id: `race-schedule-${f.name}`, "data-field": key });
        for (const choice of f.choices) input.add(new Option(choice, choice));
        input.value = String(f.default);
      } else {
        input = element("input", { id: `race-schedule-${f.name}`, type: "number", step: "any",
                                   placeholder: String(f.default), "data-field": key });
      }
      input.dataset.schedule = f.name;
      box.append(element("label", {}, `${f.name.replace(/_/g, " ")} `, input), errorSpan(key));
    }
  }

  function build(raceOptions, query) {
    race = raceOptions;
    const select = field("race-dataset");
    for (const d of race.datasets) {
      const option = new Option(d.name, d.name);
      option.title = d.summary;
      select.add(option);
    }
    for (const s of race.schedules) field("race-schedule").add(new Option(s.name, s.name));
    scheduleInputs();
    const box = field("race-optimizers");
    for (const o of race.optimizers) box.append(optimizerRow(o));
    restore(query);
  }

  // --- the URL ----------------------------------------------------------------------------

  const SIMPLE = [["n_samples", "race-n-samples"], ["noise", "race-noise"],
                  ["data_seed", "race-data-seed"], ["hidden", "race-hidden"],
                  ["batch_size", "race-batch-size"], ["epochs", "race-epochs"],
                  ["seed", "race-seed"]];

  // The form exactly as the query says; what it leaves out shows its default.
  function restore(query) {
    const defaults = race.defaults;
    const select = field("race-dataset");
    if (query.has("upload")) {
      uploadWanted = query.get("upload");
      select.add(new Option(`your CSV: ${uploadWanted}`, UPLOAD));
      select.value = UPLOAD;
    } else {
      const asked = query.get("dataset");
      select.value = race.datasets.some((d) => d.name === asked) ? asked : defaults.dataset;
    }
    for (const [key, id] of SIMPLE) field(id).value = query.get(key) ?? "";
    const schedule = query.get("schedule");
    field("race-schedule").value =
      race.schedules.some((s) => s.name === schedule) ? schedule : race.schedules[0].name;
    for (const f of race.schedule_fields) {
      const value = query.get(`schedule.${f.name}`);
      field(`race-schedule-${f.name}`).value = value ?? (f.choices ? String(f.default) : "");
    }
    const names = query.has("optimizers")
      ? query.get("optimizers").split(",").filter(Boolean) : defaults.optimizers;
    for (const box of document.querySelectorAll("input[name=race-use]")) {
      const named = names.find((name) => name.split(":")[0] === box.value);
      box.checked = named !== undefined;
      const inner = innerSelect(box.value);
      if (inner && named !== undefined) {
        const wanted = named.slice(box.value.length + 1);
        if ([...inner.options].some((option) => option.value === wanted)) inner.value = wanted;
      }
      if (inner) showInnerSettings(box.value);
    }
    for (const input of document.querySelectorAll("input[name=race-lr]")) {
      input.value = query.get(`lr.${fullName(input.dataset.raceOptimizer)}`) ?? "";
    }
    for (const input of document.querySelectorAll("input[name=race-h]")) {
      const owner = fullName(input.dataset.raceOptimizer);
      const given = query.get(`h.${owner}.${input.dataset.key}`);
      if (input.type === "checkbox") {
        input.checked = given === null ? input.defaultChecked : given === "true";
      } else {
        input.value = given ?? "";
      }
      if (given !== null) input.closest("details").open = true;
    }
    showDefaults();
  }

  // The query of the form as it stands (only what differs from the defaults).
  function toQuery() {
    const query = new URLSearchParams();
    if (usingUpload()) query.set("upload", upload ? upload.name : uploadWanted);
    else query.set("dataset", field("race-dataset").value);
    for (const [key, id] of SIMPLE) {
      const input = field(id);
      if (!input.disabled && input.value.trim() !== "") query.set(key, input.value.trim());
    }
    const schedule = field("race-schedule").value;
    if (schedule !== race.schedules[0].name) {
      query.set("schedule", schedule);
      for (const [key, value] of Object.entries(scheduleGiven())) {
        query.set(`schedule.${key}`, String(value));
      }
    }
    query.set("optimizers", chosen().join(","));
    for (const row of chosenRows()) {
      const name = fullName(row);
      const rate = rateInput(row).value.trim();
      if (rate !== "") query.set(`lr.${name}`, rate);
      for (const [key, value] of Object.entries(settingsGiven(row))) {
        query.set(`h.${name}.${key}`, String(value));
      }
    }
    return query;
  }

  // --- reading ----------------------------------------------------------------------------

  // The rows checked (each an optimizer's, or a wrapper's), and the names they run as: a
  // wrapper's row runs WRAPPER:INNER (lookahead:adam), the optimizer its select names inside.
  function chosenRows() {
    return [...document.querySelectorAll("input[name=race-use]:checked")].map((b) => b.value);
  }

  function innerSelect(row) {
    return document.querySelector(`select[name=race-inner][data-race-optimizer="${row}"]`);
  }

  function fullName(row) {
    const inner = innerSelect(row);
    return inner ? `${row}:${inner.value}` : row;
  }

  function chosen() {
    return chosenRows().map(fullName);
  }

  function rateInput(name) {
    return document.querySelector(`input[name=race-lr][data-race-optimizer="${name}"]`);
  }

  function optionsOf(name) {
    return race.optimizers.find((o) => o.name === name);
  }

  function settingsGiven(name) {
    const given = {};
    for (const input of document.querySelectorAll(
      `input[name=race-h][data-race-optimizer="${name}"]`)) {
      if (input.type === "checkbox") {
        if (input.checked !== input.defaultChecked) given[input.dataset.key] = input.checked;
      } else if (input.value.trim() !== "") {
        given[input.dataset.key] = Number(input.value);
      }
    }
    return given;
  }

  function scheduleGiven() {
    const given = {};
    for (const f of race.schedule_fields) {
      const input = field(`race-schedule-${f.name}`);
      if (f.choices) {
        if (input.value !== String(f.default)) given[f.name] = input.value;
      } else if (input.value.trim() !== "") {
        given[f.name] = Number(input.value);
      }
    }
    return given;
  }

  // "5,2" as [5, 2]; a part that is not a whole number goes as typed, for the server to name.
  function listOfWholeNumbers(text) {
    return text.split(",").map((part) => part.trim())
      .map((part) => (/^-?\d+$/.test(part) ? Number(part) : part));
  }

  function batchSizeOf(text) {
    const value = text.trim();
    if (value.toLowerCase() === "full") return "full";
    return /^-?\d+$/.test(value) ? Number(value) : value;
  }

  // The numbers typed where the browser could not read one (type=number keeps them from us).
  function unreadable() {
    const form = field("race-controls");
    for (const input of form.querySelectorAll("input[type=number]")) {
      if (input.validity.badInput) return { field: input.dataset.field, message: "must be a number" };
    }
    return null;
  }

  // The start message's config, or {error} when the form cannot make one (a number the browser
  // cannot read, an uploaded file to choose again).
  function read() {
    const bad = unreadable();
    if (bad) return { error: bad };
    const config = {};
    if (usingUpload()) {
      if (!upload) {
        return { error: { field: "file", message:
          `this race used your file ${uploadWanted}: choose it again to start (a link cannot ` +
          "hold the data)" } };
      }
      config.upload = upload.upload;
    } else {
      config.dataset = field("race-dataset").value;
      for (const [key, id] of [["n_samples", "race-n-samples"], ["noise", "race-noise"],
                               ["data_seed", "race-data-seed"]]) {
        const value = numberOrNull(field(id).value);
        if (value !== null && !field(id).disabled) config[key] = value;
      }
    }
    const hidden = field("race-hidden").value.trim();
    if (hidden !== "") config.hidden_layers = listOfWholeNumbers(hidden);
    const batch = field("race-batch-size").value.trim();
    if (batch !== "") config.batch_size = batchSizeOf(batch);
    for (const [key, id] of [["epochs", "race-epochs"], ["seed", "race-seed"]]) {
      const value = numberOrNull(field(id).value);
      if (value !== null) config[key] = value;
    }
    const schedule = field("race-schedule").value;
    if (schedule !== race.schedules[0].name) config.schedule = { name: schedule, ...scheduleGiven() };
    config.optimizers = chosenRows().map((row) => {
      const entry = { name: fullName(row), learning_rate: numberOrNull(rateInput(row).value) };
      const given = settingsGiven(row);
      if (Object.keys(given).length) entry.hyperparameters = given;
      return entry;
    });
    return { config };
  }

  // --- defaults and what applies ----------------------------------------------------------

  // The dataset's own size, noise and seed as placeholders; what does not apply (noise of a
  // noiseless dataset, any of them for a CSV) disabled; the schedule's fields only when the
  // rate changes; the chosen optimizers' colours.
  function showDefaults() {
    const info = datasetInfo();
    const fromFile = usingUpload();
    const placeholders = [["race-n-samples", info && info.n_samples],
                          ["race-noise", info && info.has_noise ? info.noise : null],
                          ["race-data-seed", info && info.data_seed]];
    for (const [id, value] of placeholders) {
      const fixed = value === null || value === undefined; // digits: one fixed set
      field(id).placeholder = fixed ? "-" : String(value);
      field(id).disabled = fromFile || fixed;
    }
    field("race-dataset-summary").textContent =
      info && !fromFile ? info.summary.replace(/``/g, "") : "";
    const defaults = race.defaults;
    field("race-hidden").placeholder = defaults.hidden_layers.join(",");
    field("race-batch-size").placeholder = String(defaults.batch_size ?? "full");
    field("race-epochs").placeholder = String(defaults.epochs);
    field("race-seed").placeholder = String(defaults.seed);
    field("race-schedule-fields").hidden = field("race-schedule").value === race.schedules[0].name;
    const names = chosenRows();
    for (const swatch of document.querySelectorAll("#race-optimizers .swatch")) {
      const index = names.indexOf(swatch.dataset.raceOptimizer);
      swatch.style.background = index < 0 ? "transparent" : PALETTE[index % PALETTE.length];
    }
    const note = field("race-upload-note");
    if (upload) {
      note.textContent = `${upload.name}: ${upload.n_examples} examples, ${upload.n_features} ` +
        `features, ${upload.n_classes} classes`;
    } else if (uploadWanted) {
      note.textContent = `This link's race used your file ${uploadWanted}; a link cannot hold ` +
        "the data, so choose the file again.";
    } else {
      note.textContent = "";
    }
  }

  // A new dataset starts from its own defaults.
  function datasetChanged() {
    for (const id of ["race-n-samples", "race-noise", "race-data-seed"]) field(id).value = "";
    showDefaults();
  }

  // An uploaded CSV becomes the dataset select's last option, and the chosen one.
  function useUpload(answer) {
    upload = answer;
    uploadWanted = null;
    const select = field("race-dataset");
    let option = [...select.options].find((o) => o.value === UPLOAD);
    if (!option) {
      option = new Option("", UPLOAD);
      select.add(option);
    }
    option.textContent = `your CSV: ${answer.name}`;
    select.value = UPLOAD;
    showDefaults();
  }

  return {
    build, read, toQuery, chosen, showDefaults, datasetChanged, useUpload,
    maxUploadBytes: () => race.limits.max_upload_bytes,
    limits: () => race.limits,
  };
})();
window.RaceForm = RaceForm;
