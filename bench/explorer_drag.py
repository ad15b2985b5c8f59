"""How fast the explorer follows a continuous drag, in headless Chromium (software WebGL).

    python bench/explorer_drag.py [--seconds 4] [--repeat 3] [--chromium /usr/bin/chromium]

Starts the explorer on 127.0.0.1, holds the mouse down on the contour plot and moves it in
a circle as fast as Playwright delivers moves, and counts what the page redrew meanwhile
(counters the page keeps in ``chainrule.stats``):

- *contour*: new answers from the server drawn on the contour (readouts, the point's
  arrows), per second;
- *3-D*: updates of the surface view's moving traces (the black point, its floor mapping,
  the arrows, the tangent plane), per second: during a drag nearly all are drawn on the 2-D
  overlay over the WebGL scene;
- *scene*: frames of the WebGL scene drawn for them (one to hide the marks when the drag
  begins, one to put them back when it ends), per second.

Each run is done twice in the same browser: with the 3-D view on screen and, as the
reference, with it hidden (``display: none``), so the cost the 3-D view adds is the ratio.
Medians over ``--repeat`` runs. The browser flags are the browser tests' (no GPU).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "explorer"))

from browser import ARGS  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from chainrule.explorer.server import BackgroundServer  # noqa: E402

COUNTS = "() => Object.assign({}, chainrule.stats)"


def drag(page, seconds: float) -> dict:
    box = page.evaluate("""() => {
        const gd = document.getElementById('contour'), r = gd.getBoundingClientRect();
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return [r.left + xa._offset + xa._length / 2, r.top + ya._offset + ya._length / 2,
                0.3 * Math.min(xa._length, ya._length)]; }""")
    cx, cy, radius = box
    page.mouse.move(cx + radius, cy)
    page.mouse.down()
    page.wait_for_timeout(300)
    before = page.evaluate(COUNTS)
    t0 = time.perf_counter()
    moves = 0
    while time.perf_counter() - t0 < seconds:
        a = 2 * math.pi * (time.perf_counter() - t0) / 2.0  # one turn every 2 s
        page.mouse.move(cx + radius * math.cos(a), cy + radius * math.sin(a))
        moves += 1
    elapsed = time.perf_counter() - t0
    after = page.evaluate(COUNTS)
    page.mouse.up()
    page.wait_for_timeout(500)
    rate = {k: (after[k] - before[k]) / elapsed for k in after}
    rate["moves"] = moves / elapsed
    return rate


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args(argv)
    with BackgroundServer() as srv, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": 1100})
        page.set_default_timeout(120_000)
        page.goto(srv.url)
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_timeout(1500)
        renderer = page.evaluate("""() => { const gl = document.createElement('canvas')
            .getContext('webgl'); const i = gl && gl.getExtension('WEBGL_debug_renderer_info');
            return i ? gl.getParameter(i.UNMASKED_RENDERER_WEBGL) : String(gl); }""")
        print(f"WebGL renderer: {renderer}")
        results = {}
        for label, hidden in (("3-D view on screen", False), ("3-D view hidden", True)):
            page.evaluate("h => { document.getElementById('surface3d').closest('.view')"
                          ".style.display = h ? 'none' : ''; }", hidden)
            page.wait_for_timeout(800)
            runs = [drag(page, args.seconds) for _ in range(args.repeat)]
            results[label] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        browser.close()
    print(f"{'continuous drag, updates/s (median of ' + str(args.repeat) + ')':44} "
          f"{'contour':>8} {'3-D':>6} {'scene':>6} {'moves':>7}")
    for label, r in results.items():
        print(f"{label:44} {r['point']:8.1f} {r['surface3d']:6.1f} {r['scene3d']:6.1f} "
              f"{r['moves']:7.1f}")
    on, off = results["3-D view on screen"], results["3-D view hidden"]
    if off["point"] > 0:
        ratio = on["point"] / off["point"]
        print(f"contour rate with the 3-D view on screen / hidden: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
