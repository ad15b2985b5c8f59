// The notebook Explorer's front end (an anywidget ES module, no imports, no network).
// Every number comes from the kernel (traits value, gradient, surface); this file draws the
// contour on a canvas, the point, ∇F and the step −η∇F, and reports drags and keys as x, y.
const COLOURS = ["#ff7f0e", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"];
const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const M = { left: 46, right: 10, top: 10, bottom: 30 };

function viridis(t) {
  const s = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(s)), f = s - i;
  return STOPS[i].map((c, k) => Math.round(c + f * (STOPS[i + 1][k] - c)));
}

function ticks(lo, hi, n) {
  const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(+v.toPrecision(12));
  return out;
}

function fmt(v) { return v === null || v === undefined ? "not finite" : (+v).toPrecision(6); }

// marching squares: the segments of F = level on the grid, in grid coordinates
function contour(z, level) {
  const segs = [];
  for (let i = 0; i + 1 < z.length; i++) {
    for (let j = 0; j + 1 < z[i].length; j++) {
      const c = [z[i][j], z[i][j + 1], z[i + 1][j + 1], z[i + 1][j]];
      if (c.some((v) => v === null)) continue;
      const corner = [[j, i], [j + 1, i], [j + 1, i + 1], [j, i + 1]];
      const pts = [];
      for (let k = 0; k < 4; k++) {
        const a = c[k], b = c[(k + 1) % 4];
        if ((a < level) !== (b < level)) {
          const t = (level - a) / (b - a), p = corner[k], q = corner[(k + 1) % 4];
          pts.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
        }
      }
      if (pts.length >= 2) segs.push([pts[0], pts[1]]);
      if (pts.length === 4) segs.push([pts[2], pts[3]]);
    }
  }
  return segs;
}

function el(tag, attrs, parent) {
  const e = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => (k === "text" ? (e.textContent = v) : e.setAttribute(k, v)));
  if (parent) parent.appendChild(e);
  return e;
}

