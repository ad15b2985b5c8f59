// The "Gradient explorer" tab: contour (left) and surface (right) of F, the point and its
// gradient, descent paths, and the Taylor picture of why η must be small.
// Every number comes from chainrule through window.chainrule.api: the local server, or, in
// an exported file, the numbers chainrule computed at export time. This file only draws.
//
// Speed while dragging: what moves on the contour (the point, its arrows, the descent
// paths) is an SVG overlay drawn here, so the contour plot itself is redrawn only when the
// surface changes; on the 3-D view the few traces that move are updated directly on the
// WebGL scene, never re-sending the surface, and during a continuous move they are drawn on
// a 2-D canvas over the scene instead, so the scene (the surface) is not redrawn per update.
"use strict";

(function () {
  const cr = window.chainrule;
  const api = (path, body) => cr.api(path, body);
  const $ = (id) => document.getElementById(id);
  const SVGNS = "http://www.w3.org/2000/svg";
  const BLUE = "#1f5fd6", RED = "#d62728", TEAL = "#0f9fb0", GREY = "#555";
  const METHOD_COLORS = {
    gd: "#ff7f0e", momentum: "#2ca02c", nesterov: "#9467bd", rmsprop: "#8c564b", adam: "#e377c2",
  };
  const GRID = 100;
  const ARROW_PX = 70;     // unit arrow on the contour, in pixels
  const ARROW_3D = 0.22;   // unit arrow in the 3-D box, as a fraction of the box
  const SURFACE_OPACITY = 0.68;
  // How the scene draws the point's traces, for the overlay that stands in for it during a
  // drag (compared on screenshots, tests/explorer/test_drag3d.py): a scatter3d marker of
  // size s is a disc of radius about MARKER_PX·s px, a line of width w is LINE_PX·w px wide,
  // and the black point behind one layer of the translucent surface darkens what is there
  // about as much as one drawn on top at alpha SEEN_THROUGH (0.48-0.49 measured; its white
  // outline then shows not at all).
  const MARKER_PX = 0.9, LINE_PX = 0.5, SEEN_THROUGH = 0.5;
  const C = { contour: 0, field: 1 };
  // Trace indices of the 3-D view; descent paths follow the fixed traces.
  const D = { surface: 0, plane: 1, drop: 2, floorPoint: 3, floorGrad: 4, point: 5, grad: 6, paths: 7 };
  const MOVING = [D.plane, D.drop, D.floorPoint, D.floorGrad, D.point, D.grad];

  const S = {
    catalog: null, mode: "function", preset: null, surf: null, domain: null, gref: 1,
    pt: { x: 0, y: 0 }, info: null, dir: 0, eta: 0.1, paths: [], upto: 0, trainedFit: null,
    uirev: 0, plotted: 0, stale: false,
    // surface3d: updates of the 3-D point's marks; scene3d: frames of the WebGL scene for them
    stats: { point: 0, surface3d: 0, scene3d: 0, contour: 0 },
  };
  cr.stats = S.stats;  // counters read by bench/explorer_drag.py
  cr.state = S;        // read (never written) by download.js
  cr.fmt = fmt;        // numbers as the readouts show them (download.js's caption)

  // Counts finished re-plots in <body data-plotted>, so scripts driving the page can wait.
  function plotted() {
    S.plotted += 1;
    document.body.dataset.plotted = String(S.plotted);
  }

  // ------------------------------------------------------------------ small helpers
  function fmt(v, digits = 6) {
    if (v === null || v === undefined || !Number.isFinite(v)) return "not finite";
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e6 || a < 1e-4) return v.toExponential(digits - 1);
    return String(Number(v.toPrecision(digits)));
  }
  const lr = () => S.eta;
  const span = () => {
    const [x0, x1, y0, y1] = S.domain;
    return { x0, x1, y0, y1, sx: x1 - x0, sy: y1 - y0 };
  };
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

  // The function as plotted last: requests for the point, the Taylor picture and descent
  // use it, so a mistyped expression (refused) is not sent again behind the user's back.
  const spec = () => S.spec || typedSpec();

  function typedSpec() {
    if (S.mode === "network") {
      return { network: { problem: $("problem").value, wx: $("wx").value, wy: $("wy").value } };
    }
    return { expression: $("expr").value };
  }

  // Run an async request so that only the latest call's reply is drawn.
  function latest(fn) {
    let running = false, queued = null;
    const run = async function (...args) {
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
    run.busy = () => running;  // a request is on its way or being drawn
    return run;
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

  // The median gradient length on the grid: a proportional arrow that long is drawn unit length.
  function gradientScale(s) {
    const norms = [];
    for (let i = 0; s.gx && i < s.gx.length; i += 4) {
      for (let j = 0; j < s.gx[i].length; j += 4) {
        const n = Math.hypot(s.gx[i][j], s.gy[i][j]);
        if (s.gx[i][j] !== null && s.gy[i][j] !== null && n > 0 && Number.isFinite(n)) norms.push(n);
      }
    }
    norms.sort((a, b) => a - b);
    return norms.length ? norms[Math.floor(norms.length / 2)] : 1;
  }

  function clearResults() {
    // after an error nothing of the previous function stays on screen
    S.surf = null;
    S.info = null;
    S.paths = [];
    for (const id of ["contour", "surface3d", "energy", "taylor"]) Plotly.purge(id);
    drawOverlay();
    resetOverlay3d();
    for (const id of ["out-f", "out-gx", "out-gy", "out-norm", "out-angle", "out-dir", "out-theta",
      "tay-pred", "tay-act"]) $(id).textContent = "—";
    $("curv-text").textContent = "";
    $("descent-msg").hidden = true;
    $("player").hidden = true;
  }

  async function plotSurface(useDomain) {
    const body = { function: typedSpec(), n: GRID, gradient: true };
    if (useDomain) {
      const d = ["xmin", "xmax", "ymin", "ymax"].map((k) => Number($(k).value));
      body.domain = { xmin: d[0], xmax: d[1], ymin: d[2], ymax: d[3] };
    }
    let res;
    try {
      res = await api("/api/surface", body);
    } catch (err) {
      if (!err.offline) clearResults();
      showError($("expr-error"), err, S.mode === "function" ? $("expr").value : undefined);
      return false;
    }
    showError($("expr-error"), null);
    S.spec = body.function;
    S.surf = res;
    S.gref = gradientScale(res);
    S.domain = res.domain;
    ["xmin", "xmax", "ymin", "ymax"].forEach((k, i) => { $(k).value = fmt(res.domain[i], 4); });
    S.paths = [];
    $("descent-msg").hidden = true;
    $("player").hidden = true;
    Plotly.purge("energy");
    S.uirev += 1;
    const notes = [];
    if (res.nonfinite > 0) {
      notes.push(`F is not finite at ${res.nonfinite} of ${GRID * GRID} grid points (left blank).`);
    }
    if (res.zmin !== null && res.zmax === res.zmin) notes.push("F is constant here: ∇F = 0 everywhere.");
    $("surface-note").textContent = notes.join(" ");
    if (res.network) S.trainedFit = null;
    await drawAll();
    return true;
  }

  function axisTitles() {
    if (S.mode === "network" && S.surf && S.surf.network) {
      return [S.surf.network.wx_label, S.surf.network.wy_label, "E"];
    }
    return ["x", "y", "F"];
  }

  // The 3-D box: the domain, and F's range with a floor just below it. Everything drawn in
  // the 3-D view is clipped to it, so a diverging path cannot stretch the scene.
  function box3d() {
    const { x0, x1, y0, y1 } = span();
    let lo = S.surf.zmin, hi = S.surf.zmax;
    if (lo === null) { lo = 0; hi = 1; }
    if (!(hi - lo > 1e-12 * Math.max(1, Math.abs(hi)))) {  // constant F
      const h = Math.max(Math.abs(hi) * 0.1, 1);
      lo -= h;
      hi += h;
    }
    const r = hi - lo;
    return { lo: [x0, y0, lo - 0.08 * r], hi: [x1, y1, hi + 0.04 * r] };
  }
  const floorZ = () => box3d().lo[2];

  // Clip a polyline to a box: kept up to where it first leaves (the crossing point is the
  // last vertex) or meets a non-finite value. pts: arrays of coordinates.
  function clipToBox(pts, box) {
    const out = [];
    let cut = null;
    for (let i = 0; i < pts.length; i++) {
      const p = pts[i];
      if (p.some((v) => v === null || !Number.isFinite(v))) { cut = i; break; }
      const inside = p.every((v, a) => v >= box.lo[a] && v <= box.hi[a]);
      if (inside) { out.push(p); continue; }
      if (out.length) {
        const q = out[out.length - 1];
        let t = 1;
        p.forEach((v, a) => {
          if (v > box.hi[a]) t = Math.min(t, (box.hi[a] - q[a]) / (v - q[a]));
          if (v < box.lo[a]) t = Math.min(t, (box.lo[a] - q[a]) / (v - q[a]));
        });
        out.push(p.map((v, a) => q[a] + t * (v - q[a])));
      }
      cut = i;
      break;
    }
    return { pts: out, cut };
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
      for (let i = 0; gmax > 0 && Number.isFinite(gmax) && i < s.y.length; i += k) {
        for (let j = 0; j < s.x.length; j += k) {
          const gx = s.gx[i][j], gy = s.gy[i][j];
          const n = gx === null || gy === null ? 0 : Math.hypot(gx, gy);
          if (!(n > 0) || !Number.isFinite(n)) continue;
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

  // Arrow length as a multiple of the unit length: 1, or ‖∇F‖ over the grid's median.
  function lengthFactor(norm) {
    if ($("arrow-len").value !== "proportional") return 1;
    return clamp(norm / S.gref, 0.08, 3);
  }

  // ------------------------------------------------------------------ the contour overlay
  function overlay() {
    let svg = $("contour-overlay");
    if (svg) return svg;
    svg = document.createElementNS(SVGNS, "svg");
    svg.id = "contour-overlay";
    svg.setAttribute("class", "overlay");
    svg.setAttribute("aria-hidden", "true");
    const head = (id, color) => `<marker id="${id}" viewBox="0 0 10 10" refX="8" refY="5"
      markerWidth="5" markerHeight="5" orient="auto-start-reverse" markerUnits="strokeWidth">
      <path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`;
    svg.innerHTML = `<defs>${head("head-blue", BLUE)}${head("head-teal", TEAL)}
      ${head("head-grey", GREY)}<clipPath id="ov-clip"><rect id="ov-clip-rect"/></clipPath></defs>
      <g clip-path="url(#ov-clip)"><g id="ov-paths"></g>
      <line id="ov-step" stroke="${GREY}" stroke-width="2" stroke-dasharray="4 3"
        marker-end="url(#head-grey)"/>
      <line id="ov-dir" stroke="${TEAL}" stroke-width="2.5" marker-end="url(#head-teal)"/>
      <line id="ov-grad" stroke="${BLUE}" stroke-width="3.5" marker-end="url(#head-blue)"/>
      <circle id="ov-point" r="6.5" fill="${RED}" stroke="#fff" stroke-width="1.5"/></g>`;
    $("contour").parentElement.appendChild(svg);
    return svg;
  }

  function axes() {
    const gd = $("contour"), fl = gd._fullLayout;
    if (!S.surf || !fl || !fl.xaxis || !fl.xaxis._length) return null;
    const xa = fl.xaxis, ya = fl.yaxis;
    return {
      xa, ya,
      px: (x) => xa._offset + xa.d2p(x), py: (y) => ya._offset + ya.d2p(y),
      kx: xa._length / (xa.range[1] - xa.range[0]), ky: ya._length / (ya.range[1] - ya.range[0]),
    };
  }

  function setLine(el, a, x0, y0, x1, y1) {
    const show = a && [x0, y0, x1, y1].every(Number.isFinite) && (x0 !== x1 || y0 !== y1);
    el.style.display = show ? "" : "none";
    if (!show) return;
    el.setAttribute("x1", a.px(x0)); el.setAttribute("y1", a.py(y0));
    el.setAttribute("x2", a.px(x1)); el.setAttribute("y2", a.py(y1));
    el.dataset.from = `${x0},${y0}`;
    el.dataset.to = `${x1},${y1}`;
  }

  // A data-space vector (vx, vy) scaled to `pixels` on screen, shortened to stay in the box.
  function screenArrow(a, x, y, vx, vy, pixels) {
    const n = Math.hypot(vx * a.kx, vy * a.ky);
    if (!(n > 0) || !Number.isFinite(n)) return [x, y];
    let t = pixels / n;
    const { x0, x1, y0, y1 } = span();
    if (vx > 0) t = Math.min(t, (x1 - x) / vx); else if (vx < 0) t = Math.min(t, (x0 - x) / vx);
    if (vy > 0) t = Math.min(t, (y1 - y) / vy); else if (vy < 0) t = Math.min(t, (y0 - y) / vy);
    t = Math.max(t, 0);
    return [x + t * vx, y + t * vy];
  }

  function drawOverlay() {
    const svg = overlay();
    const a = axes();
    const gd = $("contour");
    svg.style.display = a ? "" : "none";
    if (!a) return;
    Object.assign(svg.style, { left: `${gd.offsetLeft}px`, top: `${gd.offsetTop}px`,
      width: `${gd.offsetWidth}px`, height: `${gd.offsetHeight}px` });
    const r = $("ov-clip-rect");
    r.setAttribute("x", a.xa._offset); r.setAttribute("y", a.ya._offset);
    r.setAttribute("width", a.xa._length); r.setAttribute("height", a.ya._length);
    const { x, y } = S.pt, info = S.info;
    const pt = $("ov-point");
    pt.setAttribute("cx", a.px(x));
    pt.setAttribute("cy", a.py(y));
    pt.dataset.x = String(x);
    pt.dataset.y = String(y);
    const phi = (S.dir * Math.PI) / 180;
    setLine($("ov-dir"), a, x, y, ...screenArrow(a, x, y, Math.cos(phi), Math.sin(phi), ARROW_PX));
    const ok = info && info.finite && info.norm > 0 && !S.stale;
    if (ok) {
      const eta = lr();
      setLine($("ov-step"), a, info.x, info.y, info.x - eta * info.gx, info.y - eta * info.gy);
      setLine($("ov-grad"), a, info.x, info.y, ...screenArrow(a, info.x, info.y, info.gx, info.gy,
        ARROW_PX * lengthFactor(info.norm)));
    } else {
      setLine($("ov-step"), null);
      setLine($("ov-grad"), null);
    }
    drawOverlayPaths(a);
    S.stats.contour += 1;
  }

  function drawOverlayPaths(a) {
    const g = $("ov-paths");
    const { x0, x1, y0, y1, sx, sy } = span();
    // a margin around the view, so a clipped line still runs to the edge
    const box = { lo: [x0 - sx, y0 - sy], hi: [x1 + sx, y1 + sy] };
    const lines = S.paths.map((p) => {
      const k = Math.min(S.upto, p.x.length);
      const { pts } = clipToBox(p.x.slice(0, k).map((v, i) => [v, p.y[i]]), box);
      const el = document.createElementNS(SVGNS, "polyline");
      el.setAttribute("points", pts.map(([u, v]) => `${a.px(u).toFixed(1)},${a.py(v).toFixed(1)}`).join(" "));
      el.setAttribute("fill", "none");
      el.setAttribute("stroke", METHOD_COLORS[p.method]);
      el.setAttribute("stroke-width", "2");
      el.setAttribute("stroke-linejoin", "round");
      el.dataset.method = p.method;
      el.dataset.n = String(k);
      const dots = document.createElementNS(SVGNS, "g");
      dots.setAttribute("fill", METHOD_COLORS[p.method]);
      if (pts.length <= 300) {
        for (const [u, v] of pts) {
          const c = document.createElementNS(SVGNS, "circle");
          c.setAttribute("cx", a.px(u).toFixed(1));
          c.setAttribute("cy", a.py(v).toFixed(1));
          c.setAttribute("r", "2.2");
          dots.appendChild(c);
        }
      }
      return [el, dots];
    });
    g.replaceChildren(...lines.flat());
  }

  // ------------------------------------------------------------------ the 3-D view
  // Positions in the 3-D box as fractions 0..1 of each axis: the scene is a cube on screen,
  // so arrow heads and lengths are drawn there and mapped back.
  function toUnit(p, box) { return p.map((v, a) => (v - box.lo[a]) / (box.hi[a] - box.lo[a])); }
  function fromUnit(q, box) { return q.map((v, a) => box.lo[a] + v * (box.hi[a] - box.lo[a])); }

  // Line segments of an arrow from p (data) along the data-space vector v, `len` long in the
  // unit box, shortened to stay in it, with a head in the plane through v normal to `normal`.
  // Always six vertices (tail, tip, gap, barb, tip, barb), so the trace's length is fixed.
  function arrow3d(p, v, len, normal, box) {
    const P = toUnit(p, box);
    const d0 = v.map((c, a) => c / (box.hi[a] - box.lo[a]));
    const n = Math.hypot(...d0);
    if (!(n > 0) || !Number.isFinite(n) || !(len > 0)) {
      return { x: Array(6).fill(p[0]), y: Array(6).fill(p[1]), z: Array(6).fill(p[2]) };
    }
    const d = d0.map((c) => c / n);
    let t = len;
    d.forEach((c, a) => {
      if (c > 0) t = Math.min(t, (1 - P[a]) / c);
      if (c < 0) t = Math.min(t, -P[a] / c);
    });
    t = Math.max(t, 0);
    const T = P.map((c, a) => c + t * d[a]);
    let perp = [normal[1] * d[2] - normal[2] * d[1], normal[2] * d[0] - normal[0] * d[2],
      normal[0] * d[1] - normal[1] * d[0]];
    const pn = Math.hypot(...perp) || 1;
    perp = perp.map((c) => c / pn);
    const h = Math.min(0.05, 0.45 * t);
    const barb = (s) => T.map((c, a) => c - h * d[a] + s * 0.5 * h * perp[a]);
    const pts = [P, T, null, barb(1), T, barb(-1)].map((q) => (q ? fromUnit(q, box) : [null, null, null]));
    return { x: pts.map((q) => q[0]), y: pts.map((q) => q[1]), z: pts.map((q) => q[2]) };
  }

  function surfacePointTraces() {
    const info = S.info;
    const box = box3d(), z0 = box.lo[2];
    const ok = info && info.finite && !S.stale;
    const x = ok ? info.x : S.pt.x, y = ok ? info.y : S.pt.y;
    const f = ok ? clamp(info.f, box.lo[2], box.hi[2]) : z0;
    const lift = 0.012 * (box.hi[2] - box.lo[2]);  // the black point sits just above the surface
    const grad = ok && info.norm > 0;
    const len = grad ? ARROW_3D * lengthFactor(info.norm) : 0;
    const g = grad ? [info.gx / info.norm, info.gy / info.norm] : [0, 0];
    const floor = arrow3d([x, y, z0], [g[0], g[1], 0], len, [0, 0, 1], box);
    // along the surface: one unit sideways along ∇F/‖∇F‖ rises by ‖∇F‖
    const rise = arrow3d([x, y, f], [g[0], g[1], grad ? info.norm : 0], len,
      [-g[1], g[0], 0], box);
    // the tangent plane, kept small enough to stay near the box
    const { sx, sy } = span();
    let hx = 0.15 * sx, hy = 0.15 * sy;
    if (ok) {
      const dz = Math.abs(info.gx) * hx + Math.abs(info.gy) * hy;
      const room = 0.3 * (box.hi[2] - box.lo[2]);
      if (dz > room) { hx *= room / dz; hy *= room / dz; }
    }
    const px = [x - hx, x + hx, x + hx, x - hx], py = [y - hy, y - hy, y + hy, y + hy];
    const pz = ok ? px.map((u, i) => f + info.gx * (u - x) + info.gy * (py[i] - y)) : [z0, z0, z0, z0];
    const line3 = (t, color, width, extra) => Object.assign({
      type: "scatter3d", mode: "lines", x: t.x, y: t.y, z: t.z, hoverinfo: "skip",
      line: { color, width }, showlegend: false, connectgaps: false,
    }, extra || {});
    const dot = (z, color, size) => ({ type: "scatter3d", mode: "markers", x: [x], y: [y], z: [z],
      hoverinfo: "skip", showlegend: false, marker: { color, size, line: { color: "#fff", width: 2 } } });
    return [
      { type: "mesh3d", x: px, y: py, z: pz, i: [0, 0], j: [1, 2], k: [2, 3], opacity: 0.35,
        color: "#9ec5ff", hoverinfo: "skip", flatshading: true, name: "tangent plane",
        visible: $("show-plane").checked && Boolean(ok) },
      line3({ x: [x, x], y: [y, y], z: [z0, f] }, GREY, 2, { line: { color: GREY, width: 2, dash: "dash" } }),
      dot(z0, RED, 5),
      line3(floor, BLUE, 8),
      dot(f + lift, "#000", 8),
      line3(rise, BLUE, 7),
    ];
  }

  function pathTraces3d() {
    const box = box3d();
    return S.paths.map((p) => {
      const k = Math.min(S.upto, p.x.length);
      const { pts, cut } = clipToBox(p.x.slice(0, k).map((v, i) => [v, p.y[i], p.E[i]]), box);
      p.cut3d = cut;
      const keep = pts.length ? pts : [[null, null, null]];
      return {
        type: "scatter3d", mode: "lines", name: p.label, hoverinfo: "skip", showlegend: false,
        x: keep.map((q) => q[0]), y: keep.map((q) => q[1]), z: keep.map((q) => q[2]),
        line: { color: METHOD_COLORS[p.method], width: 5 },
      };
    });
  }

  // Update traces of the 3-D scene in place: the changed traces' WebGL objects only (Plotly's
  // restyle would recompute and re-upload the surface too). Falls back to restyle when the
  // scene is not ready or a trace's visibility changes.
  function update3d(indices, traces) {
    const gd = $("surface3d");
    const fl = gd._fullLayout;
    const scene = fl && fl.scene && fl.scene._scene;
    let direct = Boolean(scene && scene.glplot && gd._fullData);
    for (let k = 0; direct && k < indices.length; k++) {
      const fd = gd._fullData[indices[k]];
      const want = traces[k].visible === undefined ? true : traces[k].visible;
      direct = Boolean(fd && fd.type === traces[k].type && fd.visible === want &&
        (want !== true || scene.traces[fd.uid]));
    }
    if (!direct) {
      // a restyle redraws the scene from the layout's camera, which after a Plotly.react no
      // longer follows the user's turns: give it the camera the scene shows now
      if (scene && scene.glplot && gd.layout.scene) gd.layout.scene.camera = scene.getCamera();
      return Plotly.restyle(gd, {
        x: traces.map((t) => t.x), y: traces.map((t) => t.y), z: traces.map((t) => t.z),
        visible: traces.map((t) => (t.visible === undefined ? true : t.visible)),
      }, indices);
    }
    indices.forEach((i, k) => {
      const t = traces[k], fd = gd._fullData[i];
      for (const key of ["x", "y", "z"]) {
        gd.data[i][key] = t[key];
        fd[key] = t[key];
      }
      fd._length = t.x.length;
      if (fd.visible === true) scene.traces[fd.uid].update(fd);
    });
    scene.glplot.redraw();
    return Promise.resolve();
  }

  // ------------------------------------------------------------------ the 3-D overlay
  // Without a GPU one frame of the 3-D scene costs tens to hundreds of ms, nearly all of it
  // the surface, and WebGL cannot redraw a part of the scene. So while the point is dragged
  // (or moved by a held arrow key), its marks — the traces surfacePointTraces() makes — are
  // hidden in the scene (one frame) and drawn on a transparent 2-D canvas over it, projected
  // with the scene's own camera; when the move ends and the last answer is in, they are put
  // back into the scene in one frame and the canvas is cleared. The canvas paints over the
  // surface (no depth test); its marks are ordered among themselves (drawOverlay3d).
  const view3d = { dirty: false, busy: false, notBefore: 0, frame: 0, live: false, overlaid: false };

  function overlay3d() {
    let cv = $("surface-overlay");
    if (cv) return cv;
    cv = document.createElement("canvas");
    cv.id = "surface-overlay";
    cv.className = "overlay";
    cv.setAttribute("aria-hidden", "true");
    $("surface3d").parentElement.appendChild(cv);
    return cv;
  }

  // Data (x, y, z) to CSS pixels of the scene's canvas, as Plotly places its 3-D annotations:
  // clip = projection · view · model · (data × dataScale); null behind the camera. Also
  // `covers(p)`: how many times the surface lies between p and the camera (the scene draws
  // p through that many layers of the translucent surface).
  function projector3d() {
    const fl = $("surface3d")._fullLayout, sc = fl && fl.scene && fl.scene._scene;
    const gp = sc && sc.glplot, cp = gp && gp.cameraParams;
    if (!cp || !cp.view || !sc.dataScale || !S.surf) return null;
    const mul = (m, v) => {
      const r = [0, 0, 0, 0];
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) r[j] += m[4 * i + j] * v[i];
      return r;
    };
    const ds = sc.dataScale, M = cp.model, V = cp.view;
    const w = gp.canvas.clientWidth, h = gp.canvas.clientHeight;
    const project = (p) => {
      const q = mul(cp.projection, mul(V, mul(M, [p[0] * ds[0], p[1] * ds[1], p[2] * ds[2], 1])));
      if (!(q[3] > 0)) return null;
      return [0.5 * (1 + q[0] / q[3]) * w, 0.5 * (1 - q[1] / q[3]) * h, q[2] / q[3]];
    };
    // the camera in data space: the view is a rigid motion, the eye at -Rᵀt (or, for an
    // orthographic view, far along the view's z axis)
    const toData = (v, point) => v.map((c, i) => (c - (point ? M[12 + i] : 0)) / M[5 * i] / ds[i]);
    const col = (c) => [V[4 * c], V[4 * c + 1], V[4 * c + 2]];
    const eye = toData([0, 1, 2].map((c) => -col(c).reduce((u, r, k) => u + r * V[12 + k], 0)), true);
    const back = toData([0, 1, 2].map((c) => V[4 * c + 2]), false);
    const covers = (p) => surfaceCrossings(p, cp._ortho ? p.map((v, i) => v + 1e6 * back[i]) : eye);
    return { project, covers };
  }

  // F between the grid's nodes (bilinear), null where a node is not finite.
  function surfaceAt(x, y) {
    const s = S.surf, nx = s.x.length, ny = s.y.length;
    const u = ((x - s.x[0]) / (s.x[nx - 1] - s.x[0])) * (nx - 1);
    const v = ((y - s.y[0]) / (s.y[ny - 1] - s.y[0])) * (ny - 1);
    if (!(u >= 0 && u <= nx - 1 && v >= 0 && v <= ny - 1)) return null;
    const j = Math.min(Math.floor(u), nx - 2), i = Math.min(Math.floor(v), ny - 2), a = u - j, b = v - i;
    const z = [s.z[i][j], s.z[i][j + 1], s.z[i + 1][j], s.z[i + 1][j + 1]];
    if (z.some((c) => c === null)) return null;
    return (1 - b) * ((1 - a) * z[0] + a * z[1]) + b * ((1 - a) * z[2] + a * z[3]);
  }

  // Sign changes of (ray's z − F) along the ray from p toward `to`, inside the 3-D box.
  function surfaceCrossings(p, to) {
    const box = box3d(), d = to.map((v, i) => v - p[i]);
    let t1 = 1;
    for (let a = 0; a < 3; a++) {
      if (d[a] > 0) t1 = Math.min(t1, (box.hi[a] - p[a]) / d[a]);
      if (d[a] < 0) t1 = Math.min(t1, (box.lo[a] - p[a]) / d[a]);
    }
    let n = 0, side = 0;
    for (let k = 0; k <= 80 && t1 > 0; k++) {
      const t = (t1 * k) / 80, f = surfaceAt(p[0] + t * d[0], p[1] + t * d[1]);
      if (f === null) continue;
      const now = Math.sign(p[2] + t * d[2] - f);
      if (side && now && now !== side) n += 1;
      if (now) side = now;
    }
    return n;
  }

  // A convex polygon (data points) cut to the 3-D box, as the scene clips what it draws.
  function clipPolygon(pts, box) {
    for (let a = 0; a < 3; a++) {
      for (const [lim, sign] of [[box.lo[a], 1], [box.hi[a], -1]]) {
        const out = [];
        pts.forEach((p, i) => {
          const q = pts[(i + 1) % pts.length];
          const dp = sign * (p[a] - lim), dq = sign * (q[a] - lim);
          if (dp >= 0) out.push(p);
          if (dp * dq < 0) out.push(p.map((v, k) => v + (dp / (dp - dq)) * (q[k] - v)));
        });
        pts = out;
      }
    }
    return pts;
  }

  // Draw the point's 3-D traces on the overlay canvas, in the scene's current camera, each
  // piece as faint as the surface in front of it makes it in the scene.
  function drawOverlay3d(traces) {
    const cv = overlay3d(), gd = $("surface3d");
    const fl = gd._fullLayout, sc = fl && fl.scene && fl.scene._scene;
    const cam = traces && projector3d();
    const ctx = cv.getContext("2d");
    delete cv.dataset.point;
    if (!cam) {
      ctx.clearRect(0, 0, cv.width, cv.height);
      return;
    }
    const gl = sc.glplot.canvas, g = gl.getBoundingClientRect(), o = gd.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    Object.assign(cv.style, { left: `${gd.offsetLeft + g.left - o.left}px`,
      top: `${gd.offsetTop + g.top - o.top}px`, width: `${g.width}px`, height: `${g.height}px` });
    const W = Math.round(g.width * dpr), H = Math.round(g.height * dpr);
    if (cv.width !== W || cv.height !== H) { cv.width = W; cv.height = H; }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, g.width, g.height);
    const box = box3d();
    const seen = (p) => Math.pow(SEEN_THROUGH, cam.covers(p));
    const mid = (p, q, t) => p.map((v, i) => v + t * (q[i] - v));
    const depth = (pts) => {
      const ds = pts.filter(Boolean).map((p) => cam.project(p)).filter(Boolean).map((q) => q[2]);
      return ds.reduce((u, v) => u + v, 0) / Math.max(1, ds.length);
    };
    const items = traces.map((t, k) => {
      const pts = t.x.map((x, i) => (x === null ? null : [x, t.y[i], t.z[i]]));
      return { t, pts, depth: depth(pts), index: MOVING[k] };
    }).filter(({ t }) => t.visible !== false);
    // the tangent plane first (the point sits just above it), then the lines far to near,
    // then the two points, as the scene's depth test shows them around the point
    const layer = (t) => (t.type === "mesh3d" ? 0 : t.mode === "lines" ? 1 : 2);
    items.sort((u, v) => layer(u.t) - layer(v.t) || v.depth - u.depth);
    for (const { t, pts, index } of items) {
      ctx.save();
      if (t.type === "mesh3d") drawPlane3d(ctx, cam, t, pts, box);
      else if (t.mode === "lines") {
        // each segment in short pieces, each as visible as its middle; adjoining pieces
        // equally visible are stroked as one path (no darker joints, fewer strokes)
        ctx.strokeStyle = t.line.color;
        const lw = LINE_PX * t.line.width;
        ctx.lineWidth = lw;
        ctx.lineCap = t.line.dash === "dash" ? "butt" : "round";
        ctx.lineJoin = "round";
        if (t.line.dash === "dash") ctx.setLineDash([3 * lw, 3 * lw]);
        const pieces = 12;
        let run = 0, path = null;
        const stroke = () => {
          if (!path) return;
          ctx.globalAlpha = path.alpha;
          ctx.lineDashOffset = -path.offset;
          ctx.beginPath();
          path.pts.forEach((q, j) => (j ? ctx.lineTo(q[0], q[1]) : ctx.moveTo(q[0], q[1])));
          ctx.stroke();
          path = null;
        };
        for (let i = 0; i + 1 < pts.length; i++) {
          if (!pts[i] || !pts[i + 1]) continue;
          for (let k = 0; k < pieces; k++) {
            const a = cam.project(mid(pts[i], pts[i + 1], k / pieces));
            const b = cam.project(mid(pts[i], pts[i + 1], (k + 1) / pieces));
            if (!a || !b) continue;
            const alpha = seen(mid(pts[i], pts[i + 1], (k + 0.5) / pieces)), at = i * pieces + k;
            if (!path || path.alpha !== alpha || path.at !== at - 1) {
              stroke();
              path = { alpha, offset: run, pts: [a] };
            }
            path.pts.push(b);
            path.at = at;
            run += Math.hypot(b[0] - a[0], b[1] - a[1]);
          }
        }
        stroke();
      } else {
        const m = t.marker;
        for (const p of pts.filter(Boolean)) {
          const q = cam.project(p);
          if (!q) continue;
          // where the black point is drawn, in CSS px of the canvas (tests compare it)
          if (index === D.point) cv.dataset.point = `${q[0]},${q[1]}`;
          const alpha = seen(p);
          ctx.globalAlpha = alpha;
          ctx.beginPath();
          ctx.arc(q[0], q[1], m.size * MARKER_PX, 0, 2 * Math.PI);
          ctx.fillStyle = m.color;
          ctx.fill();
          if (alpha === 1) {
            ctx.lineWidth = m.line.width;
            ctx.strokeStyle = m.line.color;
            ctx.stroke();
          }
        }
      }
      ctx.restore();
    }
  }

  // The tangent plane (a quadrilateral) cut to the box. The scene draws it over the
  // translucent surface wherever it lies (screenshots: translucent traces are blended in
  // order, not depth-tested against each other), so here it is not dimmed by the surface.
  function drawPlane3d(ctx, cam, t, pts, box) {
    if (pts.length !== 4 || !pts.every(Boolean)) return;
    const poly = clipPolygon(pts, box).map((p) => cam.project(p));
    if (poly.length < 3 || !poly.every(Boolean)) return;
    ctx.fillStyle = t.color;
    ctx.globalAlpha = t.opacity;
    ctx.beginPath();
    poly.forEach((q, i) => (i ? ctx.lineTo(q[0], q[1]) : ctx.moveTo(q[0], q[1])));
    ctx.closePath();
    ctx.fill();
  }

  // The point's traces with every coordinate null: the scene draws nothing of them.
  function hiddenTraces(traces) {
    const fd = $("surface3d")._fullData;
    return traces.map((t, k) => Object.assign({}, t, {
      x: t.x.map(() => null), y: t.y.map(() => null), z: t.z.map(() => null),
      visible: fd[MOVING[k]].visible,
    }));
  }

  // While the point moves continuously, and until the answer for its last place is in.
  const live3d = () => view3d.live || (view3d.overlaid && fetchPoint.busy());
  function startLive3d() { view3d.live = true; }
  function endLive3d() {
    if (!view3d.live) return;
    view3d.live = false;
    schedule3d();
  }

  function drawLive3d() {
    const gd = $("surface3d"), traces = surfacePointTraces();
    if (!view3d.overlaid) {
      update3d(MOVING, hiddenTraces(traces));
      view3d.overlaid = true;
      S.stats.scene3d += 1;
    }
    drawOverlay3d(traces);
    S.stats.surface3d += 1;
    gd.dataset.at = S.info && !S.stale ? `${S.info.x},${S.info.y}` : "";
    gd.dataset.drawn = "overlay";
  }

  // After the scene was redrawn from the traces (Plotly.react): nothing stays on the canvas.
  function resetOverlay3d() {
    view3d.overlaid = false;
    drawOverlay3d(null);
  }

  // The 3-D view follows the latest state. In the scene itself, after a slow frame it waits
  // twice as long before the next, so the contour and readouts keep their pace meanwhile.
  function schedule3d() {
    view3d.dirty = true;
    if (live3d()) {
      if (!view3d.frame) view3d.frame = requestAnimationFrame(tick3d);
    } else if (!view3d.busy) requestAnimationFrame(tick3d);
  }
  function tick3d() {
    view3d.frame = 0;
    if (!view3d.dirty || !S.surf || !$("surface3d")._fullData) return;
    if (live3d()) {
      view3d.dirty = false;
      drawLive3d();
      return;
    }
    const now = performance.now();
    if (now < view3d.notBefore) {
      view3d.busy = true;
      setTimeout(() => { view3d.busy = false; requestAnimationFrame(tick3d); }, view3d.notBefore - now);
      return;
    }
    view3d.dirty = false;
    view3d.busy = true;
    const t0 = performance.now();
    const traces = surfacePointTraces();
    const at = S.info && !S.stale ? `${S.info.x},${S.info.y}` : "";
    update3d(MOVING, traces).then(() => {
      if (view3d.overlaid) resetOverlay3d();  // the same frame as the scene's
      S.stats.surface3d += 1;
      S.stats.scene3d += 1;
      const gd = $("surface3d");
      gd.dataset.at = at;  // the point the 3-D view shows (tests wait on it)
      gd.dataset.drawn = "scene";
      requestAnimationFrame(() => {
        const cost = performance.now() - t0;
        view3d.notBefore = cost > 50 ? performance.now() + 2 * cost : 0;
        view3d.busy = false;
        if (view3d.dirty) requestAnimationFrame(tick3d);
      });
    });
  }

  // ------------------------------------------------------------------ drawing
  async function drawAll() {
    const s = S.surf;
    const [tx, ty, tz] = axisTitles();
    const colour = colourValues(s.z, s.zmin, s.zmax);
    const cbar = { title: { text: colour.log ? "log₁₀(1+F−min)" : tz }, thickness: 12 };
    const constant = s.zmin !== null && s.zmax === s.zmin;
    const contour = {
      type: "contour", x: s.x, y: s.y, z: colour.values, customdata: s.z,
      colorscale: "Viridis", ncontours: 30, colorbar: cbar, line: { width: 0.5 },
      showscale: !constant,
      hovertemplate: `${tx}=%{x:.3f}<br>${ty}=%{y:.3f}<br>${tz}=%{customdata:.4g}<extra></extra>`,
    };
    const { x0, x1, y0, y1 } = span();
    const equal = S.mode === "function";
    const narrow = window.innerWidth < 600;
    const p1 = Plotly.react("contour", [contour, fieldTrace()], {
      margin: { l: 50, r: 10, t: 10, b: 40 }, dragmode: false, hovermode: "closest",
      uirevision: S.uirev,
      xaxis: { range: [x0, x1], title: { text: tx }, constrain: "domain" },
      yaxis: equal ? { range: [y0, y1], title: { text: ty }, scaleanchor: "x", constrain: "domain" }
        : { range: [y0, y1], title: { text: ty } },
    }, cr.plotConfig({ modeBarButtonsToRemove: ["zoom2d", "pan2d", "autoScale2d"],
      displayModeBar: narrow ? false : "hover" }));

    const box = box3d();
    const surface = {
      type: "surface", x: s.x, y: s.y, z: s.z, surfacecolor: colour.values, colorscale: "Viridis",
      showscale: false, opacity: SURFACE_OPACITY,
      contours: { z: { show: true, usecolormap: true, width: 1, project: { z: true } } },
      hovertemplate: `${tx}=%{x:.3f}<br>${ty}=%{y:.3f}<br>${tz}=%{z:.4g}<extra></extra>`,
    };
    if (constant) Object.assign(surface, { cmin: s.zmin - 1, cmax: s.zmax + 1, contours: {} });
    const p2 = Plotly.react("surface3d", [surface, ...surfacePointTraces(), ...pathTraces3d()], {
      margin: { l: 0, r: 0, t: 0, b: 0 }, uirevision: S.uirev,
      scene: {
        aspectmode: "cube",
        xaxis: { range: [box.lo[0], box.hi[0]], title: { text: tx } },
        yaxis: { range: [box.lo[1], box.hi[1]], title: { text: ty } },
        zaxis: { range: [box.lo[2], box.hi[2]], title: { text: tz } },
        camera: { eye: { x: -1.25, y: -1.45, z: 1.3 } },
      },
    }, cr.plotConfig({ plotGlPixelRatio: 1, displayModeBar: narrow ? false : "hover" }));
    drawFitBase();
    await Promise.all([p1, p2]);
    resetOverlay3d();  // the scene now holds the point's traces again
    drawOverlay();
  }

  function redrawPoint() {
    if (!S.surf) return;
    drawOverlay();
    schedule3d();
  }

  function showReadouts() {
    const info = S.info;
    if (!info) return;
    for (const [id, v] of [["out-f", info.f], ["out-gx", info.gx], ["out-gy", info.gy],
      ["out-norm", info.norm]]) {
      $(id).textContent = fmt(v);
      $(id).dataset.value = String(v);  // the full value, for checks
    }
    $("out-angle").textContent = info.norm === 0 ? "none (∇F = 0)"
      : info.angle === null ? "not finite" : `${fmt(info.angle, 4)}°`;
    $("out-dir").textContent = fmt(info.directional);
    $("out-theta").textContent = info.theta === null ? "not defined, as ∇F = 0"
      : `${fmt(info.theta, 4)}°`;
    showError($("point-msg"), info.message ? { message: info.message } : null);
    if (info.fit) drawFit(info.fit);
  }

  function announce() {
    const info = S.info;
    if (!info) return;
    const [tx, ty, tz] = axisTitles();
    $("point-live").textContent = `At ${tx} = ${fmt(info.x, 4)}, ${ty} = ${fmt(info.y, 4)}: ` +
      `${tz} = ${fmt(info.f, 4)}, gradient (${fmt(info.gx, 4)}, ${fmt(info.gy, 4)}), ` +
      `length ${fmt(info.norm, 4)}.`;
  }

  function markStale(stale) {
    S.stale = stale;
    $("point-panel").classList.toggle("stale", stale);
  }

  // ------------------------------------------------------------------ the point
  const fetchPoint = latest(async (x, y) => {
    if (!S.surf) return;
    let info;
    try {
      info = await api("/api/point", { function: spec(), x, y, direction: S.dir });
    } catch (err) {
      if (err.offline) {
        markStale(true);
        redrawPoint();
      } else {
        showError($("point-msg"), err);
      }
      return;
    }
    markStale(false);
    S.info = info;
    showReadouts();
    redrawPoint();
    S.stats.point += 1;
    $("point-panel").dataset.x = String(info.x);
    $("point-panel").dataset.y = String(info.y);
  });

  const fetchTaylor = latest(async (x, y) => {
    if (!S.surf) return;
    let res;
    try {
      res = await api("/api/taylor", { function: spec(), x, y, eta: lr(), n: 80 });
    } catch (err) {
      if (!err.offline && !err.unavailable) $("curv-text").textContent = err.message;
      return;
    }
    drawTaylor(res);
  });

  let settleTimer = null;
  function settle() {
    clearTimeout(settleTimer);
    settleTimer = setTimeout(async () => {
      await fetchTaylor(S.pt.x, S.pt.y);
      announce();
      saveState();
    }, 250);
  }

  function setPoint(x, y, doSettle = true) {
    if (cr.snap) ({ x, y } = cr.snap(x, y));  // an exported figure knows F on its grid only
    S.pt = { x, y };
    // the point asked for (data-want-*) and, once the reply is drawn, answered (data-x, data-y)
    $("point-panel").dataset.wantX = String(x);
    $("point-panel").dataset.wantY = String(y);
    $("px").value = fmt(x, 5);
    $("py").value = fmt(y, 5);
    if (S.surf) drawOverlay();
    fetchPoint(x, y);
    if (doSettle) settle();
  }

  // One step of gradient descent from the point: w ← w − η∇F, then the arrow is drawn there.
  function oneStep() {
    const info = S.info;
    if (!info || !info.finite || S.stale) return;
    setPoint(info.x - lr() * info.gx, info.y - lr() * info.gy);
  }

  function toData(gd, e, doClamp) {
    const fl = gd._fullLayout;
    if (!S.surf || !fl || !fl.xaxis) return null;
    const xa = fl.xaxis, ya = fl.yaxis, rect = gd.getBoundingClientRect();
    let px = e.clientX - rect.left - xa._offset, py = e.clientY - rect.top - ya._offset;
    const inside = px >= 0 && px <= xa._length && py >= 0 && py <= ya._length;
    if (!inside && !doClamp) return null;
    px = clamp(px, 0, xa._length);
    py = clamp(py, 0, ya._length);
    return { x: xa.p2d(px), y: ya.p2d(py) };
  }

  function enableDragging() {
    const gd = $("contour");
    let dragging = null, pending = null, frame = 0;
    // Pointer moves are coalesced to one update per animation frame.
    const flush = () => {
      frame = 0;
      if (pending) setPoint(pending.x, pending.y, false);
      pending = null;
    };
    // Plotly's own drag (zoom, pan) is switched off; the point follows the pointer instead.
    gd.addEventListener("mousedown", (e) => { if (toData(gd, e)) e.stopPropagation(); }, true);
    gd.addEventListener("touchstart", (e) => { if (e.cancelable) e.preventDefault(); }, { passive: false });
    gd.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      const p = toData(gd, e);
      if (!p) return;
      dragging = e.pointerId;
      try { gd.setPointerCapture(e.pointerId); } catch (err) { /* not capturable */ }
      e.preventDefault();
      e.stopPropagation();
      gd.focus({ preventScroll: true });
      setPoint(p.x, p.y, false);
    }, true);
    const move = (e) => {
      if (dragging !== e.pointerId) return;
      const p = toData(gd, e, true);
      if (!p) return;
      startLive3d();
      pending = p;
      if (!frame) frame = requestAnimationFrame(flush);
    };
    const up = (e) => {
      if (dragging !== e.pointerId) return;
      dragging = null;
      if (frame) { cancelAnimationFrame(frame); flush(); }
      endLive3d();
      settle();
    };
    gd.addEventListener("pointermove", move);
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
    $("surface3d").on("plotly_click", (ev) => {
      const p = ev.points && ev.points[0];
      if (p && p.curveNumber === D.surface) setPoint(p.x, p.y);
    });
    $("contour").on("plotly_afterplot", drawOverlay);
    // the camera turned while the point's marks are on the overlay: project them anew
    $("surface3d").on("plotly_relayouting", () => { if (view3d.overlaid) drawOverlay3d(surfacePointTraces()); });
  }

  // Arrow keys move the point by 1% of the view (Shift: 10%); Enter takes one step −η∇F.
  function onPlotKey(e) {
    if (!S.surf) return;
    const d = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] }[e.key];
    if (d) {
      e.preventDefault();
      if (e.repeat) startLive3d();  // a held key moves the point continuously
      const { x0, x1, y0, y1, sx, sy } = span();
      const f = e.shiftKey ? 0.1 : 0.01;
      setPoint(clamp(S.pt.x + d[0] * f * sx, x0, x1), clamp(S.pt.y + d[1] * f * sy, y0, y1));
    } else if (e.key === "Enter") {
      e.preventDefault();
      oneStep();
    }
  }

  // ------------------------------------------------------------------ descent
  function chosenMethods() {
    return [...document.querySelectorAll("#methods input:checked")].map((i) => i.value);
  }

  function readSteps() {
    const limit = S.catalog.limits.steps;
    const text = $("steps").value.trim();
    const n = Number(text);
    if (text === "" || !Number.isInteger(n) || n < 1 || n > limit) {
      throw new Error(`Steps must be a whole number from 1 to ${limit}; "${text}" is not. ` +
        "Nothing was run.");
    }
    return n;
  }

  async function runDescent(animate = true) {
    const methods = chosenMethods();
    const panel = $("descent-panel");
    let steps;
    try {
      if (!methods.length) throw new Error("Tick at least one method.");
      steps = readSteps();
    } catch (err) {
      showError($("descent-msg"), err);
      panel.dataset.state = "error";
      return;
    }
    panel.dataset.state = "running";
    let res;
    try {
      res = await api("/api/descent", { function: spec(), x: S.pt.x, y: S.pt.y, lr: lr(), steps, methods });
    } catch (err) {
      showError($("descent-msg"), err);
      panel.dataset.state = "error";
      return;
    }
    S.paths = res.paths;
    showError($("descent-msg"), res.message ? { message: res.message } : null);
    const longest = Math.max(...S.paths.map((p) => p.x.length));
    S.upto = animate ? 1 : longest;
    $("scrub").max = String(longest);
    $("player").hidden = false;
    await drawAll();
    saveState();
    if (animate) await play(1);
    else showUpto(longest);
    panel.dataset.state = "done";
  }

  // Show the paths up to their k-th point on both views and in the E plot.
  function showUpto(k) {
    S.upto = k;
    $("scrub").value = String(k);
    $("scrub-val").textContent = String(Math.max(0, k - 1));
    if (S.surf) drawOverlay();
    const nd = S.paths.map((_, i) => D.paths + i);
    if (nd.length && $("surface3d")._fullData) update3d(nd, pathTraces3d());
    drawEnergy(k);
  }

  // The descent animation: about 1.5 s from `from` to the end, pausable.
  const anim = { playing: false, resolve: null };
  function play(from) {
    const longest = Math.max(...S.paths.map((p) => p.x.length));
    const start = from >= longest ? 1 : from;
    const t0 = performance.now() - (1500 * (start - 1)) / Math.max(1, longest - 1);
    anim.playing = true;
    $("play").textContent = "❚❚ Pause";
    return new Promise((resolve) => {
      const tick = () => {
        if (!anim.playing) { resolve(); return; }
        const frac = Math.min(1, (performance.now() - t0) / 1500);
        showUpto(Math.max(1, Math.ceil(frac * longest)));
        if (frac < 1) requestAnimationFrame(tick);
        else { pause(); resolve(); }
      };
      requestAnimationFrame(tick);
    });
  }
  function pause() {
    anim.playing = false;
    $("play").textContent = "▶ Play";
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
    }, cr.plotConfig());
  }

  // ------------------------------------------------------------------ Taylor and curvature
  function drawTaylor(res) {
    const c = res.curvature;
    $("curv-text").textContent = [res.message, c.text].filter(Boolean).join(" ");
    const at = res.at_eta;
    $("tay-eta").textContent = fmt(lr(), 3);
    $("tay-pred").textContent = at ? fmt(at.predicted, 4) : "—";
    $("tay-act").textContent = at ? fmt(at.actual, 4) : "—";
    const finite = (res.predicted || []).filter((v) => v !== null);
    if (!finite.length) {
      Plotly.purge("taylor");
      return;
    }
    const lo = Math.min(...finite);
    const yr = lo < 0 && Number.isFinite(1.3 * lo) ? [1.3 * lo, -1.3 * lo] : [-1, 1];
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
    }, cr.plotConfig());
  }

  // ------------------------------------------------------------------ network fit
  function drawFitBase() {
    const show = S.mode === "network" && Boolean(S.surf.network);
    $("scale-note").hidden = S.mode !== "network";
    if ($("fit-panel").hidden === !show) return;
    $("fit-panel").hidden = !show;
    resizePlots();  // the panels' grid changed its columns
  }

  function resizePlots() {
    for (const id of ["contour", "surface3d", "energy", "taylor", "fit"]) {
      const gd = $(id);
      if (gd && gd.data && gd.offsetParent !== null) Plotly.Plots.resize(gd);
    }
    drawOverlay();
    if (view3d.overlaid) drawOverlay3d(surfacePointTraces());
  }

  function drawFit(fit) {
    const n = S.surf && S.surf.network;
    if (S.mode !== "network" || !n) return;
    if (!S.trainedFit) S.trainedFit = fit;
    Plotly.react("fit", [
      { type: "scatter", mode: "markers", name: "data (xₙ, ŷₙ)", x: n.data_x, y: n.data_t,
        marker: { color: "#444", size: 6 } },
      { type: "scatter", mode: "lines", name: "trained", x: S.trainedFit.x, y: S.trainedFit.y,
        line: { color: "#aaa", dash: "dot" } },
      { type: "scatter", mode: "lines", name: "at the point", x: fit.x, y: fit.y,
        line: { color: RED, width: 2.5 } },
    ], {
      margin: { l: 40, r: 10, t: 10, b: 35 }, legend: { orientation: "h", y: -0.25 },
      xaxis: { title: { text: "x" } }, yaxis: { range: [-1.5, 1.5], title: { text: "y" } },
    }, cr.plotConfig());
  }

  // ------------------------------------------------------------------ the link
  // The page's state in the URL: ?preset= or ?f=, x, y, eta, opt (methods, when paths are
  // shown), steps; the tab stays in the hash.
  function stateQuery() {
    const q = new URLSearchParams();
    if (S.mode === "network") {
      q.set("net", `${$("problem").value},${$("wx").value},${$("wy").value}`);
    } else if ($("preset").value) {
      q.set("preset", $("preset").value);
    } else {
      q.set("f", $("expr").value);
    }
    q.set("x", fmt(S.pt.x, 6));
    q.set("y", fmt(S.pt.y, 6));
    q.set("eta", String(lr()));
    if (S.paths.length) q.set("opt", S.paths.map((p) => p.method).join(","));
    q.set("steps", $("steps").value);
    return q;
  }

  function saveState() {
    if (!cr.sharable) return;
    const url = `${location.pathname}?${stateQuery().toString()}${location.hash}`;
    try {
      history.replaceState(null, "", url);
    } catch (err) {
      // a page opened from file:// may not rewrite its address
    }
  }

  // Apply a shared URL's query; returns the words for what could not be used.
  async function restoreState(q) {
    const problems = [];
    const num = (key) => {
      if (!q.has(key)) return null;
      const v = Number(q.get(key));
      if (q.get(key).trim() === "" || !Number.isFinite(v)) {
        problems.push(`${key} = "${q.get(key)}" is not a number`);
        return null;
      }
      return v;
    };
    const net = q.get("net");
    if (net) {
      const [problem, wx, wy] = net.split(",");
      const ok = [["problem", problem], ["wx", wx], ["wy", wy]].every(([id, v]) =>
        [...$(id).options].some((o) => o.value === v));
      if (ok) {
        $("problem").value = problem; $("wx").value = wx; $("wy").value = wy;
        document.querySelector('input[name="mode"][value="network"]').checked = true;
        setMode("network");
        await replot(true);
      } else problems.push(`net = "${net}" names no network problem and weights`);
    } else if (q.has("preset") && S.catalog.presets.some((p) => p.name === q.get("preset"))) {
      $("preset").value = q.get("preset");
      await choosePreset(q.get("preset"));
    } else if (q.has("f")) {
      $("preset").value = "";
      $("expr").value = q.get("f");
      await replot(true, !(q.has("x") && q.has("y")));
    } else if (q.has("preset")) {
      problems.push(`there is no preset "${q.get("preset")}"`);
    }
    const eta = num("eta");
    if (eta !== null) {
      if (eta > 0 && eta <= 100) setEta(eta); else problems.push(`eta = ${eta} is outside (0, 100]`);
    }
    if (q.has("steps")) $("steps").value = q.get("steps");
    const x = num("x"), y = num("y");
    if (S.surf && x !== null && y !== null) setPoint(x, y);
    if (q.has("opt")) {
      const want = q.get("opt").split(",").filter(Boolean);
      const known = S.catalog.methods.map((m) => m.id);
      const bad = want.filter((m) => !known.includes(m));
      if (bad.length) problems.push(`opt names unknown methods: ${bad.join(", ")} (known: ${known.join(", ")})`);
      document.querySelectorAll("#methods input").forEach((b) => { b.checked = want.includes(b.value); });
      if (S.surf && want.some((m) => known.includes(m))) {
        await fetchPoint(S.pt.x, S.pt.y);
        await runDescent(false);
      }
    }
    return problems;
  }

  async function copyLink() {
    saveState();
    const url = location.href;
    $("link-text").value = url;
    $("link-text").hidden = false;
    try {
      await navigator.clipboard.writeText(url);
      $("link-msg").textContent = "Link copied.";
    } catch (err) {
      $("link-text").select();
      $("link-msg").textContent = "Copy the link from the box.";
    }
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
    $("steps").max = String(cat.limits.steps);
    for (const m of cat.methods) {
      const label = document.createElement("label");
      label.innerHTML = `<input type="checkbox" value="${m.id}"> <span class="swatch"></span>`;
      label.querySelector(".swatch").style.background = METHOD_COLORS[m.id];
      label.append(m.label);
      if (m.id === "gd") label.querySelector("input").checked = true;
      $("methods").appendChild(label);
    }
  }

  function setEta(eta) {
    S.eta = eta;
    $("lr").value = String(Math.log10(eta));
    $("eta").value = String(eta);
  }

  async function choosePreset(name) {
    const p = S.catalog.presets.find((q) => q.name === name);
    if (!p) return;
    S.preset = p;
    $("expr").value = p.expression;
    $("note").textContent = p.note;
    setEta(p.lr);
    ["xmin", "xmax", "ymin", "ymax"].forEach((k, i) => { $(k).value = p.domain[i]; });
    if (await plotSurface(true)) setPoint(p.start[0], p.start[1]);
    plotted();
  }

  async function replot(resetDomain, movePoint = true) {
    const { x, y } = S.pt;
    if (!(await plotSurface(!resetDomain))) {
      plotted();
      return;
    }
    if (S.mode === "network") {
      const [a, b] = S.surf.network.trained;
      if (movePoint) setPoint(a, b);
    } else if (movePoint) {
      const { x0, x1, y0, y1 } = span();
      const inside = x >= x0 && x <= x1 && y >= y0 && y <= y1;
      setPoint(inside ? x : (x0 + x1) / 2, inside ? y : (y0 + y1) / 2);
    }
    plotted();
  }

  function setMode(mode) {
    S.mode = mode;
    $("function-controls").hidden = mode !== "function";
    $("network-controls").hidden = mode !== "network";
    $("note").textContent = mode === "network"
      ? "Drag the point to set the two weights; the fit on the right follows." : "";
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
      setMode(document.querySelector('input[name="mode"]:checked').value);
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
    const etaChanged = () => {
      redrawPoint();
      fetchTaylor(S.pt.x, S.pt.y);
      saveState();
    };
    $("lr").addEventListener("input", () => {
      S.eta = Number(Math.pow(10, Number($("lr").value)).toPrecision(3));
      $("eta").value = String(S.eta);
      etaChanged();
    });
    $("eta").addEventListener("change", () => {
      const v = Number($("eta").value);
      if (!(v > 0 && v <= 100)) {
        showError($("descent-msg"), { message: `η must be a number above 0 and at most 100; "${$("eta").value}" is not.` });
        $("eta").value = String(S.eta);
        return;
      }
      showError($("descent-msg"), null);
      setEta(v);
      etaChanged();
    });
    $("show-plane").addEventListener("change", redrawPoint);
    $("arrow-len").addEventListener("change", redrawPoint);
    $("show-field").addEventListener("change", () => {
      const t = fieldTrace();
      Plotly.restyle("contour", { x: [t.x], y: [t.y], "marker.size": [t.marker.size] }, [C.field]);
    });
    $("one-step").addEventListener("click", oneStep);
    $("run").addEventListener("click", () => runDescent(true));
    $("clear").addEventListener("click", () => {
      S.paths = [];
      $("descent-msg").hidden = true;
      $("player").hidden = true;
      pause();
      drawAll();
      Plotly.purge("energy");
      saveState();
    });
    $("play").addEventListener("click", () => {
      if (anim.playing) pause(); else play(S.upto);
    });
    $("step-path").addEventListener("click", () => { pause(); showUpto(Math.min(S.upto + 1, Number($("scrub").max))); });
    $("scrub").addEventListener("input", () => { pause(); showUpto(Number($("scrub").value)); });
    $("copy-link").addEventListener("click", copyLink);
    for (const id of ["contour", "surface3d"]) {
      $(id).addEventListener("keydown", onPlotKey);
      $(id).addEventListener("keyup", endLive3d);
      $(id).addEventListener("blur", endLive3d);
    }
  }

  async function init() {
    S.catalog = await api("/api/catalog");
    fillControls();
    wire();
    $("dir-val").textContent = "0";
    $("preset").value = "elongated";
    if (cr.exported) {
      document.body.dataset.exported = "true";
      $("export-caption").textContent = cr.caption;
      $("export-caption").hidden = false;
    }
    const q = cr.initialQuery || new URLSearchParams(location.search);
    const shared = ["preset", "f", "net"].some((k) => q.has(k));
    if (!shared) q.set("preset", "elongated");
    const problems = await restoreState(q);
    if (!S.surf && !shared) await choosePreset("elongated");
    if (problems.length) $("note").textContent = `From the link: ${problems.join("; ")}; left as it was.`;
    enableDragging();
    cr.sharable = cr.sharable !== false;
    document.body.dataset.ready = "true";
  }

  // When the server answers again after it had stopped: redraw what was asked meanwhile.
  async function online() {
    if (!S.catalog) {
      await init();
      return;
    }
    if (!S.surf) await replot(false, false);
    fetchPoint(S.pt.x, S.pt.y);
    settle();
  }

  cr.registerTab({
    id: "explorer",
    title: "Gradient explorer",
    init: () => init().catch((err) => { if (!err.offline) throw err; }),
    show: resizePlots,
    online,
  });
})();
