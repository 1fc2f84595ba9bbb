// The playground's page: two views (race, landscape) behind accessible tabs, the view in the
// URL, and what both views share (errors next to their field, the clipboard, saving files).
"use strict";

// Okabe & Ito's colour-blind-safe palette (charts.js's; yellow left out: it vanishes on white).
const PALETTE = (window.DescentCharts && window.DescentCharts.PALETTE) ||
  ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
const $ = (id) => document.getElementById(id);

const Page = (() => {
  const VIEWS = ["race", "landscape"];
  const opened = {};
  let options = null;
  let current = null;

  // Links from before the race view named a function and no view: they open the landscape.
  function viewOf(query) {
    const asked = query.get("view");
    if (VIEWS.includes(asked)) return asked;
    return query.has("function") ? "landscape" : "race";
  }

  function viewObject(name) {
    return name === "race" ? window.RaceView : window.LandscapeView;
  }

  // Show one view; the first time, it builds its form from the URL's query (if the page was
  // opened on it) or from its defaults; later, it writes its own configuration to the URL.
  async function show(name, query) {
    current = name;
    for (const view of VIEWS) {
      const selected = view === name;
      const tab = $(`tab-${view}`);
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      $(`panel-${view}`).hidden = !selected;
    }
    document.body.dataset.view = name;
    const view = viewObject(name);
    if (!opened[name]) {
      opened[name] = true;
      await view.open(options, query || new URLSearchParams());
    } else {
      view.writeUrl();
    }
    if (view.shown) view.shown();
  }

  // Arrow keys, Home and End move between the tabs (WAI-ARIA's tabs pattern, automatic
  // activation); Tab leaves the tab list for the panel.
  function wireTabs() {
    const tabs = VIEWS.map((view) => $(`tab-${view}`));
    tabs.forEach((tab, index) => {
      tab.addEventListener("click", () => { if (current !== VIEWS[index]) show(VIEWS[index]); });
      tab.addEventListener("keydown", (event) => {
        const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
        if (!(event.key in moves)) return;
        event.preventDefault();
        const next = (moves[event.key] + tabs.length) % tabs.length;
        tabs[next].focus();
        if (current !== VIEWS[next]) show(VIEWS[next]);
      });
    });
  }

  // `?view=NAME&...` with the given settings, replacing the page's address (no new history
  // entry: the address is the configuration, not a step of navigation).
  function replaceQuery(view, query) {
    const full = new URLSearchParams({ view });
    for (const [key, value] of query) full.append(key, value);
    history.replaceState(null, "", "?" + full.toString().replace(/%2C/g, ","));
  }

  async function boot() {
    const answer = await fetch("/api/options");
    options = await answer.json();
    wireTabs();
    const query = new URLSearchParams(window.location.search);
    await show(viewOf(query), query);
  }

  return { boot, replaceQuery, current: () => current };
})();

// --- errors next to their field -------------------------------------------------------------

// The server names a field as "config.optimizers[1].hyperparameters.beta1"; the page's inputs
// carry data-field="optimizers.adam.hyperparameters.beta1" (the optimizer by name). The message
// goes to the nearest place: the field, else its parent ("hidden_layers[0]" -> "hidden_layers",
// "optimizers.adam.name" -> "optimizers.adam"), else the view's general alert.
const FieldErrors = {
  localField(field, names, message = "") {
    const local = field.replace(/^config\./, "")
      .replace(/^optimizers\[(\d+)\]/, (whole, index) =>
        names[Number(index)] === undefined ? whole : `optimizers.${names[Number(index)]}`);
    return local + FieldErrors.settingNamed(local, message);
  },

  // The registry checks an optimizer's hyperparameters together, so the server names
  // "optimizers[1].hyperparameters"; its message starts with the one at fault ("beta must be
  // a number in [0, 1), got 2"): ".beta", to mark that input.
  settingNamed(field, message) {
    const first = /^([A-Za-z_]\w*) /.exec(message);
    return field.endsWith(".hyperparameters") && first ? `.${first[1]}` : "";
  },

  parentOf(field) {
    const cut = Math.max(field.lastIndexOf("."), field.lastIndexOf("["));
    return cut > 0 ? field.slice(0, cut) : "";
  },

  clear(root) {
    for (const e of root.querySelectorAll(".error")) e.textContent = "";
    for (const e of root.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
  },

  show(root, general, error, names) {
    const text = error.field ? `${error.field}: ${error.message}` : error.message;
    let input = null, place = null;
    let key = error.field ? FieldErrors.localField(error.field, names, error.message) : "";
    for (; key && !place; key = FieldErrors.parentOf(key)) {
      input = input || root.querySelector(`[data-field="${CSS.escape(key)}"]`);
      place = root.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
    }
    if (input) input.setAttribute("aria-invalid", "true");
    (place || general).textContent = text;
  },
};

// --- sharing --------------------------------------------------------------------------------

const Share = {
  save(blob, filename) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  },

  // Copy a command line; where the clipboard is out of reach (a page served to another machine
  // over plain http), show it selected in its box to copy by hand.
  async copy(text, box, area, status) {
    area.value = text;
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = "copied: " + text;
    } catch (error) {
      box.hidden = false;
      area.focus();
      area.select();
      status.textContent = "the clipboard is not available here: copy the line above";
    }
  },

  canvasPng(canvas, filename) {
    canvas.toBlob((blob) => Share.save(blob, filename), "image/png");
  },
};

function numberOrNull(text) {
  return text.trim() === "" ? null : Number(text);
}

window.addEventListener("DOMContentLoaded", () => Page.boot());