function render({ model, el: host }) {
  const root = el("div", { class: "cr-explorer" }, host);
  const head = el("div", { class: "cr-head" }, root);
  const label = el("span", { class: "cr-label" }, head);
  const input = el("input", { class: "cr-function", "aria-label": "F(x, y)", spellcheck: "false" }, head);
  const banner = el("div", { class: "cr-error", role: "alert" }, root);
  const stack = el("div", { class: "cr-stack" }, root);
  const base = el("canvas", { class: "cr-base", "aria-hidden": "true" }, stack);
  const over = el("canvas", {
    class: "cr-over", tabindex: "0", role: "application",
    "aria-label": "Contour of F: drag the point or move it with the arrow keys; Enter takes one step −η∇F",
  }, stack);
  const controls = el("div", { class: "cr-controls" }, root);
  const stepButton = el("button", { class: "cr-step", type: "button", text: "One step −η∇F" }, controls);
  const etaLabel = el("label", { text: "η " }, controls);
  const eta = el("input", { class: "cr-eta", type: "number", step: "any", min: "0" }, etaLabel);
  const readout = el("output", { class: "cr-readout", "aria-live": "polite" }, root);
  const legend = el("div", { class: "cr-legend" }, root);
  const note = el("div", { class: "cr-note" }, root);

  let width = 0, height = 0, local = null, dragging = false, pending = false;

  const point = () => local || [model.get("x"), model.get("y")];
  const toPx = ([x, y]) => {
    const [x0, x1] = model.get("xrange"), [y0, y1] = model.get("yrange");
    return [M.left + ((x - x0) / (x1 - x0)) * (width - M.left - M.right),
      M.top + ((y1 - y) / (y1 - y0)) * (height - M.top - M.bottom)];
  };
  const toData = (px, py) => {
    const [x0, x1] = model.get("xrange"), [y0, y1] = model.get("yrange");
    const fx = (px - M.left) / (width - M.left - M.right), fy = (py - M.top) / (height - M.top - M.bottom);
    const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
    return [clamp(x0 + fx * (x1 - x0), x0, x1), clamp(y1 - fy * (y1 - y0), y0, y1)];
  };

  function size() {
    const [x0, x1] = model.get("xrange"), [y0, y1] = model.get("yrange");
    width = Math.max(200, Math.min(640, root.clientWidth || 480));
    const inner = width - M.left - M.right, want = (inner * (y1 - y0)) / (x1 - x0);
    const h = Math.max(0.45 * inner, Math.min(1.0 * inner, want));
    height = Math.round(h + M.top + M.bottom);
    note.textContent = Math.abs(h - want) > 0.5
      ? "The axes are not to the same scale, so ∇F need not look perpendicular to the contours." : "";
    const dpr = window.devicePixelRatio || 1;
    for (const c of [base, over]) {
      c.width = Math.round(width * dpr); c.height = Math.round(height * dpr);
      c.style.width = width + "px"; c.style.height = height + "px";
      c.getContext("2d").setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    stack.style.width = width + "px"; stack.style.height = height + "px";
  }

  function drawBase() {
    const g = base.getContext("2d"), s = model.get("surface") || {};
    g.clearRect(0, 0, width, height);
    const z = s.z || [];
    if (!z.length) return;
    const values = z.flat().filter((v) => v !== null).sort((a, b) => a - b);
    const rank = (v) => { // colour by quantile, so any F shows its shape
      let lo = 0, hi = values.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (values[mid] < v) lo = mid + 1; else hi = mid; }
      return lo / Math.max(1, values.length - 1);
    };
    const ny = z.length, nx = z[0].length, img = new ImageData(nx, ny);
    for (let i = 0; i < ny; i++) for (let j = 0; j < nx; j++) {
      const v = z[i][j], o = ((ny - 1 - i) * nx + j) * 4;
      const [r, gr, b] = v === null ? [200, 200, 200] : viridis(rank(v));
      img.data.set([r, gr, b, 255], o);
    }
    const off = document.createElement("canvas");
    off.width = nx; off.height = ny; off.getContext("2d").putImageData(img, 0, 0);
    const [px0, py0] = toPx([s.x[0], s.y[ny - 1]]), [px1, py1] = toPx([s.x[nx - 1], s.y[0]]);
    g.imageSmoothingEnabled = true;
    g.drawImage(off, px0, py0, px1 - px0, py1 - py0);
    g.strokeStyle = "rgba(255,255,255,0.75)"; g.lineWidth = 1;
    const sx = (px1 - px0) / (nx - 1), sy = (py1 - py0) / (ny - 1);
    g.beginPath();
    for (let k = 1; k < 12 && values.length; k++) {
      const level = values[Math.floor((k / 12) * (values.length - 1))];
      for (const [a, b] of contour(z, level)) {
        g.moveTo(px0 + a[0] * sx, py1 - a[1] * sy); g.lineTo(px0 + b[0] * sx, py1 - b[1] * sy);
      }
    }
    g.stroke();
    g.fillStyle = "#222"; g.strokeStyle = "#222"; g.font = "11px sans-serif";
    g.strokeRect(M.left, M.top, width - M.left - M.right, height - M.top - M.bottom);
    g.textAlign = "center"; g.textBaseline = "top";
    for (const t of ticks(...model.get("xrange"), Math.max(2, Math.floor(width / 90)))) {
      const [px] = toPx([t, 0]); g.fillText(String(t), px, height - M.bottom + 4);
    }
    g.textAlign = "right"; g.textBaseline = "middle";
    for (const t of ticks(...model.get("yrange"), 5)) {
      const [, py] = toPx([0, t]); g.fillText(String(t), M.left - 4, py);
    }
    g.textAlign = "left"; g.fillText("x", width - M.right - 10, height - 8);
    g.fillText("y", 4, M.top + 6);
  }

  function arrow(g, [ax, ay], [bx, by], colour, dash) {
    const a = Math.atan2(by - ay, bx - ax), head = 9;
    g.strokeStyle = colour; g.fillStyle = colour; g.lineWidth = 2.5; g.setLineDash(dash || []);
    g.beginPath(); g.moveTo(ax, ay); g.lineTo(bx, by); g.stroke(); g.setLineDash([]);
    g.beginPath(); g.moveTo(bx, by);
    g.lineTo(bx - head * Math.cos(a - 0.4), by - head * Math.sin(a - 0.4));
    g.lineTo(bx - head * Math.cos(a + 0.4), by - head * Math.sin(a + 0.4)); g.fill();
  }

  function drawOver() {
    const g = over.getContext("2d");
    g.clearRect(0, 0, width, height);
    g.save(); g.beginPath(); g.rect(M.left, M.top, width - M.left - M.right, height - M.top - M.bottom); g.clip();
    const paths = model.get("paths") || [];
    paths.forEach((p, k) => {
      g.strokeStyle = COLOURS[k % COLOURS.length]; g.lineWidth = 2; g.beginPath();
      let pen = false;
      p.x.forEach((x, i) => {
        const y = p.y[i];
        if (x === null || y === null) { pen = false; return; }
        const [px, py] = toPx([x, y]);
        if (pen) g.lineTo(px, py); else g.moveTo(px, py);
        pen = true;
      });
      g.stroke();
    });
    const here = point(), P = toPx(here), [gx, gy] = model.get("gradient") || [null, null];
    if (gx !== null && gy !== null && !(gx === 0 && gy === 0)) {
      const n = Math.hypot(gx, gy), d = toPx([here[0] + gx / n, here[1] + gy / n]);
      const len = Math.hypot(d[0] - P[0], d[1] - P[1]) || 1, L = 48;
      arrow(g, P, [P[0] + ((d[0] - P[0]) / len) * L, P[1] + ((d[1] - P[1]) / len) * L], "#1f5fbf");
      const e = model.get("eta");
      arrow(g, P, toPx([here[0] - e * gx, here[1] - e * gy]), "#555", [5, 4]);
    }
    g.fillStyle = "#e00"; g.strokeStyle = "#fff"; g.lineWidth = 2;
    g.beginPath(); g.arc(P[0], P[1], 7, 0, 2 * Math.PI); g.fill(); g.stroke();
    g.restore();
  }

  function drawText() {
    const fn = model.get("function");
    input.hidden = !fn; label.textContent = fn ? "F(x, y) =" : model.get("label");
    if (document.activeElement !== input) input.value = fn;
    if (document.activeElement !== eta) eta.value = model.get("eta");
    const err = model.get("error");
    banner.textContent = err; banner.hidden = !err;
    const [x, y] = point(), [gx, gy] = model.get("gradient") || [null, null];
    const norm = gx === null || gy === null ? null : Math.hypot(gx, gy);
    readout.textContent = `(x, y) = (${fmt(x)}, ${fmt(y)})   F = ${fmt(model.get("value"))}   ` +
      `∂F/∂x = ${fmt(gx)}   ∂F/∂y = ${fmt(gy)}   |∇F| = ${fmt(norm)}`;
    const names = (model.get("paths") || []).map((p, k) =>
      `<span style="color:${COLOURS[k % COLOURS.length]}">━ ${p.name.replace(/[<&]/g, (c) => (c === "<" ? "&lt;" : "&amp;"))}</span>`);
    legend.innerHTML = ['<span style="color:#e00">● the point (x, y)</span>',
      '<span style="color:#1f5fbf">➜ ∇F (direction, fixed length)</span>',
      '<span style="color:#555">⇢ the step −η∇F</span>', ...names].join(" ");
  }

  function send(x, y) { // coalesce drags to one update per animation frame
    local = [x, y];
    drawOver(); drawText();
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (!local) return;
      const [x, y] = local;  // set() fires change events that may clear local
      model.set("x", x); model.set("y", y); model.save_changes();
      if (!dragging) local = null;
    });
  }

  function at(e) { const r = over.getBoundingClientRect(); return toData(e.clientX - r.left, e.clientY - r.top); }
  over.addEventListener("pointerdown", (e) => {
    dragging = true; over.setPointerCapture(e.pointerId); over.focus(); send(...at(e)); e.preventDefault();
  });
  over.addEventListener("pointermove", (e) => { if (dragging) send(...at(e)); });
  const end = () => { if (!dragging) return; dragging = false; if (local) send(...local); };
  over.addEventListener("pointerup", end);
  over.addEventListener("pointercancel", end);
  over.addEventListener("keydown", (e) => {
    const [x0, x1] = model.get("xrange"), [y0, y1] = model.get("yrange");
    const f = e.shiftKey ? 0.1 : 0.02, [x, y] = point();
    const moves = { ArrowLeft: [-f * (x1 - x0), 0], ArrowRight: [f * (x1 - x0), 0],
      ArrowUp: [0, f * (y1 - y0)], ArrowDown: [0, -f * (y1 - y0)] };
    if (moves[e.key]) {
      e.preventDefault();
      send(Math.max(x0, Math.min(x1, x + moves[e.key][0])), Math.max(y0, Math.min(y1, y + moves[e.key][1])));
    } else if (e.key === "Enter") { e.preventDefault(); model.send({ type: "step" }); }
  });
  stepButton.addEventListener("click", () => model.send({ type: "step" }));
  eta.addEventListener("change", () => {
    const v = parseFloat(eta.value);
    if (Number.isFinite(v) && v > 0) { model.set("eta", v); model.save_changes(); } else eta.value = model.get("eta");
  });
  input.addEventListener("change", () => { model.set("function", input.value); model.save_changes(); });
  input.addEventListener("keydown", (e) => e.stopPropagation());

  const redraw = () => { size(); drawBase(); drawOver(); drawText(); };
  const moved = () => { if (!dragging) local = null; drawOver(); drawText(); };
  const events = { "change:surface": redraw, "change:xrange": redraw, "change:yrange": redraw,
    "change:x": moved, "change:y": moved, "change:gradient": moved, "change:value": drawText,
    "change:eta": moved, "change:paths": moved, "change:error": drawText,
    "change:function": drawText, "change:label": drawText };
  Object.entries(events).forEach(([k, f]) => model.on(k, f));
  const resize = new ResizeObserver(() => { if (Math.min(640, root.clientWidth) !== width) redraw(); });
  resize.observe(root);
  redraw();
  return () => { resize.disconnect(); Object.entries(events).forEach(([k, f]) => model.off(k, f)); };
}

export default { render };
