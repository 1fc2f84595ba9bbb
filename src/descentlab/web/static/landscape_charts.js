// The landscape view's canvases: the contour map with the optimizers' paths, and f against
// step. Pure drawing: what to draw comes in the arguments.
"use strict";

const LandscapeCharts = (() => {
  // The map's pixels and the function's plane, over the contour grid's extent.
  function transform(canvas, contours) {
    const g = contours, n = g.x.length, m = g.y.length;
    const [x0, x1, y0, y1] = [g.x[0], g.x[n - 1], g.y[0], g.y[m - 1]];
    return {
      toPixel: ([x, y]) => [(x - x0) / (x1 - x0) * canvas.width,
                            (1 - (y - y0) / (y1 - y0)) * canvas.height],
      toPoint: (px, py) => [x0 + px / canvas.width * (x1 - x0),
                            y0 + (1 - py / canvas.height) * (y1 - y0)],
      span: [x1 - x0, y1 - y0],
    };
  }

  // Filled bands between the contour levels, their borders drawn darker.
  function drawContours(context, canvas, contours) {
    const g = contours, n = g.x.length, m = g.y.length, levels = g.levels;
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
  function fit(canvas, contours) {
    const g = contours;
    const ratio = (g.y[g.y.length - 1] - g.y[0]) / (g.x[g.x.length - 1] - g.x[0]);
    const height = Math.round(Math.min(720, Math.max(240, canvas.width * ratio)));
    if (canvas.height !== height) canvas.height = height;
  }

  // The contours and the minima, drawn once per contour grid and map size on a canvas of their
  // own, so that each animation frame only copies them.
  let kept = { contours: null, width: 0, height: 0, layer: null };
  function background(canvas, contours, fn) {
    if (kept.contours === contours && kept.width === canvas.width &&
        kept.height === canvas.height) return kept.layer;
    const layer = document.createElement("canvas");
    layer.width = canvas.width;
    layer.height = canvas.height;
    const context = layer.getContext("2d");
    drawContours(context, layer, contours);
    const { toPixel } = transform(layer, contours);
    context.fillStyle = "#000";
    context.font = "16px sans-serif";
    for (const point of fn.minima) {
      const [px, py] = toPixel(point);
      context.fillText(fn.has_minimum ? "\u2605" : "\u2715", px - 6, py + 6);
    }
    kept = { contours, width: canvas.width, height: canvas.height, layer };
    return layer;
  }

  // The contours of `fn`, and the paths of `result` up to `progress` (0..1) of their length,
  // the start as a dot.
  function drawMap(canvas, { contours, fn, result, colourOf, progress = 1 }) {
    const context = canvas.getContext("2d");
    fit(canvas, contours);
    context.drawImage(background(canvas, contours, fn), 0, 0);
    if (!result) return;
    const { toPixel } = transform(canvas, contours);
    for (const r of result.runs) {
      const last = r.path.length - 1, reach = progress * last, whole = Math.floor(reach);
      context.strokeStyle = colourOf(r.optimizer);
      context.lineWidth = 2;
      context.beginPath();
      for (let i = 0; i <= whole; i++) {
        const [px, py] = toPixel(r.path[i]);
        if (i === 0) context.moveTo(px, py); else context.lineTo(px, py);
      }
      if (whole < last) { // the segment being drawn, part of the way
        const [a, b] = [r.path[whole], r.path[whole + 1]], f = reach - whole;
        context.lineTo(...toPixel([a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])]));
      }
      context.stroke();
    }
    const [sx, sy] = toPixel(result.start);
    context.fillStyle = "#000";
    context.beginPath();
    context.arc(sx, sy, 4, 0, 2 * Math.PI);
    context.fill();
  }

  // f after each step of each run (a log scale where every value is > 0); nothing for null.
  function drawLoss(canvas, runs, colourOf) {
    const context = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height, left = 56, bottom = 28, top = 10, right = 10;
    context.clearRect(0, 0, w, h);
    if (!runs) return;
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
    // Ticks: every power of ten on a log scale (at most 8, else every other one...), three
    // evenly spaced values otherwise; each with a faint grid line.
    let ticks = [];
    if (log) {
      const first = Math.ceil(low), last = Math.floor(high);
      const every = Math.max(1, Math.ceil((last - first + 1) / 8));
      for (let e = first; e <= last; e += every) ticks.push(e);
      if (!ticks.length) ticks = [low, high];
    } else {
      ticks = [low, (low + high) / 2, high];
    }
    const tickLabel = (v) => {
      if (!log) return Number(v.toPrecision(3)).toString();
      const value = 10 ** v;
      return Math.abs(v) <= 3 ? Number(value.toPrecision(2)).toString() : value.toExponential(0);
    };
    context.font = "11px sans-serif";
    context.textAlign = "right";
    for (const v of ticks) {
      const y = top + (1 - (v - low) / (high - low)) * (h - top - bottom);
      context.strokeStyle = "#e4e4e4";
      context.beginPath();
      context.moveTo(left, y);
      context.lineTo(w - right, y);
      context.stroke();
      context.fillStyle = "#333";
      context.fillText(tickLabel(v), left - 4, y + 4);
    }
    context.textAlign = "left";
    context.fillText("0", left, h - 10);
    context.textAlign = "right";
    context.fillText(`step ${steps}`, w - right, h - 10);
    context.textAlign = "left";
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

  return { transform, drawMap, drawLoss };
})();
window.LandscapeCharts = LandscapeCharts;
