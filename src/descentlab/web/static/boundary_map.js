// A decision-boundary map on a canvas: each cell of the server's grid coloured by its predicted
// class, more intense where the network is more confident, and the training points over it,
// each class with its own colour and shape (so the classes read apart without colour too).
"use strict";

const BoundaryMap = (() => {
  // Okabe & Ito again, in the order that keeps the first classes furthest apart.
  const CLASS_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9",
                         "#F0E442", "#000000"];
  const SHAPES = ["circle", "square", "triangle", "diamond"];
  const FAINTEST = 0.08; // the background's alpha where the network is as unsure as can be
  const STRONGEST = 0.6; // and where it is certain: the points must still stand out

  function rgb(hex) {
    return [1, 3, 5].map((start) => parseInt(hex.slice(start, start + 2), 16));
  }

  const CLASS_RGB = CLASS_COLOURS.map(rgb);

  function classColour(index) {
    return CLASS_COLOURS[index % CLASS_COLOURS.length];
  }

  // The grid as an image of nx × ny pixels, on a canvas kept between drawings (maps are drawn
  // twice a second per optimizer): row 0 of the grid (y0, the bottom) is the image's last row.
  // Confidence runs from 1 / n_classes (a guess) to 1 (certain).
  let layer = null;
  let image = null;
  function gridLayer(grid, classes, confidence, nClasses) {
    if (!image || image.width !== grid.nx || image.height !== grid.ny) {
      layer = document.createElement("canvas");
      layer.width = grid.nx;
      layer.height = grid.ny;
      image = new ImageData(grid.nx, grid.ny);
    }
    const data = image.data;
    const chance = 1 / Math.max(2, nClasses);
    const range = STRONGEST - FAINTEST;
    for (let row = 0; row < grid.ny; row++) {
      const first = row * grid.nx, line = 4 * (grid.ny - 1 - row) * grid.nx;
      for (let column = 0; column < grid.nx; column++) {
        const cell = first + column;
        const sure = Math.max(0, Math.min(1, (confidence[cell] - chance) / (1 - chance)));
        const alpha = FAINTEST + range * sure;
        const colour = CLASS_RGB[classes[cell] % CLASS_RGB.length];
        const pixel = line + 4 * column;
        data[pixel] = 255 + alpha * (colour[0] - 255);
        data[pixel + 1] = 255 + alpha * (colour[1] - 255);
        data[pixel + 2] = 255 + alpha * (colour[2] - 255);
        data[pixel + 3] = 255;
      }
    }
    layer.getContext("2d").putImageData(image, 0, 0);
    return layer;
  }

  // One mark's outline, added to the current path (so a class's marks fill in one go).
  function outline(context, shape, x, y, size) {
    if (shape === "circle") {
      context.moveTo(x + size, y);
      context.arc(x, y, size, 0, 2 * Math.PI);
    } else if (shape === "square") {
      context.rect(x - size, y - size, 2 * size, 2 * size);
    } else if (shape === "triangle") {
      context.moveTo(x, y - 1.2 * size);
      context.lineTo(x + 1.1 * size, y + 0.8 * size);
      context.lineTo(x - 1.1 * size, y + 0.8 * size);
      context.closePath();
    } else {
      context.moveTo(x, y - 1.3 * size);
      context.lineTo(x + 1.3 * size, y);
      context.lineTo(x, y + 1.3 * size);
      context.lineTo(x - 1.3 * size, y);
      context.closePath();
    }
  }

  function mark(context, shape, x, y, size) {
    context.beginPath();
    outline(context, shape, x, y, size);
    context.fill();
    context.stroke();
  }

  // Draw `grid` (the boundaries message's grid), one optimizer's `classes` and `confidence`,
  // and `points` ({x: [[x1, x2], ...], y: [class, ...]}, may be null) on `canvas`.
  function draw(canvas, { grid, classes, confidence, points, nClasses }) {
    const context = canvas.getContext("2d");
    context.imageSmoothingEnabled = true;
    context.drawImage(gridLayer(grid, classes, confidence, nClasses), 0, 0,
                      canvas.width, canvas.height);
    if (!points) return;
    const [x0, x1] = grid.x, [y0, y1] = grid.y;
    const size = Math.max(2, Math.min(4, canvas.width / 70));
    context.lineWidth = 1.6; // stroked under the fill: a white rim of 0.8 px
    context.strokeStyle = "#ffffff";
    const labels = [...new Set(points.y)].sort((p, q) => p - q);
    for (const label of labels) { // one path per class: a few fills, not one per point
      context.fillStyle = classColour(label);
      context.beginPath();
      points.x.forEach(([a, b], index) => {
        if (points.y[index] !== label) return;
        outline(context, SHAPES[label % SHAPES.length], (a - x0) / (x1 - x0) * canvas.width,
                (1 - (b - y0) / (y1 - y0)) * canvas.height, size);
      });
      context.stroke();
      context.fill();
    }
  }

  // A small legend of the classes' colours and shapes, as a canvas.
  function legend(nClasses) {
    const canvas = document.createElement("canvas");
    const classes = Math.min(nClasses, 8);
    canvas.width = 64 * classes;
    canvas.height = 18;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", Array.from({ length: classes }, (_, k) =>
      `class ${k}: ${SHAPES[k % SHAPES.length]}`).join(", "));
    const context = canvas.getContext("2d");
    context.font = "12px sans-serif";
    context.strokeStyle = "#ffffff";
    for (let k = 0; k < classes; k++) {
      context.fillStyle = classColour(k);
      mark(context, SHAPES[k % SHAPES.length], 64 * k + 8, 9, 4);
      context.fillStyle = "#1a1a1a";
      context.fillText(`class ${k}`, 64 * k + 16, 13);
    }
    return canvas;
  }

  return { draw, legend, classColour };
})();
window.BoundaryMap = BoundaryMap;
