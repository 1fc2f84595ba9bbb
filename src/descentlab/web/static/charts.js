/* descentlab's cost chart: one component for the playground's page and for report.html.
 *
 * A plain script (no modules, no build step) that defines window.DescentCharts; uPlot
 * (vendor/uplot/uPlot.iife.min.js and uPlot.min.css) must be loaded first.
 *
 *   const chart = DescentCharts.costChart(container, {
 *     series: [{name: "gd", colour: "#0072B2"}, ...],  // optional per series: label, dash
 *     title: "cost", xLabel: "epoch", yLabel: "cost", logY: false, height: 320,
 *   });
 *   chart.append({gd: {costs: [...], first_epoch: 0, minibatch: {x: [...], costs: [...]}}});
 *   chart.setData({gd: {costs: [...], minibatch: {x: [...], costs: [...]}}});
 *   chart.setVisible("gd", false);
 *   chart.png();   // Promise<Blob>
 *   chart.destroy();
 *   chart.element; // the root element
 *
 * Rules:
 * - A series is named by `name` in the data and shown as `label` (default: the name); its
 *   epoch costs are drawn solid, or dashed with `dash` ([on, off] in CSS pixels).
 * - Epoch cost i of an optimizer is drawn at x = first_epoch + i + 1 (x = epochs done when it
 *   was measured). first_epoch left out in append() means "after the epochs already held";
 *   an append that overlaps epochs already held replaces them.
 * - Mini-batch costs are drawn at their own x (ascending), thin and faint in the optimizer's
 *   colour, behind its epoch costs.
 * - A cost that is null, NaN or infinite (or <= 0 on a log scale) leaves a gap in its line.
 * - append() only stores the numbers; the chart redraws at most once per animation frame,
 *   and, once a redraw gets slow (a long race), waits BUSY_FACTOR times the last redraw's
 *   time before the next, so drawing keeps at most a quarter of the page's time.
 * - element.dataset.points is the number of epoch costs drawn, summed over the optimizers
 *   (non-finite ones included), updated when the chart redraws.
 * - Zoom: drag across the chart; double-click zooms back out. While zoomed in, new data keeps
 *   the zoom. Hover: the legend shows each visible optimizer's epoch cost (and the nearest
 *   mini-batch cost) under the cursor, otherwise the latest. Clicking a legend entry (a
 *   button, so the keyboard works too) hides or shows that optimizer.
 */
