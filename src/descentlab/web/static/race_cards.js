// The race's card per optimizer: its oscillation index and label, its accuracy and cost, and
// its decision-boundary map (boundary_map.js) with a PNG button. Sizes are fixed when a race
// starts, so nothing moves while it runs.
"use strict";

const RaceCards = (() => {
  const MAP_WIDTH = 280;

  function clear() {
    $("race-cards").textContent = "";
    $("race-legend").textContent = "";
  }

  // A card per optimizer of the `started` message, in its order and colours; the maps keep the
  // data's aspect ratio (started.view), within bounds.
  function build(started) {
    const box = $("race-cards");
    const extent = started.view;
    const ratio = extent ? (extent.y[1] - extent.y[0]) / (extent.x[1] - extent.x[0]) : 1;
    const height = Math.round(Math.max(160, Math.min(400, MAP_WIDTH * ratio)));
    started.optimizers.forEach((name, index) => {
      const card = document.createElement("article");
      card.className = "card";
      card.dataset.raceOptimizer = name;
      card.innerHTML =
        `<h3><span class="swatch" style="background:${PALETTE[index % PALETTE.length]}"></span>` +
        `${name}</h3>` +
        (extent
          ? `<canvas class="boundary" width="${MAP_WIDTH}" height="${height}" data-drawn="0" ` +
            `role="img" aria-label="${name}'s decision boundary: the predicted class, stronger ` +
            `where the network is surer, and the training points over it"></canvas>`
          : '<p class="no-map">No map: it needs data with 2 features.</p>') +
        "<dl><dt>oscillation</dt><dd data-oscillation>-</dd>" +
        "<dt>accuracy</dt><dd data-accuracy>-</dd>" +
        "<dt>cost</dt><dd data-cost>-</dd></dl>" +
        (extent ? '<button type="button" class="map-png">Map as PNG</button>' : "");
      const button = card.querySelector(".map-png");
      if (button) {
        button.addEventListener("click", () => Share.canvasPng(
          card.querySelector("canvas"), `decision_boundary-${name}.png`));
      }
      box.append(card);
    });
    if (extent) $("race-legend").append(BoundaryMap.legend(started.n_classes || 2));
  }

  // While racing: the oscillation measured so far, the latest accuracy and epoch cost. Once
  // done: the race's results (results.json's numbers; data-cost and data-accuracy hold them
  // exactly, for a test to compare).
  function showCard(card, live) {
    const name = card.dataset.raceOptimizer;
    const result = live.results && live.results[name];
    const measured = result
      ? { index: result.oscillation, label: result.cost_shape } : live.oscillation[name];
    const oscillation = card.querySelector("[data-oscillation]");
    if (measured && measured.index !== null && measured.index !== undefined) {
      oscillation.textContent = `${measured.index.toFixed(3)}, ${measured.label}`;
    } else {
      oscillation.textContent = result ? String(result.cost_shape) : "not measured yet";
    }
    const accuracy = live.accuracy[name];
    const shownAccuracy = card.querySelector("[data-accuracy]");
    if (accuracy !== undefined && accuracy !== null) {
      shownAccuracy.dataset.accuracy = String(accuracy);
      shownAccuracy.textContent = `${(100 * accuracy).toFixed(1)} %`;
    }
    const cost = card.querySelector("[data-cost]");
    const value = result ? result.final_cost : live.latestCost[name];
    if (value !== undefined) {
      cost.dataset.cost = String(value);
      cost.textContent = value === null ? "not finite" : value.toPrecision(4);
      if (result && result.diverged_epoch !== null && result.diverged_epoch !== undefined) {
        cost.textContent += ` (diverged at epoch ${result.diverged_epoch})`;
      }
    }
  }

  function show(live) {
    for (const card of document.querySelectorAll("#race-cards .card")) showCard(card, live);
  }

  // The latest boundaries message's grids, one map per card; data-drawn counts the drawings.
  function drawMaps(message, started) {
    if (!message || !message.grid || !started) return;
    for (const name of started.optimizers) {
      const canvas = document.querySelector(
        `#race-cards .card[data-race-optimizer="${name}"] canvas`);
      if (!canvas || !message.grid.classes[name]) continue;
      BoundaryMap.draw(canvas, {
        grid: message.grid, classes: message.grid.classes[name],
        confidence: message.grid.confidence[name], points: started.points,
        nClasses: started.n_classes || 2,
      });
      canvas.dataset.drawn = String(Number(canvas.dataset.drawn) + 1);
    }
  }

  return { build, show, drawMaps, clear };
})();
window.RaceCards = RaceCards;
