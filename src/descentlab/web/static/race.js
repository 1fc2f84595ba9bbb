// The race view: the /ws/race websocket, the Start / Pause / Step / Reset buttons, and the live
// views (the cost chart, and a card per optimizer: race_cards.js). Messages only update the
// view's state; drawing happens at most once per animation frame, whatever the backlog.
// Test hooks: data-state (idle|running|paused|done) and data-race (races started) on
// #panel-race, data-epoch on #race-epoch, data-drawn on #cost-chart and on each boundary map.
"use strict";

const RaceView = (() => {
  const RESTART_DELAY_MS = 250; // after the last keystroke in a field
  const view = {
    socket: null, state: "idle", expecting: null, races: 0,
    names: [], epoch: 0, epochs: 0, rate: 0, started: null,
    chart: null, chartDrawn: 0, pending: [], received: {},
    latestCost: {}, oscillation: {}, accuracy: {}, boundaries: null, boundariesDrawn: true,
    results: null, frame: false, restartTimer: null,
  };

  // --- state shown on the page -------------------------------------------------------------

  function setState(state) {
    view.state = state;
    $("panel-race").dataset.state = state;
    const pause = $("race-pause");
    pause.textContent = state === "paused" ? "Resume" : "Pause";
    pause.disabled = !(state === "running" || state === "paused");
    $("race-step").disabled = !(state === "running" || state === "paused");
    $("race-download-results").disabled = state !== "done";
    $("race-copy-command").disabled = view.started === null;
    $("race-download-chart").disabled = view.chart === null;
    drawSoon();
  }

  function status(text) {
    $("race-status").textContent = text;
  }

  // --- the websocket -----------------------------------------------------------------------

  function connect() {
    if (view.socket && view.socket.readyState <= WebSocket.OPEN) return view.socket.opened;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/race`);
    socket.opened = new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve(socket));
      socket.addEventListener("error", () => reject(new Error("no connection to the server")));
    });
    socket.addEventListener("message", (event) => receive(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      if (view.socket !== socket) return;
      view.socket = null;
      if (view.state === "running" || view.state === "paused") {
        setState("idle");
        status("The connection to the server was lost, and with it the race; Start starts it again.");
      }
    });
    view.socket = socket;
    return socket.opened;
  }

  async function send(message) {
    try {
      const socket = await connect();
      socket.send(JSON.stringify(message));
    } catch (error) {
      $("race-general-error").textContent = `${error.message}: is descentlab playground running?`;
      setState("idle");
    }
  }

  // --- the buttons -------------------------------------------------------------------------

  function writeUrl() {
    Page.replaceQuery("race", RaceForm.toQuery());
  }

  // Start (or start again) the race the form describes, from epoch 0.
  function start() {
    clearTimeout(view.restartTimer);
    writeUrl();
    FieldErrors.clear($("race-controls"));
    $("race-general-error").textContent = "";
    const { config, error } = RaceForm.read();
    if (error) {
      refuse(error);
      if (view.state === "running" || view.state === "paused") reset();
      return;
    }
    view.sent = config;
    view.expecting = "started";
    status("starting...");
    send({ type: "start", config });
  }

  function restartSoon() {
    clearTimeout(view.restartTimer);
    view.restartTimer = setTimeout(start, RESTART_DELAY_MS);
  }

  function pauseOrResume() {
    if (view.state === "running") {
      send({ type: "pause" });
    } else if (view.state === "paused") {
      send({ type: "resume" });
      setState("running");
    }
  }

  // One more epoch: a running race pauses, a paused one runs one epoch and pauses again.
  function step() {
    if (view.state === "paused") setState("running");
    if (view.state === "running") send({ type: "step" });
  }

  function reset() {
    view.expecting = "reset";
    send({ type: "reset" });
    clearViews();
    view.started = null;
    setState("idle");
    status("Reset: Start begins a new race.");
  }

  function refuse(error) {
    FieldErrors.show($("race-controls"), $("race-general-error"), error,
                     // a wrapper chain's inputs are its row's, the wrapper's name
                     (view.sent && view.sent.optimizers || []).map((o) => o.name.split(":")[0]));
    status(`refused: ${error.field ? error.field + ": " : ""}${error.message} (marked by its field)`);
  }

  // --- the server's messages ---------------------------------------------------------------

  function receive(message) {
    if (message.type === "error") return refused(message);
    if (message.type === "results") {
      Share.save(new Blob([message.text], { type: "application/json" }), "results.json");
      return;
    }
    if (message.type === "reset") {
      if (view.expecting === "reset") view.expecting = null;
      return;
    }
    if (view.expecting !== null && message.type !== view.expecting) return; // the old race's
    const handle = HANDLERS[message.type];
    if (handle) handle(message);
  }

  // A refused start leaves the server's former race running: stop it, so that the page never
  // shows a race that is not the form's.
  function refused(message) {
    const wasStarting = view.expecting === "started";
    refuse(message);
    if (wasStarting || view.state === "running" || view.state === "paused") {
      view.expecting = "reset";
      send({ type: "reset" });
      setState("idle");
    }
  }

  const HANDLERS = {
    started(message) {
      view.expecting = null;
      view.started = message;
      view.names = message.optimizers;
      view.epoch = 0;
      view.epochs = message.epochs;
      view.rate = 0;
      view.races += 1;
      $("panel-race").dataset.race = String(view.races);
      clearViews();
      buildChart();
      RaceCards.build(message);
      setState("running");
      status(`racing ${view.names.join(", ")} on ${message.n_examples} examples, ` +
             `${message.epochs} epochs`);
      $("race-command").value = message.command || "";
      showNow();
    },

    progress(message) {
      view.pending.push(message);
      view.epoch = message.epoch;
      view.rate = message.epochs_per_second;
      for (const name of view.names) {
        const costs = message.costs[name] || [];
        if (costs.length) view.latestCost[name] = costs[costs.length - 1];
      }
      Object.assign(view.oscillation, message.oscillation || {});
      drawSoon();
    },

    boundaries(message) {
      view.boundaries = message;
      view.boundariesDrawn = false;
      Object.assign(view.accuracy, message.accuracy || {});
      drawSoon();
    },

    paused(message) {
      view.epoch = message.epoch;
      setState("paused");
      status(`paused at epoch ${message.epoch}: Resume goes on, Step trains one more epoch`);
      drawSoon();
    },

    done(message) {
      view.epoch = message.epoch;
      view.results = message.results;
      for (const [name, result] of Object.entries(message.results)) {
        view.accuracy[name] = result.train_accuracy;
      }
      setState("done");
      status(`done: ${message.epoch} epochs`);
      drawSoon();
    },
  };

  // --- drawing, once per animation frame ---------------------------------------------------

  function drawSoon() {
    if (view.frame) return;
    view.frame = true;
    requestAnimationFrame(() => {
      view.frame = false;
      showNow();
    });
  }

  // The progress messages since the last frame as one append: every optimizer's epoch costs
  // (contiguous, from the first message's first epoch) and mini-batch costs.
  function merged(messages) {
    const all = {};
    for (const name of view.names) {
      const first = messages[0].first_epoch ?? view.received[name] ?? 0;
      const entry = { costs: [], first_epoch: first, minibatch: { x: [], costs: [] } };
      for (const message of messages) {
        for (const cost of message.costs[name] || []) entry.costs.push(cost);
        const batch = message.minibatch && message.minibatch[name];
        if (batch) {
          for (const x of batch.x) entry.minibatch.x.push(x);
          for (const cost of batch.costs) entry.minibatch.costs.push(cost);
        }
      }
      view.received[name] = first + entry.costs.length;
      all[name] = entry;
    }
    return all;
  }

  function showNow() {
    if (view.pending.length && view.chart) {
      view.chart.append(merged(view.pending));
      view.chartDrawn += 1;
      $("cost-chart").dataset.drawn = String(view.chartDrawn);
    }
    view.pending = [];
    const shown = $("race-epoch");
    shown.dataset.epoch = String(view.epoch);
    shown.textContent = `epoch ${view.epoch} / ${view.epochs}`;
    $("race-rate").textContent = view.state === "running"
      ? `${Math.round(view.rate)} epochs/s` : "";
    RaceCards.show(view);
    if (!view.boundariesDrawn) {
      view.boundariesDrawn = true;
      RaceCards.drawMaps(view.boundaries, view.started);
    }
  }

  function buildChart() {
    const box = $("cost-chart");
    box.textContent = "";
    if (!window.DescentCharts) {
      box.textContent = "The chart component (static/charts.js) did not load.";
      return;
    }
    view.chart = DescentCharts.costChart(box, {
      series: view.names.map((name, index) => ({ name, colour: PALETTE[index % PALETTE.length] })),
      title: "cost", xLabel: "epoch", yLabel: "cost", height: 300,
    });
  }

  function clearViews() {
    if (view.chart) view.chart.destroy();
    view.chart = null;
    view.pending = [];
    view.received = {};
    view.latestCost = {};
    view.oscillation = {};
    view.accuracy = {};
    view.boundaries = null;
    view.boundariesDrawn = true;
    view.results = null;
    view.epoch = 0;
    view.rate = 0;
    $("cost-chart").textContent = "";
    RaceCards.clear();
    showNow();
  }

  // --- sharing -----------------------------------------------------------------------------

  async function copyCommand() {
    if (!view.started) return;
    await Share.copy(view.started.command || "", $("race-command-box"), $("race-command"),
                     $("race-share-status"));
  }

  async function downloadChart() {
    if (!view.chart) return;
    Share.save(await view.chart.png(), "cost_curves.png");
  }

  // --- an uploaded CSV ---------------------------------------------------------------------

  async function uploadFile() {
    const file = $("race-file").files[0];
    if (!file) return;
    FieldErrors.clear($("race-controls"));
    status(`sending ${file.name}...`);
    const answer = await fetch("/api/upload?name=" + encodeURIComponent(file.name), {
      method: "POST", headers: { "Content-Type": "text/csv" }, body: file,
    });
    let document_ = null;
    try {
      document_ = await answer.json();
    } catch (error) {
      document_ = null;
    }
    if (!answer.ok) {
      const refusal = document_ && document_.error ? document_.error : {
        field: "file",
        message: answer.status === 413
          ? `must be at most ${RaceForm.maxUploadBytes()} bytes, got ${file.size}`
          : `the server answered ${answer.status}`,
      };
      refuse(refusal);
      return;
    }
    RaceForm.useUpload(document_);
    start();
  }

  // --- wiring ------------------------------------------------------------------------------

  function open(options, query) {
    if (!options.race) {
      status("This server offers no races (its /api/options has no \"race\" section).");
      return;
    }
    RaceForm.build(options.race, query);
    const form = $("race-controls");
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("input", (event) => {
      if (event.target.id === "race-file") return;
      if (event.target.id === "race-dataset") RaceForm.datasetChanged();
      else RaceForm.showDefaults();
      writeUrl();
      restartSoon();
    });
    $("race-file").addEventListener("change", uploadFile);
    $("race-start").addEventListener("click", start);
    $("race-pause").addEventListener("click", pauseOrResume);
    $("race-step").addEventListener("click", step);
    $("race-reset").addEventListener("click", reset);
    $("race-copy-command").addEventListener("click", copyCommand);
    $("race-download-results").addEventListener("click", () => send({ type: "results" }));
    $("race-download-chart").addEventListener("click", downloadChart);
    setState("idle");
    showNow();
    start(); // a shared link shows its race at once (a link naming a CSV asks for it first)
  }

  return { open, writeUrl, state: () => view.state, view };
})();
window.RaceView = RaceView;