(function () {
  "use strict";

  const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
  const MINIBATCH_ALPHA = 0.25;
  const BUSY_FACTOR = 3;
  const STYLE_ID = "descent-charts-style";
  const STYLE = `
.descent-chart { position: relative; width: 100%; }
.descent-chart-legend { display: flex; flex-wrap: wrap; gap: 0.25rem 0.9rem; align-items: center;
  font: 13px system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  margin: 0.3rem 0 0; min-height: 1.8em; }
.descent-chart-where { color: #555; font-variant-numeric: tabular-nums; min-width: 7em; }
.descent-chart-item { display: inline-flex; gap: 0.35em; align-items: center; cursor: pointer;
  font: inherit; color: #222; background: none; border: 1px solid transparent;
  border-radius: 4px; padding: 0.1em 0.35em; }
.descent-chart-item:hover { border-color: #ccc; }
.descent-chart-item:focus-visible { outline: 2px solid #0072B2; outline-offset: 1px; }
.descent-chart-item[aria-pressed="false"] { opacity: 0.4; text-decoration: line-through; }
.descent-chart-swatch { display: inline-block; width: 1.4em; height: 0.3em; border-radius: 2px; }
.descent-chart-value { font-variant-numeric: tabular-nums; color: #444; }
.descent-chart-value small { color: #777; }
`;

  function injectStyle() {
    if (document.getElementById(STYLE_ID)) return;
    const style = document.createElement("style");
    style.id = STYLE_ID;
    style.textContent = STYLE;
    document.head.appendChild(style);
  }

  function rgba(hex, alpha) {
    const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
    if (!match) return hex;
    const [r, g, b] = match.slice(1).map((part) => parseInt(part, 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }

  // A cost in the legend: 4 significant digits, as short as they go ("0.0001171", "0.5").
  function formatNumber(value) {
    if (value === null || value === undefined || !Number.isFinite(value)) return "—";
    if (Math.abs(value) >= 1e5) return value.toExponential(3);
    return String(Number(value.toPrecision(4)));
  }

  // A tick of the cost axis: 3 significant digits, so small learning rates do not read "0".
  function formatTick(value) {
    if (value === null || value === undefined) return "";
    return String(Number(value.toPrecision(3)));
  }

  function isSorted(values) {
    for (let i = 1; i < values.length; i++) if (!(values[i] >= values[i - 1])) return false;
    return true;
  }

  function costChart(container, options) {
    if (typeof uPlot !== "function") {
      throw new Error("DescentCharts needs uPlot: load vendor/uplot/uPlot.iife.min.js first");
    }
    const settings = Object.assign({ xLabel: "epoch", yLabel: "cost", logY: false, height: 320 },
      options || {});
    const series = (settings.series || []).map((entry, index) => ({
      name: String(entry.name),
      label: entry.label === undefined ? String(entry.name) : String(entry.label),
      colour: entry.colour || PALETTE[index % PALETTE.length],
      dash: Array.isArray(entry.dash) ? entry.dash.map(Number) : null,
    }));
    if (series.length === 0) throw new Error("costChart needs at least one series");
    const indexOf = new Map(series.map((entry, index) => [entry.name, index]));
    const count = series.length;
    const logY = Boolean(settings.logY);
    injectStyle();

    // What was given, per optimizer: the truth the drawn table is built from.
    const epochCosts = series.map(() => []); // epochCosts[k][e - 1]: the cost at x = e
    const minibatchX = series.map(() => []);
    const minibatchCosts = series.map(() => []);
    // The drawn table: x, then the mini-batch series (behind), then the epoch series.
    // undefined: this series has no point at this x (uPlot joins across it); null: a gap.
    let table = emptyTable();
    let pendingRebuild = false;
    let frame = 0;
    let timer = 0;
    let flushStarted = 0;
    let nextFlush = 0; // performance.now() before which no redraw starts
    let zoomed = false;

    function emptyTable() {
      return Array.from({ length: 1 + 2 * count }, () => []);
    }
    const minibatchColumn = (k) => 1 + k;
    const epochColumn = (k) => 1 + count + k;

    function drawable(value) {
      if (value === null || value === undefined || !Number.isFinite(value)) return null;
      if (logY && value <= 0) return null;
      return value;
    }

    // Adds rows for the points of `columns` (a list of [column, xs ascending, ys]), all at
    // x >= the table's last x; a point at the last row's x goes into that row.
    function addRows(columns) {
      const xs = table[0];
      const fresh = [];
      for (const [, columnX] of columns) for (const x of columnX) fresh.push(x);
      fresh.sort((a, b) => a - b);
      const start = xs.length;
      for (const x of fresh) {
        const last = xs.length ? xs[xs.length - 1] : undefined;
        if (x === last) continue;
        xs.push(x);
        for (let c = 1; c < table.length; c++) table[c].push(undefined);
      }
      for (const [column, columnX, columnY] of columns) {
        let row = Math.max(0, start - 1);
        for (let i = 0; i < columnX.length; i++) {
          while (xs[row] < columnX[i]) row++;
          table[column][row] = drawable(columnY[i]);
        }
      }
    }

    function rebuild() {
      const columns = [];
      for (let k = 0; k < count; k++) {
        columns.push([minibatchColumn(k), minibatchX[k], minibatchCosts[k]]);
        columns.push([epochColumn(k), epochCosts[k].map((_, i) => i + 1), epochCosts[k]]);
      }
      table = emptyTable();
      addRows(columns);
      pendingRebuild = false;
    }

    function pointCount() {
      return epochCosts.reduce((sum, costs) => sum + costs.length, 0);
    }

    // ---- the DOM and uPlot -------------------------------------------------------------
    const element = document.createElement("div");
    element.className = "descent-chart";
    element.dataset.points = "0";
    const plotHolder = document.createElement("div");
    plotHolder.setAttribute("role", "img");
    plotHolder.setAttribute("aria-label", `${settings.title || settings.yLabel} against `
      + `${settings.xLabel}: ${series.map((entry) => entry.label).join(", ")}`);
    const legend = document.createElement("div");
    legend.className = "descent-chart-legend";
    const where = document.createElement("span");
    where.className = "descent-chart-where";
    legend.appendChild(where);
    const items = series.map((entry, k) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "descent-chart-item";
      button.dataset.series = entry.name;
      button.setAttribute("aria-pressed", "true");
      button.title = `show or hide ${entry.label}`;
      const swatch = document.createElement("span");
      swatch.className = "descent-chart-swatch";
      swatch.style.background = entry.dash
        ? `repeating-linear-gradient(to right, ${entry.colour} 0 ${entry.dash[0] / 2}px, `
          + `transparent ${entry.dash[0] / 2}px ${(entry.dash[0] + entry.dash[1]) / 2}px)`
        : entry.colour;
      const label = document.createElement("span");
      label.className = "descent-chart-label";
      label.textContent = entry.label;
      const value = document.createElement("span");
      value.className = "descent-chart-value";
      button.append(swatch, label, value);
      button.addEventListener("click", () => setVisible(entry.name, !visible[k]));
      legend.appendChild(button);
      return { button, value };
    });
    const visible = series.map(() => true);
    element.append(plotHolder, legend);
    container.appendChild(element);

    const width = () => Math.max(120, Math.floor(container.clientWidth || 600));
    const uplotSeries = [{ label: settings.xLabel }];
    for (const entry of series) {
      uplotSeries.push({
        label: `${entry.label} mini-batch`,
        stroke: rgba(entry.colour, MINIBATCH_ALPHA),
        width: 0.8,
        points: { show: false },
        spanGaps: false,
      });
    }
    for (const entry of series) {
      const line = { label: entry.label, stroke: entry.colour, width: 2, spanGaps: false };
      if (entry.dash) Object.assign(line, { dash: entry.dash, width: 1.5 });
      uplotSeries.push(line);
    }
    const plot = new uPlot(
      {
        width: width(),
        height: Number(settings.height) || 320,
        legend: { show: false },
        cursor: { drag: { x: true, y: false, setScale: true } },
        scales: {
          x: { time: false },
          y: logY ? { distr: 3, log: 10 } : {},
        },
        axes: [
          { label: settings.xLabel, stroke: "#333", grid: { stroke: "#eee" } },
          {
            label: settings.yLabel,
            stroke: "#333",
            grid: { stroke: "#eee" },
            size: 70,
            values: (u, splits) => splits.map(formatTick),
          },
        ],
        series: uplotSeries,
        hooks: {
          draw: [
            () => {
              if (!flushStarted) return;
              const now = performance.now();
              nextFlush = now + BUSY_FACTOR * (now - flushStarted);
              flushStarted = 0;
            },
          ],
          setCursor: [() => showValues()],
          setSelect: [
            (u) => {
              if (u.select.width > 0) zoomed = true;
            },
          ],
        },
      },
      table,
      plotHolder,
    );
    plot.over.addEventListener("dblclick", () => {
      zoomed = false;
    });

    const resizer =
      typeof ResizeObserver === "function"
        ? new ResizeObserver(() => {
            const next = width();
            if (next !== plot.width) plot.setSize({ width: next, height: plot.height });
          })
        : null;
    if (resizer) resizer.observe(container);

    function showValues() {
      const idxs = plot.cursor.idxs;
      const hovering = plot.cursor.left >= 0 && idxs;
      let hoveredX = null;
      for (let k = 0; k < count; k++) {
        let epoch;
        let minibatch;
        if (hovering) {
          const epochRow = idxs[epochColumn(k)];
          const minibatchRow = idxs[minibatchColumn(k)];
          if (epochRow !== null && epochRow !== undefined) {
            epoch = table[epochColumn(k)][epochRow];
            if (hoveredX === null && visible[k]) hoveredX = table[0][epochRow];
          }
          if (minibatchRow !== null && minibatchRow !== undefined) {
            minibatch = table[minibatchColumn(k)][minibatchRow];
          }
        } else {
          epoch = epochCosts[k].length ? epochCosts[k][epochCosts[k].length - 1] : undefined;
        }
        renderValue(items[k].value, epoch, minibatch);
      }
      if (hovering && hoveredX !== null) where.textContent = `${settings.xLabel} ${hoveredX}`;
      else {
        const last = Math.max(0, ...epochCosts.map((costs) => costs.length));
        where.textContent = last ? `${settings.xLabel} ${last}` : "";
      }
    }

    function renderValue(target, epoch, minibatch) {
      target.textContent = epoch === undefined ? "" : formatNumber(epoch);
      if (minibatch !== undefined) {
        const small = document.createElement("small");
        small.textContent = ` (mini-batch ${formatNumber(minibatch)})`;
        target.appendChild(small);
      }
    }

    function flush() {
      frame = 0;
      flushStarted = performance.now();
      if (pendingRebuild) rebuild();
      plot.setData(table, !zoomed);
      element.dataset.points = String(pointCount());
      showValues();
    }

    function scheduleDraw() {
      if (frame || timer) return;
      const wait = nextFlush - performance.now();
      if (wait <= 0) frame = requestAnimationFrame(flush);
      else {
        timer = setTimeout(() => {
          timer = 0;
          frame = requestAnimationFrame(flush);
        }, wait);
      }
    }

    function cancelDraw() {
      if (frame) cancelAnimationFrame(frame);
      if (timer) clearTimeout(timer);
      const pending = Boolean(frame || timer);
      frame = 0;
      timer = 0;
      return pending;
    }

    // ---- the API -----------------------------------------------------------------------
    function seriesIndex(name) {
      const k = indexOf.get(name);
      if (k === undefined) {
        throw new Error(`unknown series "${name}"; this chart has ${series.map((s) => s.name).join(", ")}`);
      }
      return k;
    }

    function costList(values) {
      return Array.from(values || [], (value) => (value === null ? NaN : Number(value)));
    }

    // One optimizer's entry of append(), checked (an Error names what is wrong) before
    // anything is stored: {first, costs, minibatchX, minibatchCosts} (mini-batch sorted by x).
    function parse(k, entry) {
      const first = entry.first_epoch === undefined || entry.first_epoch === null
        ? epochCosts[k].length : Number(entry.first_epoch);
      if (!Number.isInteger(first) || first < 0) {
        throw new Error(`first_epoch must be an integer >= 0, got ${entry.first_epoch}`);
      }
      const minibatch = entry.minibatch || {};
      let xs = Array.from(minibatch.x || [], Number);
      let ys = costList(minibatch.costs);
      if (xs.length !== ys.length) {
        throw new Error(`minibatch.x has ${xs.length} values but minibatch.costs ${ys.length}`);
      }
      const bad = xs.find((x) => !Number.isFinite(x));
      if (bad !== undefined) throw new Error(`minibatch.x must be finite numbers, got ${bad}`);
      if (!isSorted(xs)) {
        const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
        xs = order.map((i) => xs[i]);
        ys = order.map((i) => ys[i]);
      }
      return { first, costs: costList(entry.costs), minibatchX: xs, minibatchCosts: ys };
    }

    // Keeps a parsed entry as the truth, and adds its new points to `fresh` (the columns for
    // addRows); what overlaps points already held replaces them, through a rebuild.
    function store(k, { first, costs, minibatchX: xs, minibatchCosts: ys }, fresh) {
      const held = epochCosts[k];
      if (first < held.length) pendingRebuild = true;
      const epX = [];
      const epY = [];
      while (held.length < first) { // epochs never given: a gap
        held.push(NaN);
        epX.push(held.length);
        epY.push(NaN);
      }
      for (let i = 0; i < costs.length; i++) {
        held[first + i] = costs[i];
        epX.push(first + i + 1);
        epY.push(costs[i]);
      }
      fresh.push([epochColumn(k), epX, epY]);
      const heldX = minibatchX[k];
      if (heldX.length && xs.length && xs[0] <= heldX[heldX.length - 1]) {
        let keep = heldX.length;
        while (keep > 0 && heldX[keep - 1] >= xs[0]) keep--;
        heldX.length = keep;
        minibatchCosts[k].length = keep;
        pendingRebuild = true;
      }
      for (let i = 0; i < xs.length; i++) {
        heldX.push(xs[i]);
        minibatchCosts[k].push(ys[i]);
      }
      fresh.push([minibatchColumn(k), xs, ys]);
    }

    function append(data) {
      const parsed = Object.entries(data || {}).map(([name, entry]) => {
        const k = seriesIndex(name);
        return [k, parse(k, entry || {})];
      });
      const fresh = [];
      for (const [k, entry] of parsed) store(k, entry, fresh);
      if (!pendingRebuild) {
        const lastX = table[0].length ? table[0][table[0].length - 1] : -Infinity;
        const lowest = Math.min(...fresh.map(([, xs]) => (xs.length ? xs[0] : Infinity)));
        if (lowest < lastX) pendingRebuild = true;
        else addRows(fresh);
      }
      scheduleDraw();
    }

    function setData(data) {
      const entries = Object.entries(data || {}).map(
        ([name, entry]) => [name, Object.assign({}, entry, { first_epoch: 0 })]);
      for (const [name, entry] of entries) parse(seriesIndex(name), entry); // checked first
      for (let k = 0; k < count; k++) {
        epochCosts[k].length = 0;
        minibatchX[k].length = 0;
        minibatchCosts[k].length = 0;
      }
      table = emptyTable();
      zoomed = false;
      append(Object.fromEntries(entries));
    }

    function setVisible(name, show) {
      const k = seriesIndex(name);
      visible[k] = Boolean(show);
      items[k].button.setAttribute("aria-pressed", String(visible[k]));
      plot.setSeries(minibatchColumn(k), { show: visible[k] });
      plot.setSeries(epochColumn(k), { show: visible[k] });
      showValues();
    }

    function png() {
      if (cancelDraw()) flush();
      // uPlot draws in a microtask after setData: compose once it has.
      return new Promise((resolve) => setTimeout(resolve, 0)).then(composePng);
    }

    function composePng() {
      const source = plot.ctx.canvas;
      const ratio = source.width / Math.max(1, plot.width);
      const shown = series.filter((_, k) => visible[k]);
      const pad = Math.round(10 * ratio);
      const titleHeight = settings.title ? Math.round(28 * ratio) : 0;
      const rowHeight = Math.round(20 * ratio);
      const canvas = document.createElement("canvas");
      const context = canvas.getContext("2d");
      const font = `${Math.round(13 * ratio)}px system-ui, sans-serif`;
      context.font = font;
      // Lay the legend out in rows that fit the width.
      const rows = [[]];
      let rowWidth = 0;
      for (const entry of shown) {
        const itemWidth = 30 * ratio + context.measureText(entry.label).width + 18 * ratio;
        if (rowWidth + itemWidth > source.width - 2 * pad && rows[rows.length - 1].length) {
          rows.push([]);
          rowWidth = 0;
        }
        rows[rows.length - 1].push([entry, rowWidth, itemWidth]);
        rowWidth += itemWidth;
      }
      canvas.width = source.width;
      canvas.height = titleHeight + source.height + pad + rows.length * rowHeight + pad;
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.fillStyle = "#222222";
      context.textBaseline = "middle";
      if (settings.title) {
        context.font = `bold ${Math.round(15 * ratio)}px system-ui, sans-serif`;
        context.textAlign = "center";
        context.fillText(String(settings.title), canvas.width / 2, titleHeight / 2 + 2 * ratio);
      }
      context.drawImage(source, 0, titleHeight);
      context.font = font;
      context.textAlign = "left";
      rows.forEach((row, r) => {
        const y = titleHeight + source.height + pad + r * rowHeight + rowHeight / 2;
        for (const [entry, left] of row) {
          const x = pad + left;
          context.strokeStyle = entry.colour;
          context.lineWidth = 3 * ratio;
          context.setLineDash(entry.dash ? entry.dash.map((px) => px * ratio) : []);
          context.beginPath();
          context.moveTo(x, y);
          context.lineTo(x + 22 * ratio, y);
          context.stroke();
          context.setLineDash([]);
          context.fillStyle = "#222222";
          context.fillText(entry.label, x + 28 * ratio, y);
        }
      });
      return new Promise((resolve, reject) => {
        canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the browser made no PNG"))),
          "image/png");
      });
    }

    function destroy() {
      cancelDraw();
      if (resizer) resizer.disconnect();
      plot.destroy();
      element.remove();
    }

    showValues();
    return { append, setData, setVisible, png, destroy, element, uplot: plot };
  }

  window.DescentCharts = { PALETTE, costChart };
})();
