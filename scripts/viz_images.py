"""Make the README's pictures of back-propagation from the real code.

    python scripts/viz_images.py [--out docs/images]

writes ``graph.svg`` (``cr.viz.draw_graph`` of the text's 1-3-1 tanh network's error on one
Figure 5.3 point), ``graph_grouped.svg`` (a recurrent network unrolled over 600 steps, grouped) and
``walkthrough.png`` (the explorer's walkthrough tab in headless Chromium, in the middle of
the backward pass). Needs Graphviz's ``dot``, and for the screenshot Playwright with
Chromium (``CHAINRULE_CHROMIUM``, default ``/usr/bin/chromium``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import numpy as np

import chainrule as cr

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def text_network_graph(out: Path) -> Path:
    rng = np.random.default_rng(0)
    model = cr.nn.Sequential(cr.nn.Linear(1, 3, generator=rng), cr.nn.Tanh(),
                             cr.nn.Linear(3, 1, generator=rng))
    x, t = cr.data.figure_5_3("sin", n=50, seed=0)
    d = model(cr.tensor(x[:1])) - cr.tensor(t[:1])
    E = 0.5 * (d * d).sum()  # the text's E = ½ Σ (y − t)², the residual used twice
    E.name = "E"
    return cr.viz.draw_graph(E).save(out / "graph.svg")


def grouped_graph(out: Path) -> Path:
    """A small recurrent network unrolled over 600 steps: about 5,400 nodes."""
    rng = np.random.default_rng(1)
    net = cr.nn.Module()
    net.encoder = cr.nn.Linear(2, 8, generator=rng)
    net.cell = cr.nn.Linear(8, 8, generator=rng)
    net.readout = cr.nn.Linear(8, 1, generator=rng)
    xs = rng.normal(size=(600, 4, 2))
    h = cr.zeros((4, 8))
    for x in xs:
        h = cr.tanh(net.cell(h) + net.encoder(cr.tensor(x)))
    loss = ((net.readout(h) - 1.0) ** 2).mean()
    loss.name = "loss"
    g = cr.viz.draw_graph(loss, max_nodes=40)
    print(f"  {g.total} nodes drawn as {len(g.nodes)} boxes (level {g.level!r})")
    return g.save(out / "graph_grouped.svg")


def walkthrough_screenshot(out: Path) -> Path | None:
    chromium = os.environ.get("CHAINRULE_CHROMIUM", "/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("  skipped walkthrough.png: Playwright is not installed", file=sys.stderr)
        return None
    if not (os.path.exists(chromium) or shutil.which(chromium)):
        print(f"  skipped walkthrough.png: no Chromium at {chromium}", file=sys.stderr)
        return None
    from chainrule.explorer.server import BackgroundServer

    path = out / "walkthrough.png"
    with BackgroundServer("127.0.0.1", 0) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(server.url + "#walkthrough")
        page.wait_for_selector("#wt-net-svg .wt-node")
        page.click("#wt-network .wt-fwd")
        # E, y1, y2, the second-layer weights, z1, then z2: two paths meet at z2
        for _ in range(6):
            page.click("#wt-network .wt-next")
        page.locator("#wt-network .wt-main").screenshot(path=str(path))
        browser.close()
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for make in (text_network_graph, grouped_graph, walkthrough_screenshot):
        path = make(args.out)
        if path is not None:
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
