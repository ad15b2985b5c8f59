// Saving what the explorer shows: "Save PNG" writes the contour and the surface, laid out as
// on the page, as one PNG with a caption under it (the function, the point, ∇F, η, the
// legends with their keys and one key per descent path), and "Save path CSV" writes the
// descent paths, one row per point: optimizer, step, x, y, F, dF/dx, dF/dy — chainrule's
// numbers as the page received them (JavaScript's shortest round-trip form of each double,
// so nothing is rounded; an empty cell is a value that was not finite).
// It reads the page's state through window.chainrule.state (set by explorer.js), never
// writes it, and draws no plot of its own: the contour comes from Plotly.toImage, the
// contour's moving overlay (point, arrows, paths) from its SVG, and the 3-D view from the
// pixels its WebGL scene shows, so it does not depend on the data of the 3-D traces.
// The same file runs in an exported figure (explorer/export.py).
"use strict";

(function () {
  const cr = window.chainrule;
  const $ = (id) => document.getElementById(id);
  const FONT = 15, LINE = 21, PAD = 12, KEY = 26;

  function save(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // ------------------------------------------------------------------ the CSV
  const cell = (v) => (v === null || v === undefined ? "" : String(v));

  // The columns use the page's names: x, y and F, or the network's two weights and E.
  function names() {
    const net = cr.state.surf && cr.state.surf.network;
    return net ? [net.wx_label, net.wy_label].map((l) => l.split(":")[0]).concat("E")
      : ["x", "y", "F"];
  }

  function csv(paths) {
    const [a, b, F] = names();
    const rows = [["optimizer", "step", a, b, F, `d${F}/d${a}`, `d${F}/d${b}`].join(",")];
    for (const p of paths) {
      for (let k = 0; k < p.x.length; k++) {
        rows.push([p.method, k, p.x[k], p.y[k], p.E[k], p.gx[k], p.gy[k]].map(cell).join(","));
      }
    }
    return rows.join("\n") + "\n";
  }

  // ------------------------------------------------------------------ the caption
  const fmt = (v) => cr.fmt(v);  // as the page's readouts show numbers (explorer.js)

  // A caption line is a list of pieces: text, or a key drawn before the text that follows.
  function captionLines() {
    const S = cr.state, spec = S.spec || {}, net = S.surf.network, lines = [];
    // the page's names: x, y and F, or the two weights and E
    const [a, b, F] = names();
    if (net) {
      lines.push([`E of the 1-3-1 tanh network on "${spec.network.problem}" over the weights ` +
        `${net.wx_label} (across) and ${net.wy_label} (up), the others at their trained values.`]);
    } else if (cr.exported && cr.caption) {
      lines.push([cr.caption]);  // it starts with F(x, y) = …
    } else if (spec.expression) {
      lines.push([`F(x, y) = ${spec.expression}`]);
    }
    const i = S.info;
    if (i) {
      lines.push([`Point (${a}, ${b}) = (${fmt(i.x)}, ${fmt(i.y)}): ${F} = ${fmt(i.f)}, ` +
        `∇${F} = (${fmt(i.gx)}, ${fmt(i.gy)}), ‖∇${F}‖ = ${fmt(i.norm)}; η = ${fmt(S.eta)}, ` +
        `one step −η∇${F} = (${fmt(-S.eta * i.gx)}, ${fmt(-S.eta * i.gy)}).`]);
    }
    for (const [id, title] of [["contour-legend", "Contour:"], ["surface-legend", "Surface:"]]) {
      const line = [title];
      for (const li of $(id).querySelectorAll("li")) {
        const key = li.querySelector(".key");
        if (key) {
          const kind = key.classList[1], style = getComputedStyle(key);
          line.push({ kind, color: kind === "plane" ? style.backgroundColor : style.color });
        }
        line.push(li.textContent.trim() + ";");
      }
      lines.push(line);
    }
    if (S.paths.length) {
      const line = ["Descent paths:"];
      for (const p of S.paths) {
        const drawn = document.querySelector(`#ov-paths polyline[data-method="${p.method}"]`);
        line.push({ kind: "line", color: drawn ? drawn.getAttribute("stroke") : "#000" });
        line.push(`${p.label}, ${p.x.length - 1} steps${p.status === "diverged" ? ", diverged" : ""};`);
      }
      lines.push(line);
    }
    if (!$("scale-note").hidden) lines.push([$("scale-note").textContent.replace(/\s+/g, " ").trim()]);
    if (!cr.exported) lines.push(["Every number is chainrule's."]);  // (said in its caption)
    return lines;
  }

  function drawKey(ctx, key, x, y) {
    const mid = y + LINE / 2 - 2;
    ctx.save();
    ctx.strokeStyle = ctx.fillStyle = key.color;
    ctx.lineWidth = 3;
    if (key.kind === "dot") {
      ctx.beginPath();
      ctx.arc(x + 9, mid, 5, 0, 2 * Math.PI);
      ctx.fill();
    } else if (key.kind === "plane") {
      ctx.globalAlpha = 0.7;
      ctx.fillRect(x, mid - 5, 20, 10);
    } else {
      if (key.kind === "dash") ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(x, mid);
      ctx.lineTo(x + 20, mid);
      ctx.stroke();
      if (key.kind === "arrow") {
        ctx.setLineDash([]);
        ctx.beginPath();
        ctx.moveTo(x + 22, mid);
        ctx.lineTo(x + 15, mid - 5);
        ctx.lineTo(x + 15, mid + 5);
        ctx.fill();
      }
    }
    ctx.restore();
  }

  // Lay the caption out in `width` pixels: a list of rows of [x, piece] (pieces: words or keys).
  function layout(ctx, lines, width) {
    const rows = [];
    for (const line of lines) {
      let row = [], x = 0;
      const put = (piece, w) => {
        if (x > 0 && x + w > width) {
          rows.push(row);
          row = [];
          x = 0;
        }
        row.push([x, piece]);
        x += w;
      };
      for (const piece of line) {
        if (typeof piece === "string") {
          for (const word of piece.split(" ")) put(word, ctx.measureText(word + " ").width);
        } else {
          put(piece, KEY);
        }
      }
      rows.push(row);
    }
    return rows;
  }

  // ------------------------------------------------------------------ the figure
  const image = (src) => new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("a part of the figure could not be drawn"));
    img.src = src;
  });

  async function contourImage() {
    const gd = $("contour");
    const width = gd.clientWidth, height = gd.clientHeight;
    const parts = [{ img: await image(await Plotly.toImage(gd, { format: "png", width, height })),
      rect: gd.getBoundingClientRect() }];
    const svg = $("contour-overlay");
    if (svg && svg.style.display !== "none") {
      const r = svg.getBoundingClientRect();
      const clone = svg.cloneNode(true);
      clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
      clone.setAttribute("width", String(r.width));
      clone.setAttribute("height", String(r.height));
      clone.removeAttribute("style");
      clone.removeAttribute("class");
      const text = new XMLSerializer().serializeToString(clone);
      parts.push({ img: await image("data:image/svg+xml;charset=utf-8," + encodeURIComponent(text)),
        rect: r });
    }
    return parts;
  }

  // The 3-D view as its WebGL scene shows it (the pixels, not the traces' data).
  async function surfaceImage() {
    const gd = $("surface3d");
    const scene = gd._fullLayout && gd._fullLayout.scene && gd._fullLayout.scene._scene;
    if (!scene || typeof scene.toImage !== "function") throw new Error("the 3-D view is not drawn yet");
    const canvas = scene.glplot && scene.glplot.canvas;
    const rect = (canvas || gd).getBoundingClientRect();
    return [{ img: await image(scene.toImage("png")), rect }];
  }

  // Where each part goes: as on the page, except that plots stacked on a narrow page are
  // drawn one right under the other (without the legend between them).
  const box = (r, dy = 0) => ({ x: r.left, y: r.top + dy, w: r.width, h: r.height });

  async function png() {
    const c = await contourImage(), s = await surfaceImage();
    const cb = $("contour").getBoundingClientRect(), sb = $("surface3d").getBoundingClientRect();
    const dy = sb.top >= cb.bottom ? cb.bottom + PAD - sb.top : 0;
    const parts = [...c.map((p) => ({ img: p.img, ...box(p.rect) })),
      ...s.map((p) => ({ img: p.img, ...box(p.rect, dy) }))];
    const left = Math.min(...parts.map((p) => p.x)), top = Math.min(...parts.map((p) => p.y));
    const width = Math.round(Math.max(...parts.map((p) => p.x + p.w)) - left);
    const height = Math.round(Math.max(...parts.map((p) => p.y + p.h)) - top);
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d");
    const font = `${FONT}px sans-serif`;
    ctx.font = font;
    const lines = captionLines();
    const rows = layout(ctx, lines, width - 2 * PAD);
    canvas.width = width;
    canvas.height = height + 2 * PAD + rows.length * LINE;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    for (const p of parts) ctx.drawImage(p.img, p.x - left, p.y - top, p.w, p.h);
    ctx.font = font;
    ctx.textBaseline = "top";
    rows.forEach((row, k) => {
      const y = height + PAD + k * LINE;
      for (const [x, piece] of row) {
        if (typeof piece === "string") {
          ctx.fillStyle = "#222";
          ctx.fillText(piece, PAD + x, y);
        } else {
          drawKey(ctx, piece, PAD + x, y);
        }
      }
    });
    // what was drawn where, for the tests
    cr.saved = { width: canvas.width, height: canvas.height, figureHeight: height,
      caption: lines.map((l) => l.filter((p) => typeof p === "string").join(" ")),
      plots: { contour: box(cb), surface3d: box(sb, dy) } };
    for (const b of Object.values(cr.saved.plots)) Object.assign(b, { x: b.x - left, y: b.y - top });
    return new Promise((resolve, reject) => canvas.toBlob(
      (b) => (b ? resolve(b) : reject(new Error("the browser could not encode the PNG"))), "image/png"));
  }

  // ------------------------------------------------------------------ why not (yet)
  const OFFLINE = "The server is not answering, so the page may not show the current numbers; " +
    "start it again (chainrule explore) and save then.";

  function pngProblem() {
    const S = cr.state;
    if (!S || !S.surf || !$("contour")._fullLayout) return "Nothing to save yet: plot a function first.";
    if (cr.offline || S.stale) return OFFLINE;
    return null;
  }

  function csvProblem() {
    const S = cr.state, panel = $("descent-panel");
    if (panel.dataset.state === "running") return "A run is still going: save its paths when it is done.";
    if (panel.dataset.state === "error") {
      return `No paths to save: the last run failed (${$("descent-msg").textContent.trim()}).`;
    }
    if (!S || !S.paths.length) return "No descent path yet: press “Run from the point” first.";
    return null;
  }

  function say(text, error) {
    const el = $("save-msg");
    el.textContent = text;
    el.className = error ? "error" : "note";
  }

  function wire() {
    const views = document.querySelector('[data-tab="explorer"] .views');
    if (!views || $("save-png")) return;
    const row = document.createElement("div");
    row.className = "row save-row";
    row.innerHTML = '<button id="save-png" type="button" title="the contour and the surface ' +
      'with a caption, as one PNG file">Save PNG</button> <button id="save-csv" type="button" ' +
      'title="the descent paths as a CSV file: optimizer, step, x, y, F, dF/dx, dF/dy">Save ' +
      'path CSV</button> <span id="save-msg" class="note" role="status"></span>';
    views.after(row);
    let busy = false;
    $("save-png").addEventListener("click", async () => {
      const problem = pngProblem();
      if (problem) return say(problem, true);
      if (busy) return;
      busy = true;
      say("Drawing the PNG…");
      try {
        save(await png(), "chainrule-figure.png");
        say("Saved chainrule-figure.png.");
      } catch (err) {
        say(`Could not save the PNG: ${err.message || err}.`, true);
      } finally {
        busy = false;
      }
    });
    $("save-csv").addEventListener("click", () => {
      const problem = csvProblem();
      if (problem) return say(problem, true);
      save(new Blob([csv(cr.state.paths)], { type: "text/csv" }), "chainrule-paths.csv");
      say("Saved chainrule-paths.csv.");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
