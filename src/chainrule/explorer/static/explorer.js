// The "Gradient explorer" tab: contour (left) and surface (right) of F, the point and its
// gradient, descent paths, and the Taylor picture of why η must be small.
// Every number comes from the server (chainrule); this file only draws.
"use strict";

(function () {
  const api = (path, body) => window.chainrule.api(path, body);
  const $ = (id) => document.getElementById(id);
  const BLUE = "#1f5fd6", RED = "#d62728", TEAL = "#17becf", GREY = "#555";
  const METHOD_COLORS = {
    gd: "#ff7f0e", momentum: "#2ca02c", nesterov: "#9467bd", rmsprop: "#8c564b", adam: "#e377c2",
  };
  const GRID = 100;
  // Trace indices of the two views (paths follow the fixed traces). On the contour plot the
  // point and its arrows are layout shapes and annotations: moving them redraws no trace.
  const C = { contour: 0, field: 1, paths: 2 };
  const D = { surface: 0, plane: 1, drop: 2, floorPoint: 3, floorGrad: 4, point: 5, grad: 6, paths: 7 };

  const S = {
    catalog: null, mode: "function", preset: null, surf: null, domain: null,
    pt: { x: 0, y: 0 }, info: null, dir: 0, paths: [], trainedFit: null, uirev: 0, plotted: 0,
  };

  // Counts finished re-plots in <body data-plotted>, so scripts driving the page can wait.
  function plotted() {
    S.plotted += 1;
    document.body.dataset.plotted = String(S.plotted);
  }

  // ------------------------------------------------------------------ small helpers
  function fmt(v, digits = 6) {
    if (v === null || v === undefined) return "not finite";
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e6 || a < 1e-4) return v.toExponential(digits - 1);
    return String(Number(v.toPrecision(digits)));
  }
  const lr = () => Number(Math.pow(10, Number($("lr").value)).toPrecision(3));
  const span = () => {
    const [x0, x1, y0, y1] = S.domain;
    return { x0, x1, y0, y1, sx: x1 - x0, sy: y1 - y0 };
  };

  function spec() {
    if (S.mode === "network") {
      return { network: { problem: $("problem").value, wx: $("wx").value, wy: $("wy").value } };
    }
    return { expression: $("expr").value };
  }

  // Run an async request so that only the latest call's reply is drawn.
  function latest(fn) {
    let running = false, queued = null;
    return async function (...args) {
      queued = args;
      if (running) return;
      running = true;
      try {
        while (queued) {
          const a = queued;
          queued = null;
          await fn(...a);
        }
      } finally {
        running = false;
      }
    };
  }

  function showError(el, err, text) {
    if (!err) {
      el.hidden = true;
      el.textContent = "";
      return;
    }
    let msg = err.message || String(err);
    if (text !== undefined && err.column) {
      msg += `\n${text}\n${" ".repeat(err.column - 1)}^`;
    }
    el.textContent = msg;
    el.hidden = false;
  }

  // ------------------------------------------------------------------ the surface
  function colourValues(z, zmin, zmax) {
    // Strongly skewed surfaces (Rosenbrock, Beale) are coloured by log10(1 + F − min F).
    if (zmin === null) return { values: z, log: false };
    const flat = z.flat().filter((v) => v !== null).sort((a, b) => a - b);
    const median = flat[Math.floor(flat.length / 2)];
    if (zmax - zmin <= 0 || median - zmin > 0.05 * (zmax - zmin)) return { values: z, log: false };
    const values = z.map((row) => row.map((v) => (v === null ? null : Math.log10(1 + v - zmin))));
    return { values, log: true };
  }

  async function plotSurface(useDomain) {
    const body = { function: spec(), n: GRID, gradient: true };
    if (useDomain) {
      const d = ["xmin", "xmax", "ymin", "ymax"].map((k) => Number($(k).value));
      body.domain = { xmin: d[0], xmax: d[1], ymin: d[2], ymax: d[3] };
    }
    let res;
    try {
      res = await api("/api/surface", body);
    } catch (err) {
      showError($("expr-error"), err, S.mode === "function" ? $("expr").value : undefined);
      return false;
    }
    showError($("expr-error"), null);
    S.surf = res;
    S.domain = res.domain;
    ["xmin", "xmax", "ymin", "ymax"].forEach((k, i) => { $(k).value = fmt(res.domain[i], 4); });
    S.paths = [];
    $("descent-msg").hidden = true;
    Plotly.purge("energy");
    S.uirev += 1;
    if (res.nonfinite > 0) {
      $("note").textContent = `F is not finite at ${res.nonfinite} of ${GRID * GRID} grid points ` +
        "(left blank).";
    }
    if (res.network) S.trainedFit = null;
    drawAll();
    return true;
  }

  function axisTitles() {
    if (S.mode === "network" && S.surf && S.surf.network) {
      return [S.surf.network.wx_label, S.surf.network.wy_label, "E"];
    }
    return ["x", "y", "F"];
  }

  function floorZ() {
    const { zmin, zmax } = S.surf;
    if (zmin === null) return 0;
    return zmin - 0.6 * Math.max(zmax - zmin, 1e-9);
  }

  // Arrows of ∇F on a coarse subgrid, their lengths growing like sqrt(|∇F|).
  function fieldTrace() {
    const s = S.surf, xs = [], ys = [], sizes = [];
    const show = $("show-field").checked && s.gx;
    if (show) {
      const k = Math.ceil(s.x.length / 16);
      const cell = Math.min(k * (s.x[1] - s.x[0]), k * (s.y[1] - s.y[0]));
      let gmax = 0;
      for (let i = 0; i < s.y.length; i += k) {
        for (let j = 0; j < s.x.length; j += k) {
          const gx = s.gx[i][j], gy = s.gy[i][j];
          if (gx !== null && gy !== null) gmax = Math.max(gmax, Math.hypot(gx, gy));
        }
      }
      for (let i = 0; gmax > 0 && i < s.y.length; i += k) {
        for (let j = 0; j < s.x.length; j += k) {
          const gx = s.gx[i][j], gy = s.gy[i][j];
          const n = gx === null || gy === null ? 0 : Math.hypot(gx, gy);
          if (!(n > 0)) continue;
          const len = 0.8 * cell * Math.sqrt(n / gmax);
          xs.push(s.x[j], s.x[j] + (len * gx) / n, null);
          ys.push(s.y[i], s.y[i] + (len * gy) / n, null);
          sizes.push(0, 7, 0);
        }
      }
    }
    return {
      type: "scatter", mode: "lines+markers", x: xs, y: ys, hoverinfo: "skip", showlegend: false,
      line: { color: "rgba(255,255,255,0.75)", width: 1 },
      marker: { color: "rgba(255,255,255,0.9)", size: sizes, symbol: "arrow", angleref: "previous" },
    };
  }

  // ------------------------------------------------------------------ point-dependent traces
  // The point asked for is S.pt; S.info is the server's latest answer, which may lag a
  // little behind while dragging. Arrows start where the answer was computed.
  function pointGeometry() {
    const { x, y } = S.pt;
    const info = S.info;
    const { sx, sy } = span();
    const L = 0.12 * Math.max(sx, sy);
    const g = info && info.norm ? { x: info.gx / info.norm, y: info.gy / info.norm } : null;
    const u = { x: Math.cos((S.dir * Math.PI) / 180), y: Math.sin((S.dir * Math.PI) / 180) };
    return { x, y, info, L, g, u };
  }

  function arrow(name, x0, y0, x1, y1, color, width) {
    return {
      name, x: x1, y: y1, ax: x0, ay: y0, xref: "x", yref: "y", axref: "x", ayref: "y",
      text: "", showarrow: true, arrowhead: 2, arrowsize: 1.1, arrowwidth: width, arrowcolor: color,
      visible: x0 !== x1 || y0 !== y1,
    };
  }

  function contourOverlay() {
    const { x, y, info, L, g, u } = pointGeometry();
    const ok = info && info.finite && g;
    const eta = lr();
    const annotations = [arrow("direction", x, y, x + L * u.x, y + L * u.y, TEAL, 2)];
    const shapes = [];
    if (ok) {
      const sx = info.x - eta * info.gx, sy = info.y - eta * info.gy;
      shapes.push({ name: "step", type: "line", x0: info.x, y0: info.y, x1: sx, y1: sy,
        line: { color: GREY, width: 1.5, dash: "dot" } });
      annotations.push(arrow("gradient", info.x, info.y, info.x + L * g.x, info.y + L * g.y, BLUE, 3));
    }
    shapes.push({ name: "point", type: "circle", xref: "x", yref: "y", xsizemode: "pixel",
      ysizemode: "pixel", xanchor: x, yanchor: y, x0: -7, x1: 7, y0: -7, y1: 7,
      fillcolor: RED, line: { color: "#fff", width: 1.5 } });
    return { shapes, annotations };
  }

  function surfacePointTraces() {
    const { info, L, g } = pointGeometry();
    const z0 = floorZ();
    const ok = info && info.finite;
    const x = info ? info.x : S.pt.x, y = info ? info.y : S.pt.y;  // F is known there
    const f = ok ? info.f : z0;
    const { sx, sy } = span();
    const sz = S.surf.zmax === null ? 1 : Math.max(S.surf.zmax - z0, 1e-9);
    let tip = { x, y, z: f };
    if (ok && g) {
      const n = Math.hypot(g.x / sx, g.y / sy, info.norm / sz);
      const t = 0.25 / n;
      tip = { x: x + t * g.x, y: y + t * g.y, z: f + t * info.norm };
    }
    const line3 = (xs, ys, zs, color, width, extra) => Object.assign({
      type: "scatter3d", mode: "lines", x: xs, y: ys, z: zs, hoverinfo: "skip",
      line: { color, width }, showlegend: false,
    }, extra || {});
    const h = { x: 0.15 * sx, y: 0.15 * sy };
    const plane = ok ? {
      x: [x - h.x, x + h.x], y: [y - h.y, y + h.y],
      z: [[-1, 1], [-1, 1]].map((r, i) => r.map((s, j) =>
        f + info.gx * (j ? h.x : -h.x) + info.gy * (i ? h.y : -h.y))),
    } : { x: [x, x], y: [y, y], z: [[null, null], [null, null]] };
    return [
      { type: "surface", x: plane.x, y: plane.y, z: plane.z, opacity: 0.55, showscale: false,
        colorscale: [[0, "#9ec5ff"], [1, "#9ec5ff"]], hoverinfo: "skip",
        visible: $("show-plane").checked, name: "tangent plane" },
      line3([x, x], [y, y], [z0, f], GREY, 2, { line: { color: GREY, width: 2, dash: "dash" } }),
      { type: "scatter3d", mode: "markers", x: [x], y: [y], z: [z0], hoverinfo: "skip",
        marker: { color: RED, size: 7 }, showlegend: false },
      line3([x, ok && g ? x + 1.6 * L * g.x : x], [y, ok && g ? y + 1.6 * L * g.y : y], [z0, z0], BLUE, 6),
      { type: "scatter3d", mode: "markers", x: [x], y: [y], z: [f], hoverinfo: "skip",
        marker: { color: "#000", size: 6 }, showlegend: false },
      line3([x, tip.x], [y, tip.y], [f, tip.z], BLUE, 8),
    ];
  }

  function pathTraces(three, upto) {
    return S.paths.map((p) => {
      const k = upto === undefined ? p.x.length : Math.min(upto, p.x.length);
      const t = {
        x: p.x.slice(0, k), y: p.y.slice(0, k), name: p.label, hoverinfo: "skip",
        line: { color: METHOD_COLORS[p.method], width: three ? 5 : 2 }, showlegend: false,
      };
      if (three) return Object.assign(t, { type: "scatter3d", mode: "lines", z: p.E.slice(0, k) });
      return Object.assign(t, { type: "scatter", mode: "lines+markers",
        marker: { size: 4, color: METHOD_COLORS[p.method] } });
    });
  }

  // ------------------------------------------------------------------ drawing
  function drawAll(upto) {
    const s = S.surf;
    const [tx, ty, tz] = axisTitles();
    const colour = colourValues(s.z, s.zmin, s.zmax);
    const cbar = { title: { text: colour.log ? "log₁₀(1+F−min)" : tz }, thickness: 12 };
    const contour = {
      type: "contour", x: s.x, y: s.y, z: colour.values, customdata: s.z,
      colorscale: "Viridis", ncontours: 30, colorbar: cbar, line: { width: 0.5 },
      hovertemplate: `${tx}=%{x:.3f}<br>${ty}=%{y:.3f}<br>${tz}=%{customdata:.4g}<extra></extra>`,
    };
    const { x0, x1, y0, y1 } = span();
    const equal = S.mode === "function";
    Plotly.react("contour", [contour, fieldTrace(), ...pathTraces(false, upto)], {
      ...contourOverlay(),
      margin: { l: 50, r: 10, t: 10, b: 40 }, dragmode: false, hovermode: "closest",
      uirevision: S.uirev,
      xaxis: { range: [x0, x1], title: { text: tx }, constrain: "domain" },
      yaxis: equal ? { range: [y0, y1], title: { text: ty }, scaleanchor: "x", constrain: "domain" }
        : { range: [y0, y1], title: { text: ty } },
    }, { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["zoom2d", "pan2d", "select2d", "lasso2d", "autoScale2d"] });

    const surface = {
      type: "surface", x: s.x, y: s.y, z: s.z, surfacecolor: colour.values, colorscale: "Viridis",
      showscale: false, opacity: 0.75,
      contours: { z: { show: true, usecolormap: true, width: 1, project: { z: true } } },
      hovertemplate: `${tx}=%{x:.3f}<br>${ty}=%{y:.3f}<br>${tz}=%{z:.4g}<extra></extra>`,
    };
    const z0 = floorZ();
    Plotly.react("surface3d", [surface, ...surfacePointTraces(), ...pathTraces(true, upto)], {
      margin: { l: 0, r: 0, t: 0, b: 0 }, uirevision: S.uirev,
      scene: {
        aspectmode: "cube",
        xaxis: { range: [x0, x1], title: { text: tx } },
        yaxis: { range: [y0, y1], title: { text: ty } },
        zaxis: { range: [z0, s.zmax === null ? 1 : s.zmax], title: { text: tz } },
        camera: { eye: { x: -1.6, y: -1.7, z: 0.75 } },
      },
    }, { displaylogo: false, responsive: true });
    drawFitBase();
  }

  function redrawPoint() {
    if (!S.surf) return;
    Plotly.relayout("contour", contourOverlay());
    redrawSurfacePoint();
  }

  // The 3-D scene redraws slowly without a GPU, so its updates are coalesced: while one is
  // being drawn, only the latest request waits.
  const redrawSurfacePoint = latest(async () => {
    if (!S.surf) return;
    const d = surfacePointTraces();
    await Plotly.restyle("surface3d", {
      x: d.map((t) => t.x), y: d.map((t) => t.y), z: d.map((t) => t.z),
      visible: d.map((t, i) => (i === 0 ? $("show-plane").checked : true)),
    }, [D.plane, D.drop, D.floorPoint, D.floorGrad, D.point, D.grad]);
    await new Promise((resolve) => setTimeout(resolve, 0));
  });

  function showReadouts() {
    const info = S.info;
    if (!info) return;
    $("out-f").textContent = fmt(info.f);
    $("out-gx").textContent = fmt(info.gx);
    $("out-gy").textContent = fmt(info.gy);
    $("out-norm").textContent = fmt(info.norm);
    $("out-angle").textContent = info.angle === null ? "not finite" : `${fmt(info.angle, 4)}°`;
    $("out-dir").textContent = fmt(info.directional);
    $("out-theta").textContent = info.theta === null ? "undefined" : fmt(info.theta, 4);
    showError($("point-msg"), info.message ? { message: info.message } : null);
    if (info.fit) drawFit(info.fit);
  }

  // ------------------------------------------------------------------ the point
  const fetchPoint = latest(async (x, y) => {
    try {
      S.info = await api("/api/point", { function: spec(), x, y, direction: S.dir });
    } catch (err) {
      showError($("point-msg"), err);
      return;
    }
    showReadouts();
    redrawPoint();
    $("point-panel").dataset.x = String(S.info.x);
    $("point-panel").dataset.y = String(S.info.y);
  });

  const fetchTaylor = latest(async (x, y) => {
    let res;
    try {
      res = await api("/api/taylor", { function: spec(), x, y, eta: lr(), n: 80 });
    } catch (err) {
      $("curv-text").textContent = err.message;
      return;
    }
    drawTaylor(res);
  });

  function setPoint(x, y, settle = true) {
    S.pt = { x, y };
    // the point asked for (data-want-*) and, once the reply is drawn, answered (data-x, data-y)
    $("point-panel").dataset.wantX = String(x);
    $("point-panel").dataset.wantY = String(y);
    $("px").value = fmt(x, 5);
    $("py").value = fmt(y, 5);
    if (S.surf) Plotly.relayout("contour", contourOverlay());
    fetchPoint(x, y);
    if (settle) fetchTaylor(x, y);
  }

  function toData(gd, e, clamp) {
    const fl = gd._fullLayout;
    if (!fl || !fl.xaxis) return null;
    const xa = fl.xaxis, ya = fl.yaxis, rect = gd.getBoundingClientRect();
    let px = e.clientX - rect.left - xa._offset, py = e.clientY - rect.top - ya._offset;
    const inside = px >= 0 && px <= xa._length && py >= 0 && py <= ya._length;
    if (!inside && !clamp) return null;
    px = Math.min(Math.max(px, 0), xa._length);
    py = Math.min(Math.max(py, 0), ya._length);
    return { x: xa.p2d(px), y: ya.p2d(py) };
  }

  function enableDragging() {
    const gd = $("contour");
    let dragging = false;
    // Plotly's own drag (zoom, pan) is switched off; the point follows the mouse instead.
    gd.addEventListener("mousedown", (e) => { if (toData(gd, e)) e.stopPropagation(); }, true);
    gd.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      const p = toData(gd, e);
      if (!p) return;
      dragging = true;
      e.preventDefault();
      e.stopPropagation();
      setPoint(p.x, p.y, false);
    }, true);
    window.addEventListener("pointermove", (e) => {
      if (!dragging) return;
      const p = toData(gd, e, true);
      if (p) setPoint(p.x, p.y, false);
    });
    window.addEventListener("pointerup", () => {
      if (!dragging) return;
      dragging = false;
      fetchTaylor(S.pt.x, S.pt.y);
    });
    $("surface3d").on("plotly_click", (ev) => {
      const p = ev.points && ev.points[0];
      if (p && p.curveNumber === D.surface) setPoint(p.x, p.y);
    });
  }

  // ------------------------------------------------------------------ descent
  async function runDescent() {
    const methods = [...document.querySelectorAll("#methods input:checked")].map((i) => i.value);
    const panel = $("descent-panel");
    if (!methods.length) {
      showError($("descent-msg"), { message: "Tick at least one method." });
      return;
    }
    panel.dataset.state = "running";
    let res;
    try {
      res = await api("/api/descent", {
        function: spec(), x: S.pt.x, y: S.pt.y, lr: lr(),
        steps: Math.max(1, Math.min(1000, Math.round(Number($("steps").value) || 100))), methods,
      });
    } catch (err) {
      showError($("descent-msg"), err);
      panel.dataset.state = "error";
      return;
    }
    S.paths = res.paths;
    showError($("descent-msg"), res.message ? { message: res.message } : null);
    drawAll(1);
    await animatePaths();
    panel.dataset.state = "done";
  }

  // Reveal the paths over about 1.5 s, whatever the frame rate; the 3-D paths follow only
  // while the scene draws fast (it does with a GPU), and always at the end.
  function animatePaths() {
    const longest = Math.max(...S.paths.map((p) => p.x.length));
    const nc = S.paths.map((_, i) => C.paths + i), nd = S.paths.map((_, i) => D.paths + i);
    const duration = 1500, t0 = performance.now();
    let slow3d = false;
    const show = (k, with3d) => {
      const c = pathTraces(false, k);
      Plotly.restyle("contour", { x: c.map((t) => t.x), y: c.map((t) => t.y) }, nc);
      if (with3d) {
        const d = pathTraces(true, k), t = performance.now();
        Plotly.restyle("surface3d", { x: d.map((q) => q.x), y: d.map((q) => q.y), z: d.map((q) => q.z) }, nd);
        slow3d = performance.now() - t > 40;
      }
      drawEnergy(k);
    };
    return new Promise((resolve) => {
      const tick = () => {
        const frac = Math.min(1, (performance.now() - t0) / duration);
        const k = Math.max(1, Math.ceil(frac * longest));
        show(k, frac >= 1 || !slow3d);
        if (frac < 1) requestAnimationFrame(tick); else resolve();
      };
      requestAnimationFrame(tick);
    });
  }

  function drawEnergy(upto) {
    const all = S.paths.flatMap((p) => p.E).filter((v) => v !== null);
    const positive = all.length > 0 && all.every((v) => v > 0);
    const traces = S.paths.map((p) => ({
      type: "scatter", mode: "lines", name: p.label, x: [...p.E.keys()].slice(0, upto),
      y: p.E.slice(0, upto), line: { color: METHOD_COLORS[p.method], width: 2 },
    }));
    Plotly.react("energy", traces, {
      margin: { l: 55, r: 10, t: 10, b: 35 }, legend: { orientation: "h", y: -0.25 },
      xaxis: { title: { text: "step" } },
      yaxis: { title: { text: axisTitles()[2] }, type: positive ? "log" : "linear" },
    }, { displaylogo: false, responsive: true });
  }

  // ------------------------------------------------------------------ Taylor and curvature
  function drawTaylor(res) {
    const c = res.curvature;
    $("curv-text").textContent = [res.message, c.text].filter(Boolean).join(" ");
    const at = res.at_eta;
    $("tay-eta").textContent = fmt(lr(), 3);
    $("tay-pred").textContent = at ? fmt(at.predicted, 4) : "—";
    $("tay-act").textContent = at ? fmt(at.actual, 4) : "—";
    if (!res.predicted) {
      Plotly.purge("taylor");
      return;
    }
    const lo = Math.min(...res.predicted.filter((v) => v !== null));
    const yr = lo < 0 ? [1.3 * lo, -1.3 * lo] : [-1, 1];
    const vline = (x, color, dash) => ({ type: "line", xref: "x", yref: "paper", x0: x, x1: x,
      y0: 0, y1: 1, line: { color, dash, width: 1.5 } });
    const shapes = [vline(lr(), GREY, "solid")];
    const notes = [];
    if (c.lr_bound) {
      shapes.push(vline(c.lr_bound, RED, "dash"));
      notes.push({ x: c.lr_bound, y: 1, yref: "paper", text: "2/λ_max",
        showarrow: false, font: { color: RED, size: 11 }, yanchor: "bottom" });
    }
    Plotly.react("taylor", [
      { type: "scatter", mode: "lines", name: "predicted ∇F·Δ", x: res.eta, y: res.predicted,
        line: { color: BLUE, dash: "dash" } },
      { type: "scatter", mode: "lines", name: "actual ΔF", x: res.eta, y: res.actual,
        line: { color: "#ff7f0e" } },
    ], {
      margin: { l: 55, r: 10, t: 18, b: 35 }, legend: { orientation: "h", y: -0.3 },
      xaxis: { range: [0, res.eta[res.eta.length - 1]], title: { text: "η" } }, yaxis: { range: yr, title: { text: "change of F" } },
      shapes, annotations: notes,
    }, { displaylogo: false, responsive: true });
  }

  // ------------------------------------------------------------------ network fit
  function drawFitBase() {
    const show = S.mode === "network" && Boolean(S.surf.network);
    if ($("fit-panel").hidden === !show) return;
    $("fit-panel").hidden = !show;
    resizePlots();  // the panels' grid changed its columns
  }

  function resizePlots() {
    for (const id of ["contour", "surface3d", "energy", "taylor", "fit"]) {
      const gd = $(id);
      if (gd && gd.data && gd.offsetParent !== null) Plotly.Plots.resize(gd);
    }
  }

  function drawFit(fit) {
    const n = S.surf && S.surf.network;
    if (S.mode !== "network" || !n) return;
    if (!S.trainedFit) S.trainedFit = fit;
    Plotly.react("fit", [
      { type: "scatter", mode: "markers", name: "data", x: n.data_x, y: n.data_t,
        marker: { color: "#444", size: 6 } },
      { type: "scatter", mode: "lines", name: "trained", x: S.trainedFit.x, y: S.trainedFit.y,
        line: { color: "#aaa", dash: "dot" } },
      { type: "scatter", mode: "lines", name: "at the point", x: fit.x, y: fit.y,
        line: { color: RED, width: 2.5 } },
    ], {
      margin: { l: 40, r: 10, t: 10, b: 35 }, legend: { orientation: "h", y: -0.25 },
      xaxis: { title: { text: "x" } }, yaxis: { range: [-1.5, 1.5], title: { text: "y" } },
    }, { displaylogo: false, responsive: true });
  }

  // ------------------------------------------------------------------ controls
  function fillControls() {
    const cat = S.catalog;
    const opt = (value, text) => Object.assign(document.createElement("option"), { value, textContent: text });
    cat.presets.forEach((p) => $("preset").appendChild(opt(p.name, p.label)));
    $("preset").appendChild(opt("", "(typed)"));
    cat.problems.forEach((p) => $("problem").appendChild(opt(p.id, p.label)));
    for (const sel of ["wx", "wy"]) cat.weights.forEach((w) => $(sel).appendChild(opt(w.id, w.label)));
    $("problem").value = "sin";
    $("wx").value = "w2_1";
    $("wy").value = "b2";
    for (const m of cat.methods) {
      const label = document.createElement("label");
      label.innerHTML = `<input type="checkbox" value="${m.id}"> <span class="swatch"></span>`;
      label.querySelector(".swatch").style.background = METHOD_COLORS[m.id];
      label.append(m.label);
      if (m.id === "gd") label.querySelector("input").checked = true;
      $("methods").appendChild(label);
    }
  }

  async function choosePreset(name) {
    const p = S.catalog.presets.find((q) => q.name === name);
    if (!p) return;
    S.preset = p;
    $("expr").value = p.expression;
    $("note").textContent = p.note;
    $("lr").value = Math.log10(p.lr);
    showLr();
    ["xmin", "xmax", "ymin", "ymax"].forEach((k, i) => { $(k).value = p.domain[i]; });
    if (await plotSurface(true)) setPoint(p.start[0], p.start[1]);
    plotted();
  }

  async function replot(resetDomain) {
    const { x, y } = S.pt;
    if (!(await plotSurface(!resetDomain))) {
      plotted();
      return;
    }
    if (S.mode === "network") {
      const [a, b] = S.surf.network.trained;
      setPoint(a, b);
    } else {
      const { x0, x1, y0, y1 } = span();
      const inside = x >= x0 && x <= x1 && y >= y0 && y <= y1;
      setPoint(inside ? x : (x0 + x1) / 2, inside ? y : (y0 + y1) / 2);
    }
    plotted();
  }

  function showLr() {
    $("lr-val").textContent = fmt(lr(), 3);
  }

  function wire() {
    $("preset").addEventListener("change", (e) => choosePreset(e.target.value));
    $("plot").addEventListener("click", () => { $("preset").value = ""; $("note").textContent = ""; replot(false); });
    $("expr").addEventListener("keydown", (e) => { if (e.key === "Enter") $("plot").click(); });
    for (const k of ["xmin", "xmax", "ymin", "ymax"]) $(k).addEventListener("change", () => replot(false));
    $("reset-view").addEventListener("click", () => {
      if (S.mode === "function" && S.preset && $("preset").value) choosePreset(S.preset.name);
      else replot(true);
    });
    document.querySelectorAll('input[name="mode"]').forEach((r) => r.addEventListener("change", () => {
      S.mode = document.querySelector('input[name="mode"]:checked').value;
      $("function-controls").hidden = S.mode !== "function";
      $("network-controls").hidden = S.mode !== "network";
      $("note").textContent = S.mode === "network"
        ? "Drag the point to set the two weights; the fit on the right follows." : "";
      if (S.mode === "function") choosePreset($("preset").value || S.catalog.presets[0].name);
      else replot(true);
    }));
    for (const k of ["problem", "wx", "wy"]) $(k).addEventListener("change", () => replot(true));
    for (const k of ["px", "py"]) {
      $(k).addEventListener("change", () => {
        const x = Number($("px").value), y = Number($("py").value);
        if (Number.isFinite(x) && Number.isFinite(y)) setPoint(x, y);
      });
    }
    $("dir").addEventListener("input", () => {
      S.dir = Number($("dir").value);
      $("dir-val").textContent = String(S.dir);
      setPoint(S.pt.x, S.pt.y, false);
    });
    $("lr").addEventListener("input", () => {
      showLr();
      redrawPoint();
      fetchTaylor(S.pt.x, S.pt.y);
    });
    $("show-plane").addEventListener("change", redrawPoint);
    $("show-field").addEventListener("change", () => {
      const t = fieldTrace();
      Plotly.restyle("contour", { x: [t.x], y: [t.y], "marker.size": [t.marker.size] }, [C.field]);
    });
    $("run").addEventListener("click", runDescent);
    $("clear").addEventListener("click", () => {
      S.paths = [];
      $("descent-msg").hidden = true;
      drawAll();
      Plotly.purge("energy");
    });
  }

  async function init() {
    S.catalog = await api("/api/catalog");
    fillControls();
    wire();
    $("dir-val").textContent = "0";
    showLr();
    $("preset").value = "elongated";
    await choosePreset("elongated");
    enableDragging();
    document.body.dataset.ready = "true";
  }

  window.chainrule.registerTab({
    id: "explorer",
    title: "Gradient explorer",
    init,
    show: resizePlots,
  });
})();
