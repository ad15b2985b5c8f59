// The third source of the explorer's drawing layer: an exported file (explorer/export.py).
// It answers the requests explorer.js makes, with no server, from the numbers chainrule
// computed at export time and stored in <script id="chainrule-data">: F and ∇F on the
// grid's nodes (the point snaps to the nearest one, so every value shown is chainrule's),
// and the descent paths from the exported start point.
"use strict";

(function () {
  const D = JSON.parse(document.getElementById("chainrule-data").textContent);
  const cr = window.chainrule;
  const s = D.surface;
  cr.exported = true;
  cr.sharable = false;
  cr.initialQuery = new URLSearchParams(D.query);
  cr.caption = D.caption;

  const node = (axis, v) => {
    const i = Math.round((v - axis[0]) / (axis[1] - axis[0]));
    return Math.min(Math.max(i, 0), axis.length - 1);
  };
  cr.snap = (x, y) => ({ x: s.x[node(s.x, x)], y: s.y[node(s.y, y)] });

  function point(b) {
    const j = node(s.x, b.x), i = node(s.y, b.y);
    const f = s.z[i][j], gx = s.gx[i][j], gy = s.gy[i][j];
    const finite = f !== null && gx !== null && gy !== null;
    const norm = finite ? Math.hypot(gx, gy) : null;
    const out = { x: s.x[j], y: s.y[i], f, gx, gy, norm, finite, ms: 0,
      angle: finite ? (Math.atan2(gy, gx) * 180) / Math.PI : null };
    if (b.direction !== undefined && b.direction !== null) {
      const phi = (b.direction * Math.PI) / 180, ux = Math.cos(phi), uy = Math.sin(phi);
      out.direction = b.direction;
      out.directional = finite ? gx * ux + gy * uy : null;
      out.theta = finite && norm > 0
        ? (Math.acos(Math.max(-1, Math.min(1, (gx * ux + gy * uy) / norm))) * 180) / Math.PI : null;
    }
    if (!finite) out.message = `F or its gradient is not finite at (${out.x}, ${out.y}).`;
    return out;
  }

  function descent(b) {
    const d = D.descent;
    const same = b.x === d.x && b.y === d.y && b.lr === d.lr && b.steps === d.steps;
    const paths = d.paths.filter((p) => b.methods.includes(p.method));
    if (!same || paths.length !== b.methods.length) {
      const have = d.paths.map((p) => p.method).join(", ");
      throw new Error(`This exported figure holds the descent paths of ${have} from ` +
        `(${d.x}, ${d.y}) with η = ${d.lr} and ${d.steps} steps, computed when it was ` +
        "written; with the point, η, steps and methods as they were, Run shows them.");
    }
    return { paths, message: d.message, curvature: null, ms: 0 };
  }

  cr.api = async (path, body) => {
    if (path === "/api/catalog") return D.catalog;
    if (path === "/api/surface") return s;
    if (path === "/api/point") return point(body);
    if (path === "/api/descent") return descent(body);
    const err = new Error("Not in an exported figure (it has no server).");
    err.unavailable = true;
    throw err;
  };
})();
