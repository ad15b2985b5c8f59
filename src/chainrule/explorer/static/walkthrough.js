// The back-propagation walkthrough tab. Every number comes from the server
// (/api/walkthrough/*, computed by chainrule); this file only draws them and steps through
// the forward and backward passes.
"use strict";

(function () {
  const SVGNS = "http://www.w3.org/2000/svg";

  function fmt(v) {
    if (v === null || v === undefined) return "–";
    if (!Number.isFinite(v)) return String(v);
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e5 || a < 1e-4) return v.toExponential(3);
    return String(parseFloat(v.toPrecision(4)));
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined) e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  function svgEl(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function num(v, cls) {
    return el("td", { class: cls, "data-value": v === null ? "" : String(v), text: fmt(v) });
  }

  // --------------------------------------------------------------- stepping
  // A walkthrough {nodes, edges, forward, backward} and a position p: the first p steps
  // (forward steps, then backward steps) have been taken.
  class Stepper {
    constructor(root, onChange) {
      this.root = root;
      this.onChange = onChange;
      this.data = null;
      this.pos = 0;
      const q = (c) => root.querySelector(c);
      q(".wt-reset").addEventListener("click", () => this.go(0));
      q(".wt-prev").addEventListener("click", () => this.go(this.pos - 1));
      q(".wt-next").addEventListener("click", () => this.go(this.pos + 1));
      q(".wt-fwd").addEventListener("click", () => this.go(this.data.forward.length));
      q(".wt-all").addEventListener("click", () => this.go(this.total()));
    }
    total() {
      return this.data ? this.data.forward.length + this.data.backward.length : 0;
    }
    set(data, keep) {
      data.labels = Object.fromEntries(data.nodes.map((n) => [n.id, n.label]));
      (data.weights || []).forEach((w) => (data.labels[w.id] = w.label));
      this.data = data;
      this.go(keep ? Math.min(this.pos, this.total()) : 0);
    }
    go(p) {
      if (!this.data) return;
      this.pos = Math.max(0, Math.min(p, this.total()));
      this.onChange(this.state());
    }
    state() {
      const d = this.data, F = d.forward.length, p = this.pos;
      const valued = new Set(d.nodes.filter((n) => !d.forward.some((s) => s.node === n.id))
        .map((n) => n.id));
      d.forward.slice(0, Math.min(p, F)).forEach((s) => valued.add(s.node));
      const graded = new Set();
      const backDone = Math.max(0, p - F);
      d.backward.slice(0, backDone).forEach((s) => s.completes.forEach((id) => graded.add(id)));
      let current = null;
      if (p > 0 && p <= F) current = { kind: "forward", step: d.forward[p - 1], index: p };
      if (p > F) current = { kind: "backward", step: d.backward[p - F - 1], index: p - F };
      return { valued, graded, current, pos: p, total: this.total(), F, labels: d.labels };
    }
  }

  function renderStep(box, st) {
    box.replaceChildren();
    const pos = el("p", { class: "wt-pos", text: `step ${st.pos} of ${st.total}` });
    box.append(pos);
    const c = st.current;
    if (!c) {
      box.append(el("p", { class: "note", text: "Press “Next” to run the forward pass one "
        + "node at a time, then the backward pass from the output to the inputs." }));
      return;
    }
    const s = c.step;
    const phase = c.kind === "forward" ? `forward ${c.index}/${st.F}`
      : `backward ${c.index}/${st.total - st.F}`;
    box.append(el("h3", { class: "wt-title" }, el("span", { class: `wt-phase ${c.kind}`,
      text: phase }), " ", s.title));
    box.append(el("p", { class: "formula wt-formula", text: s.formula }));
    if (c.kind === "forward") {
      box.append(el("p", { class: "wt-expansion", text: s.expansion }));
      box.append(el("p", { class: "wt-result" }, "value ",
        el("b", { class: "wt-step-value", "data-value": String(s.value), text: fmt(s.value) })));
      return;
    }
    if (s.terms.length) {
      const head = el("tr", {}, el("th", { text: "back along" }), el("th", { text: "local derivative" }),
        el("th", { text: "" }), el("th", { text: "incoming gradient" }),
        el("th", { text: "product" }));
      const rows = s.terms.map((t) => el("tr", { class: "wt-term", "data-edge": t.edge,
        "data-dst": t.dst },
      el("td", { text: `${st.labels[t.src] || t.src} → ${t.dst_label}` }),
      el("td", { class: "wt-lf", text: t.local_formula }),
      num(t.local, "wt-local"),
      num(t.incoming, "wt-incoming"),
      num(t.product, "wt-product")));
      box.append(el("table", { class: "wt-terms" }, el("thead", {}, head), el("tbody", {}, ...rows)));
    }
    if (s.total !== null) {
      const many = s.terms.length > 1;
      box.append(el("p", { class: "wt-result" }, many ? "sum of the products = " : "gradient = ",
        el("b", { class: "wt-step-total", "data-value": String(s.total), text: fmt(s.total) }),
        el("span", { class: "note" }, "   chainrule's backward: ",
          el("span", { class: "wt-step-grad", "data-value": String(s.grad), text: fmt(s.grad) }))));
    }
  }

  // --------------------------------------------------------------- drawing
  function layout(nodes, width, height) {
    const layers = {};
    nodes.forEach((n) => (layers[n.layer] = (layers[n.layer] || 0) + 1));
    const nl = Math.max(...nodes.map((n) => n.layer)) + 1;
    const maxCount = Math.max(...Object.values(layers));
    const dx = nl > 1 ? (width - 120) / (nl - 1) : 0;
    const dy = Math.min(96, (height - 76) / Math.max(1, maxCount - 1));
    const pos = {};
    nodes.forEach((n) => {
      const count = layers[n.layer];
      pos[n.id] = { x: 60 + n.layer * dx, y: height / 2 + (n.order - (count - 1) / 2) * dy };
    });
    return pos;
  }

  function drawGraph(svg, d, st) {
    const maxCount = Math.max(...Object.values(d.nodes.reduce((a, n) => {
      a[n.layer] = (a[n.layer] || 0) + 1; return a;
    }, {})));
    const nl = Math.max(...d.nodes.map((n) => n.layer)) + 1;
    const width = Math.max(640, nl * 190), height = Math.max(300, maxCount * 96 + 60);
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.replaceChildren();
    const pos = layout(d.nodes, width, height);
    const defs = svgEl("defs");
    const arrow = `${svg.id}-arrow`;
    for (const [id, color] of [[arrow, "#9aa3b2"], [`${arrow}-hot`, "#d1495b"]]) {
      const m = svgEl("marker", { id, viewBox: "0 0 10 10", refX: 10, refY: 5,
        markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
      m.append(svgEl("path", { d: "M0,0 L10,5 L0,10 z", fill: color }));
      defs.append(m);
    }
    svg.append(defs);
    const cur = st.current;
    const hot = new Map();
    if (cur && cur.kind === "backward") cur.step.terms.forEach((t) => hot.set(t.edge, t));
    const fwdHot = cur && cur.kind === "forward" ? cur.step.node : null;
    const W = 96, H = 58;
    const gEdges = svgEl("g", { class: "wt-edges" }), gLabels = svgEl("g");
    for (const e of d.edges) {
      const a = pos[e.src], b = pos[e.dst];
      const isHot = hot.has(e.id);
      const isFwd = fwdHot === e.dst;
      const line = svgEl("line", { x1: a.x + W / 2 + (isHot ? 2 : 0), y1: a.y,
        x2: b.x - W / 2 - 2, y2: b.y,
        class: "wt-edge" + (isHot ? " hot" : "") + (isFwd ? " fwd" : ""),
        "data-edge": e.id });
      // forward edges point forward; an edge in the current backward step points back,
      // the way its gradient flows
      line.setAttribute(isHot ? "marker-start" : "marker-end", `url(#${isHot ? `${arrow}-hot`
        : arrow})`);
      if (e.label) line.append(svgEl("title", {}, e.label));
      gEdges.append(line);
      if (isHot && cur.step.node !== null) {
        const t = hot.get(e.id);
        const f = 0.5;
        const mx = a.x + W / 2 + (b.x - a.x - W) * f, my = a.y + (b.y - a.y) * f;
        const text = fmt(t.product);
        const w = text.length * 7.5 + 10;
        gLabels.append(svgEl("rect", { x: mx - w / 2, y: my - 10, width: w, height: 18, rx: 3,
          class: "wt-edge-label-bg" }));
        gLabels.append(svgEl("text", { x: mx, y: my + 4, class: "wt-edge-label",
          "text-anchor": "middle" }, text));
      }
    }
    svg.append(gEdges);
    const gNodes = svgEl("g");
    const receiving = new Set(cur && cur.kind === "backward" ? cur.step.completes : []);
    for (const n of d.nodes) {
      const p = pos[n.id];
      const shown = st.valued.has(n.id), graded = st.graded.has(n.id);
      const g = svgEl("g", { class: `wt-node ${n.kind}` + (receiving.has(n.id) ? " receiving" : "")
        + (fwdHot === n.id ? " filling" : ""), "data-node": n.id,
      "data-value": shown ? String(n.value) : "", "data-grad": graded ? String(n.grad) : "",
      transform: `translate(${p.x},${p.y})` });
      g.append(svgEl("rect", { x: -W / 2, y: -H / 2, width: W, height: H, rx: 9 }));
      g.append(svgEl("text", { y: -11, class: "wt-label", "text-anchor": "middle" }, n.label));
      g.append(svgEl("text", { y: 7, class: "wt-v", "text-anchor": "middle" },
        shown ? fmt(n.value) : "?"));
      g.append(svgEl("text", { y: 23, class: "wt-g", "text-anchor": "middle" },
        graded && n.grad !== null ? `∂ ${fmt(n.grad)}` : ""));
      if (n.note) g.append(svgEl("title", {}, n.note));
      if (n.note && n.kind === "output") {
        g.append(svgEl("text", { x: W / 2 + 4, y: 4, class: "wt-note" }, n.note));
      }
      gNodes.append(g);
    }
    svg.append(gNodes, gLabels);
  }

  // --------------------------------------------------------------- the text's network
  function networkView(panel) {
    const root = el("div", { id: "wt-network" });
    const sizes = el("div", { class: "row" },
      el("label", {}, "inputs ", sizeSelect("wt-D", 1, 4, 2)),
      el("label", {}, "hidden units ", sizeSelect("wt-M", 1, 6, 3)),
      el("label", {}, "outputs ", sizeSelect("wt-K", 1, 4, 2)),
      el("button", { type: "button", id: "wt-new", text: "New weights" }),
      el("span", { class: "note", text: "Edit any number: x, the target ŷ (Bishop writes it t) or a weight." }));
    const point = el("div", { class: "row", id: "wt-point" });
    const error = el("p", { class: "error", id: "wt-error", role: "alert", hidden: "" });
    const svg = svgEl("svg", { id: "wt-net-svg", class: "wt-svg", role: "img",
      "aria-label": "the network" });
    const stepBox = el("div", { class: "wt-step", id: "wt-step" });
    const controls = stepControls();
    const eLine = el("p", { class: "wt-E" }, "E = ", el("b", { id: "wt-E", text: "–" }));
    const weightsBox = el("div", { class: "panel wt-weights" },
      el("h2", { text: "Weights: gradient by back-propagation beside the finite difference" }),
      el("p", { class: "note", id: "wt-fd-note" }),
      el("table", { id: "wt-weight-table" }));
    const eta = el("input", { id: "wt-eta", type: "number", step: "any", value: "0.5",
      min: "0", max: "10" });
    const gdResult = el("p", { id: "wt-gd-result", class: "wt-gd-result" });
    const gd = el("div", { class: "panel wt-gd" },
      el("h2", { text: "One gradient-descent step: w ← w − η ∂E/∂w" }),
      el("div", { class: "row" }, el("label", {}, "η = ", eta),
        el("button", { type: "button", id: "wt-gd", text: "Apply the step" })),
      gdResult);
    root.append(sizes, point, error,
      el("div", { class: "wt-main" },
        el("div", { class: "wt-figure" }, eLine, svg, legend()),
        el("div", { class: "wt-side" }, controls, stepBox)),
      el("div", { class: "wt-panels" }, weightsBox, gd));
    panel.append(root);

    let spec = null, data = null;
    const stepper = new Stepper(root, (st) => {
      drawGraph(svg, data, st);
      renderStep(stepBox, st);
      renderWeights(st);
      const done = st.valued.has("E");
      const E = root.querySelector("#wt-E");
      E.textContent = done ? fmt(data.E) : "?";
      E.dataset.value = done ? String(data.E) : "";
    });

    function sizeSelect(id, lo, hi, v) {
      const s = el("select", { id });
      for (let i = lo; i <= hi; i++) s.append(el("option", { value: i, text: i }));
      s.value = String(v);
      s.addEventListener("change", () => loadDefault());
      return s;
    }

    function numberInput(value, attrs) {
      return el("input", Object.assign({ type: "number", step: "any", value: String(value) },
        attrs, { onchange: () => recompute(true) }));
    }

    function renderPoint() {
      point.replaceChildren(el("span", { class: "wt-point-label", text: "data point:" }));
      spec.x.forEach((v, i) => point.append(el("label", {}, `x${sub(i + 1)} `,
        numberInput(v, { "data-input": `x${i + 1}`, class: "wt-x" }))));
      spec.target.forEach((v, k) => point.append(el("label", {}, `ŷ${sub(k + 1)} `,
        numberInput(v, { "data-target": `y${k + 1}`, class: "wt-t" }))));
    }

    function renderWeights(st) {
      const table = root.querySelector("#wt-weight-table");
      table.replaceChildren(el("thead", {}, el("tr", {}, el("th", { text: "weight" }),
        el("th", { text: "value" }), el("th", { text: "∂E/∂w (backprop)" }),
        el("th", { text: "ΔE/Δw (finite difference)" }), el("th", { text: "formula" }))));
      const body = el("tbody");
      for (const w of data.weights) {
        const known = st.graded.has(w.id);
        const input = numberInput(w.value, { class: "wt-weight", "data-weight": w.id,
          "aria-label": w.label });
        const hot = st.current && st.current.kind === "backward"
          && st.current.step.completes.includes(w.id);
        body.append(el("tr", { class: hot ? "hot" : "" }, el("td", { text: w.label }),
          el("td", {}, input),
          el("td", { class: "wt-wgrad", "data-weight": w.id,
            "data-value": known ? String(w.grad) : "", text: known ? fmt(w.grad) : "…" }),
          el("td", { class: "wt-fd", "data-weight": w.id,
            "data-value": known ? String(w.fd) : "", text: known ? fmt(w.fd) : "…" }),
          el("td", { class: "wt-wformula", text: w.formula })));
      }
      table.append(body);
      root.querySelector("#wt-fd-note").textContent = "Finite difference: (E(w+Δw) − "
        + `E(w−Δw)) / 2Δw with Δw = ${data.fd_step}, the Taylor view ΔE ≈ (∂E/∂w) Δw. `
        + "Each gradient appears when the backward pass reaches it.";
    }

    function readSpec() {
      const vals = (sel) => [...root.querySelectorAll(sel)].map((i) => parseFloat(i.value));
      const w = {};
      root.querySelectorAll("input.wt-weight").forEach((i) => (w[i.dataset.weight] =
        parseFloat(i.value)));
      const next = JSON.parse(JSON.stringify(spec));
      next.x = vals("input.wt-x");
      next.target = vals("input.wt-t");
      next.W1.forEach((row, j) => row.forEach((_, i) => (row[i] = w[`W1_${j + 1}_${i + 1}`])));
      next.b1 = next.b1.map((_, j) => w[`b1_${j + 1}`]);
      next.W2.forEach((row, k) => row.forEach((_, j) => (row[j] = w[`W2_${k + 1}_${j + 1}`])));
      next.b2 = next.b2.map((_, k) => w[`b2_${k + 1}`]);
      return next;
    }

    async function recompute(fromInputs) {
      const next = fromInputs ? readSpec() : spec;
      try {
        const reply = await chainrule.api("/api/walkthrough/network", next);
        error.hidden = true;
        spec = next;
        data = reply;
        renderPoint();
        stepper.set(reply, true);
        root.dataset.version = String((parseInt(root.dataset.version || "0", 10)) + 1);
      } catch (e) {
        data = null;
        clear(e);
      }
    }

    async function loadDefault() {
      const q = ["D", "M", "K"].map((s) => root.querySelector(`#wt-${s}`).value);
      const seed = Math.floor(Math.random() * 1000);
      const newWeights = loadDefault.started;
      const url = `/api/walkthrough/network/default?inputs=${q[0]}&hidden=${q[1]}`
        + `&outputs=${q[2]}&seed=${newWeights ? seed : 0}`;
      // a new network: nothing computed for the old one stays on screen
      gdResult.replaceChildren();
      delete gdResult.dataset.before;
      delete gdResult.dataset.after;
      try {
        spec = await chainrule.api(url);
      } catch (e) {
        clear(e);
        return;
      }
      loadDefault.started = true;
      stepper.pos = 0;
      await recompute(false);
    }

    function clear(e) {
      if (!e.offline) {
        error.textContent = e.message;
        error.hidden = false;
      }
      svg.replaceChildren();
      stepBox.replaceChildren();
      root.querySelector("#wt-E").textContent = "–";
      gdResult.replaceChildren();
    }

    root.querySelector("#wt-new").addEventListener("click", () => loadDefault());
    root.querySelector("#wt-gd").addEventListener("click", async () => {
      try {
        const reply = await chainrule.api("/api/walkthrough/network/step",
          Object.assign(readSpec(), { eta: parseFloat(eta.value) }));
        gdResult.dataset.before = String(reply.E_before);
        gdResult.dataset.after = String(reply.E_after);
        gdResult.replaceChildren(
          "E before ", el("b", { class: "wt-before", text: fmt(reply.E_before) }),
          ", after ", el("b", { class: "wt-after", text: fmt(reply.E_after) }),
          ` (change ${fmt(reply.E_after - reply.E_before)}; the first-order prediction`
          + ` −η‖∇E‖² is ${fmt(reply.predicted_change)}). The weights below are updated.`);
        spec = reply.network;
        error.hidden = true;
        await recompute(false);
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
      }
    });
    return { start: loadDefault, loaded: () => data !== null };
  }

  function legend() {
    return el("p", { class: "note wt-legend" }, "In each box: its value from the forward pass; ",
      el("span", { class: "wt-legend-grad", text: "∂" }), " its gradient, ∂ of the output "
      + "with respect to it, once the backward pass has reached it. Red arrows: the edges of "
      + "the current backward step, pointing the way the gradient flows, with their products.");
  }

  function sub(n) {
    return String(n).replace(/\d/g, (d) => "₀₁₂₃₄₅₆₇₈₉"[d]);
  }

  function stepControls() {
    return el("div", { class: "row wt-controls" },
      el("button", { type: "button", class: "wt-reset", text: "⟲ Start" }),
      el("button", { type: "button", class: "wt-prev", text: "◀ Back" }),
      el("button", { type: "button", class: "wt-next", text: "Next ▶" }),
      el("button", { type: "button", class: "wt-fwd", title: "to the end of the forward pass",
        text: "Forward »" }),
      el("button", { type: "button", class: "wt-all", title: "to the end", text: "All »" }));
  }

  // --------------------------------------------------------------- any expression
  function expressionView(panel) {
    const root = el("div", { id: "wt-expression", hidden: "" });
    const expr = el("input", { id: "wt-expr", class: "wt-expr-input", type: "text",
      value: "x*y + sin(x)",
      spellcheck: "false", autocomplete: "off" });
    const x = el("input", { id: "wt-ex-x", type: "number", step: "any", value: "0.5" });
    const y = el("input", { id: "wt-ex-y", type: "number", step: "any", value: "-1" });
    const error = el("pre", { class: "error", id: "wt-ex-error", role: "alert", hidden: "" });
    const svg = svgEl("svg", { id: "wt-ex-svg", class: "wt-svg", role: "img",
      "aria-label": "the expression's graph" });
    const stepBox = el("div", { class: "wt-step" });
    const result = el("p", { class: "wt-E", id: "wt-ex-result" });
    root.append(
      el("div", { class: "row" }, el("label", { class: "grow" }, "F(x, y) = ", expr),
        el("label", {}, "x ", x), el("label", {}, "y ", y),
        el("button", { type: "button", id: "wt-ex-go", text: "Build the graph" })),
      error,
      el("div", { class: "wt-main" }, el("div", { class: "wt-figure" }, result, svg, legend()),
        el("div", { class: "wt-side" }, stepControls(), stepBox)));
    panel.append(root);
    let data = null;
    const stepper = new Stepper(root, (st) => {
      drawGraph(svg, data, st);
      renderStep(stepBox, st);
      const done = st.pos >= st.F;
      const end = st.pos === st.total;
      result.replaceChildren("F = ", el("b", { text: done ? fmt(data.value) : "?" }),
        end ? `   ∂F/∂x = ${fmt(data.gradient.x)},  ∂F/∂y = ${fmt(data.gradient.y)}` : "");
    });
    async function build() {
      try {
        const reply = await chainrule.api("/api/walkthrough/expression",
          { expression: expr.value, x: parseFloat(x.value), y: parseFloat(y.value) });
        error.hidden = true;
        data = reply;
        stepper.set(reply, false);
      } catch (e) {
        data = null;
        svg.replaceChildren();
        stepBox.replaceChildren();
        result.replaceChildren();
        if (e.offline) return;
        error.textContent = e.column ? `${expr.value}\n${" ".repeat(e.column - 1)}^\n${e.message}`
          : e.message;
        error.hidden = false;
      }
    }
    root.querySelector("#wt-ex-go").addEventListener("click", build);
    expr.addEventListener("keydown", (ev) => { if (ev.key === "Enter") build(); });
    return { start: build, loaded: () => data !== null };
  }

  // --------------------------------------------------------------- the tab
  let views = null;

  function styles() {
    const old = document.querySelector('link[href="/static/walkthrough.css"]');
    if (old && old.sheet) return;
    if (old) old.remove();
    document.head.append(el("link", { rel: "stylesheet", href: "/static/walkthrough.css" }));
  }

  // The server answers again: load what could not be loaded while it was stopped.
  function online() {
    styles();
    if (views && !views.net.loaded()) views.net.start();
    if (views && views.exStarted() && !views.ex.loaded()) views.ex.start();
  }

  function init(panel) {
    styles();
    const modes = el("div", { class: "row wt-modes" },
      el("label", {}, el("input", { type: "radio", name: "wt-mode", value: "network",
        checked: "" }), " The text's network"),
      el("label", {}, el("input", { type: "radio", name: "wt-mode", value: "expression" }),
        " Your expression"));
    const intro = el("p", { class: "note", text: "Forward: each node's value from its inputs. "
      + "Backward: from the output to the inputs, each edge multiplies the gradient arriving "
      + "from above by its local derivative; where paths meet, the products add up." });
    panel.append(modes, intro);
    const net = networkView(panel);
    const ex = expressionView(panel);
    let exStarted = false;
    modes.addEventListener("change", (ev) => {
      const isNet = ev.target.value === "network";
      panel.querySelector("#wt-network").hidden = !isNet;
      panel.querySelector("#wt-expression").hidden = isNet;
      if (!isNet && !exStarted) {
        exStarted = true;
        ex.start();
      }
    });
    views = { net, ex, exStarted: () => exStarted };
    net.start();
  }

  chainrule.registerTab({ id: "walkthrough", title: "Back-propagation, step by step", init,
    online });
})();
