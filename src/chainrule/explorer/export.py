"""A figure to put in your own page: the explorer as one self-contained HTML file.

``chainrule export-figure "x^2 + 3*y^2" --out figure.html`` (or :func:`export_html`) writes
one file with every script inlined (the explorer's own and the ``plotly.min.js`` the plotly
package ships) and no server behind it: it opens from disk, in a blog or in slides, and
makes no network request (its Content-Security-Policy forbids any).

It is the same page as ``chainrule explore`` — the same drawing code, ``static/explorer.js``
— fed by a third source: numbers chainrule computed at export time and stored in the file.
``static/export.js`` answers the page's requests from them: F and ∇F on the grid (the
draggable point snaps to its nodes, so every value shown is chainrule's own), and the
descent paths from the exported start point with the exported η.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
from pathlib import Path

from ..errors import UserError

HELP = "write the explorer's figure for one F(x, y) as a self-contained HTML file (no server)"
DEFAULT_GRID = 101
MAX_GRID = 201


def _resolve(function: str):
    """(expression, domain, start, lr) for a preset name or expression text."""
    from .functions import BY_NAME, PRESETS

    preset = BY_NAME.get(function) or next(
        (p for p in PRESETS if p.expression.replace(" ", "") == function.replace(" ", "")), None)
    if preset is not None:
        return preset.expression, tuple(map(float, preset.domain)), preset.start, preset.lr, preset
    from .app import DEFAULT_DOMAIN

    return function, DEFAULT_DOMAIN, (1.0, 1.0), 0.1, None


def export_data(function: str = "x^2 + 3*y^2", *, x: float | None = None,
                y: float | None = None, eta: float | None = None,
                methods: tuple[str, ...] | list[str] = ("gd",), steps: int = 100,
                grid: int = DEFAULT_GRID) -> dict:
    """The numbers an exported figure holds, all computed here by chainrule.

    Returns a dict with ``catalog``, ``surface`` (F and ∇F on ``grid``×``grid`` nodes),
    ``descent`` (paths from the start), ``query`` (the page state to open with) and
    ``caption``.
    """
    from . import compute, descent, explain
    from .app import catalog
    from .parser import compile_expression
    from .schemas import MAX_STEPS

    if not isinstance(grid, int) or not 2 <= grid <= MAX_GRID:
        raise UserError(f"grid must be a whole number from 2 to {MAX_GRID}, got {grid!r}")
    if not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise UserError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
    unknown = [m for m in methods if m not in descent.METHODS]
    if unknown or not methods:
        raise UserError(f"methods must be some of {', '.join(descent.METHODS)}; got "
                        f"{', '.join(methods) or 'none'}")
    expression, domain, start, lr, preset = _resolve(function)
    eta = lr if eta is None else eta
    if not (isinstance(eta, (int, float)) and 0 < eta <= 100 and math.isfinite(eta)):
        raise UserError(f"eta must be a number above 0 and at most 100, got {eta!r}")
    f = compile_expression(expression)
    surface = compute.surface(f, domain, grid, gradient=True)
    surface["domain"] = domain
    surface["ms"] = 0.0
    # the start, on the grid's nearest node (the point the page snaps to)
    sx = start[0] if x is None else x
    sy = start[1] if y is None else y
    xs, ys = surface["x"], surface["y"]
    sx = min(xs, key=lambda v: abs(v - sx))
    sy = min(ys, key=lambda v: abs(v - sy))
    methods = list(dict.fromkeys(methods))
    paths = [descent.run(f, (sx, sy), m, float(eta), steps) for m in methods]
    message = explain.explain(f, paths, float(eta))
    for p in paths:
        for key in ("x", "y", "E", "gx", "gy"):
            p[key] = compute.finite_or_none(p[key])
    query = {"f": expression, "x": repr(sx), "y": repr(sy), "eta": repr(float(eta)),
             "steps": str(steps), "opt": ",".join(methods)}
    if preset is not None:
        query = dict(query, preset=preset.name)
        del query["f"]
    caption = (f"F(x, y) = {expression}. Every number is chainrule's, computed when this file "
               f"was written, on a {grid}×{grid} grid over x ∈ [{domain[0]:g}, {domain[1]:g}], "
               f"y ∈ [{domain[2]:g}, {domain[3]:g}]: the point snaps to its nodes. Descent "
               f"paths start at ({sx:.4g}, {sy:.4g}) with η = {eta:g}.")
    return {"catalog": catalog(), "surface": surface, "query": query, "caption": caption,
            "descent": {"x": sx, "y": sy, "lr": float(eta), "steps": steps, "paths": paths,
                        "message": message}}


def _inline_script(text: str) -> str:
    # a script's text may not contain "</script"; JSON and JS both allow "<\/"
    return "<script>" + text.replace("</script", "<\\/script") + "</script>"


def export_html(function: str = "x^2 + 3*y^2", out: str | os.PathLike | None = None,
                **options) -> str:
    """The explorer's figure for ``function`` (a preset name or an expression) as one HTML
    file's text; written to ``out`` too when given.

    Options are those of :func:`export_data`: ``x``, ``y`` (the start point), ``eta``,
    ``methods``, ``steps`` and ``grid``.
    """
    from .app import STATIC, plotly_js_path

    data = export_data(function, **options)
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    css = (STATIC / "explorer.css").read_text(encoding="utf-8")
    page = page.replace('<link rel="stylesheet" href="/static/explorer.css">',
                        f"<style>{css}</style>")
    page = page.replace('  <script src="/vendor/plotly.min.js" defer></script>\n', "")
    page = page.replace('  <script src="/static/tabs.js" defer></script>\n', "")
    csp = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
           "img-src data: blob:; worker-src blob:; font-src data:")
    page = page.replace('<meta charset="utf-8">', '<meta charset="utf-8">\n  <meta '
                        f'http-equiv="Content-Security-Policy" content="{csp}">')
    page = page.replace("<title>chainrule explorer</title>",
                        f"<title>{html.escape(data['query'].get('f') or function)} — chainrule"
                        "</title>")
    payload = json.dumps(data, allow_nan=False, separators=(",", ":"))
    scripts = "\n".join([
        '<script type="application/json" id="chainrule-data">'
        + payload.replace("</", "<\\/") + "</script>",
        _inline_script(plotly_js_path().read_text(encoding="utf-8")),
        _inline_script((STATIC / "tabs.js").read_text(encoding="utf-8")),
        _inline_script((STATIC / "export.js").read_text(encoding="utf-8")),
        _inline_script((STATIC / "explorer.js").read_text(encoding="utf-8")),
        _inline_script((STATIC / "download.js").read_text(encoding="utf-8")),
    ])
    # at the end of the body: inline scripts run at once, and they expect the page's elements
    page = page.replace("<!-- TAB_SCRIPTS -->\n", "").replace("</body>", scripts + "\n</body>")
    if out is not None:
        Path(out).write_text(page, encoding="utf-8")
    return page


# ----------------------------------------------------------------------------- the command
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("function", help='a preset name (elongated, saddle, ...) or F(x, y) '
                        'in the explorer\'s grammar, e.g. "x^2 + 3*y^2"')
    parser.add_argument("--out", default="figure.html", help="file to write (figure.html)")
    parser.add_argument("--x", type=float, help="start point's x (default: the preset's)")
    parser.add_argument("--y", type=float, help="start point's y")
    parser.add_argument("--eta", type=float, help="step size η (default: the preset's or 0.1)")
    parser.add_argument("--methods", default="gd",
                        help="comma list of gd,momentum,nesterov,rmsprop,adam (default gd)")
    parser.add_argument("--steps", type=int, default=100, help="descent steps (default 100)")
    parser.add_argument("--grid", type=int, default=DEFAULT_GRID,
                        help=f"grid nodes per axis (default {DEFAULT_GRID}, at most {MAX_GRID})")


def run(args: argparse.Namespace) -> int:
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    text = export_html(args.function, args.out, x=args.x, y=args.y, eta=args.eta,
                       methods=methods, steps=args.steps, grid=args.grid)
    size = len(text.encode("utf-8"))
    print(f"wrote {args.out} ({size / 1e6:.1f} MB, self-contained: open it from disk)")
    return 0
